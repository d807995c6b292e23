package tenants

import (
	"regexp"
	"slices"

	"gatehouse/apperr"
)

// registeredClaims are the claim names the JWT, OpenID Connect Core
// (standard claims, id_token claims), Back-Channel Logout and RFC 9068
// define, and a few others issuers commonly set. A registration field may
// not release its value under one of them: a relying party would take a
// customer's answer for the provider's statement (an "email_verified" or an
// "iss" of the customer's choosing).
var registeredClaims = map[string]bool{
	// RFC 7519.
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	// OpenID Connect Core §2 and §3.1.3.6.
	"auth_time": true, "nonce": true, "acr": true, "amr": true, "azp": true, "at_hash": true, "c_hash": true,
	// OpenID Connect Core §5.1, the standard claims.
	"name": true, "given_name": true, "family_name": true, "middle_name": true, "nickname": true,
	"preferred_username": true, "profile": true, "picture": true, "website": true, "email": true,
	"email_verified": true, "gender": true, "birthdate": true, "zoneinfo": true, "locale": true,
	"phone_number": true, "phone_number_verified": true, "address": true, "updated_at": true,
	// Sessions and logout, RFC 9068, RFC 8693, RFC 7800.
	"sid": true, "events": true, "scope": true, "client_id": true, "act": true, "may_act": true, "cnf": true,
	"typ": true, "roles": true, "groups": true, "entitlements": true, "sub_jwk": true, "_claim_names": true, "_claim_sources": true,
}

// standardScopes are the scopes OpenID Connect and Gatehouse define; a
// field's scope must be a new one.
var standardScopes = []string{"openid", "profile", "email", "phone", "address", "offline_access"}

var (
	claimPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	scopePattern = regexp.MustCompile(`^[a-z][a-z0-9_.:-]{0,39}$`)
)

// IsRegisteredClaim reports whether name is a claim the provider itself
// defines, which no registration field may release.
func IsRegisteredClaim(name string) bool { return registeredClaims[name] }

// checkClaim validates the claim a field is released under and the scope
// that releases it. The errors name the form field they concern.
func (f Field) checkClaim() error {
	if f.Claim == "" && f.ClaimScope == "" {
		return nil
	}
	if f.Claim == "" {
		return apperr.Field("claim", "name the claim that carries %q to apps, or clear the scope", f.Key)
	}
	if !claimPattern.MatchString(f.Claim) {
		return apperr.Field("claim", "%q must start with a letter and hold only a-z, 0-9 and _ (at most 40)", f.Claim)
	}
	if registeredClaims[f.Claim] {
		return apperr.Field("claim", "%q is a registered OpenID Connect claim; pick a name of your own, such as %s", f.Claim, suggestion(f))
	}
	if f.ClaimScope == "" {
		return apperr.Field("claim_scope", "name the scope an app asks for to receive %q", f.Claim)
	}
	if !scopePattern.MatchString(f.ClaimScope) {
		return apperr.Field("claim_scope", "%q must start with a letter and hold only a-z, 0-9 and _ . : - (at most 40)", f.ClaimScope)
	}
	if slices.Contains(standardScopes, f.ClaimScope) {
		return apperr.Field("claim_scope", "%q is a standard scope; pick a scope of your own, such as %s", f.ClaimScope, "brand_profile")
	}
	return nil
}

func suggestion(f Field) string {
	if f.Key != f.Claim && !registeredClaims[f.Key] {
		return f.Key
	}
	return "brand_" + f.Claim
}

// CustomScope is one scope a tenant's registration fields define, with
// the fields it releases.
type CustomScope struct {
	Name   string
	Fields []Field
}

// CustomScopes lists the scopes the tenant's fields define, in field order.
func (t *Tenant) CustomScopes() []CustomScope {
	var out []CustomScope
	for _, f := range t.Fields {
		if f.Claim == "" || f.ClaimScope == "" {
			continue
		}
		i := slices.IndexFunc(out, func(s CustomScope) bool { return s.Name == f.ClaimScope })
		if i < 0 {
			out = append(out, CustomScope{Name: f.ClaimScope})
			i = len(out) - 1
		}
		out[i].Fields = append(out[i].Fields, f)
	}
	return out
}

// HasCustomScope reports whether one of the tenant's fields is released by
// scope.
func (t *Tenant) HasCustomScope(scope string) bool {
	return slices.ContainsFunc(t.Fields, func(f Field) bool { return f.Claim != "" && f.ClaimScope == scope })
}
