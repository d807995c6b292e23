package oidc

import (
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"gatehouse/app/accounts"
	"gatehouse/tenants"
)

// setFieldClaims releases the customer's registration-field values that
// the tenant maps to claims, each only when its scope was granted. The
// fields are the request's tenant's: a field of another tenant, even with
// the same key, is never consulted.
func setFieldClaims(info *oidc.UserInfo, t *tenants.Tenant, c *accounts.Customer, scopes []string) {
	if t == nil || c == nil {
		return
	}
	for _, f := range t.Fields {
		if f.Claim == "" || f.ClaimScope == "" || tenants.IsRegisteredClaim(f.Claim) || !slices.Contains(scopes, f.ClaimScope) {
			continue
		}
		v, ok := c.Profile[f.Key]
		if !ok || v == nil || v == "" {
			continue
		}
		info.AppendClaims(f.Claim, v)
	}
}

// scopeDescription is how the consent page names a scope the tenant's
// fields define: the labels of the fields it releases.
func scopeDescription(t *tenants.Tenant, scope string) (string, bool) {
	for _, cs := range t.CustomScopes() {
		if cs.Name != scope {
			continue
		}
		labels := make([]string, 0, len(cs.Fields))
		for _, f := range cs.Fields {
			labels = append(labels, "“"+f.Label+"”")
		}
		return "your answers to " + strings.Join(labels, ", "), true
	}
	return "", false
}

// standardClaims are the claims Gatehouse's standard scopes release, plus
// the id_token's own, for discovery's claims_supported.
var standardClaims = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid", "at_hash", "c_hash",
	"email", "email_verified", "name", "given_name", "family_name", "birthdate", "updated_at", "phone_number",
}

// discoveryScopesAndClaims are what discovery lists on t's host: the
// standard scopes and claims, then the tenant's own.
func discoveryScopesAndClaims(t *tenants.Tenant, scopes []string) ([]string, []string) {
	outScopes := slices.Clone(scopes)
	outClaims := slices.Clone(standardClaims)
	for _, cs := range t.CustomScopes() {
		if !slices.Contains(outScopes, cs.Name) {
			outScopes = append(outScopes, cs.Name)
		}
		for _, f := range cs.Fields {
			if !slices.Contains(outClaims, f.Claim) {
				outClaims = append(outClaims, f.Claim)
			}
		}
	}
	return outScopes, outClaims
}
