package oidc

import (
	"context"
	"net/http"
	"slices"
	"time"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"gatehouse/apperr"
)

// tokenGrants answers the token endpoint's three grants so that access
// tokens carry the JOSE header typ "at+jwt" (RFC 9068 §2.1) while
// id_tokens keep "JWT". op signs every JWT through op.SignerFromKey, which
// fixes typ to "JWT", and offers no other signer for access tokens.
//
// Only the minting differs from op's own handlers: the requests are
// parsed and validated by the same exported op functions op's token
// endpoint calls (client authentication, PKCE, the code's client and
// redirect_uri, the refresh token's client and scopes, client_credentials
// scopes), the rows are created through the same Storage methods (single
// use codes, refresh rotation and reuse detection live there), and the
// id_token is op.CreateIDToken's, computed over our access token so that
// at_hash matches. It runs as an op interceptor, inside op's router, so
// op's CORS policy and issuer apply unchanged, and every other grant or
// endpoint goes on to op.
type tokenGrants struct {
	op      *op.Provider // set once New has built it
	storage *Storage
}

// intercept is the op.HttpInterceptor that takes the token endpoint's
// code, refresh_token and client_credentials grants.
func (g *tokenGrants) intercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != TokenPath {
			next.ServeHTTP(w, r)
			return
		}
		var resp *oidc.AccessTokenResponse
		var err error
		switch oidc.GrantType(r.FormValue("grant_type")) {
		case oidc.GrantTypeCode:
			resp, err = g.codeExchange(r)
		case oidc.GrantTypeRefreshToken:
			resp, err = g.refreshExchange(r)
		case oidc.GrantTypeClientCredentials:
			resp, err = g.clientCredentialsExchange(r)
		default:
			next.ServeHTTP(w, r) // op refuses the grants we do not offer
			return
		}
		if apperr.Unreachable(err) {
			// The database is away for a moment: a client may retry, so
			// this is not op's server_error (a 500).
			w.Header().Set("Retry-After", "5")
			httphelper.MarshalJSONWithStatus(w, map[string]string{
				"error":             "temporarily_unavailable",
				"error_description": "The service is briefly unavailable. Try again in a few seconds.",
			}, http.StatusServiceUnavailable)
			return
		}
		if err != nil {
			op.RequestError(w, r, err, nil)
			return
		}
		httphelper.MarshalJSON(w, resp)
	})
}

// codeExchange is the authorization_code grant (op.CodeExchange's checks).
func (g *tokenGrants) codeExchange(r *http.Request) (*oidc.AccessTokenResponse, error) {
	req, err := op.ParseAccessTokenRequest(r, g.op.Decoder())
	if err != nil {
		return nil, err
	}
	if req.Code == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code missing")
	}
	authReq, client, err := op.ValidateAccessTokenRequest(r.Context(), req, g.op)
	if err != nil {
		return nil, err
	}
	return g.tokenResponse(r.Context(), authReq, client, req.Code, "")
}

// refreshExchange is the refresh_token grant (op.RefreshTokenExchange's
// checks).
func (g *tokenGrants) refreshExchange(r *http.Request) (*oidc.AccessTokenResponse, error) {
	req, err := op.ParseRefreshTokenRequest(r, g.op.Decoder())
	if err != nil {
		return nil, err
	}
	refresh, client, err := op.ValidateRefreshTokenRequest(r.Context(), req, g.op)
	if err != nil {
		return nil, err
	}
	return g.tokenResponse(r.Context(), refresh, client, "", req.RefreshToken)
}

// clientCredentialsExchange is a machine app's own token, with no id_token
// and no refresh token (op.ClientCredentialsExchange's checks).
func (g *tokenGrants) clientCredentialsExchange(r *http.Request) (*oidc.AccessTokenResponse, error) {
	req, err := op.ParseClientCredentialsRequest(r, g.op.Decoder())
	if err != nil {
		return nil, err
	}
	tokenReq, client, err := op.ValidateClientCredentialsRequest(r.Context(), req, g.op)
	if err != nil {
		return nil, err
	}
	access, _, validity, err := g.accessToken(r.Context(), tokenReq, client, "")
	if err != nil {
		return nil, err
	}
	return &oidc.AccessTokenResponse{
		AccessToken: access, TokenType: oidc.BearerToken, ExpiresIn: uint64(validity.Seconds()), Scope: tokenReq.GetScopes(),
	}, nil
}

// tokenResponse issues the access token (and a refresh token when the
// grant gets one), then the id_token over it, and forgets a redeemed
// authorization request, as op.CreateTokenResponse does.
func (g *tokenGrants) tokenResponse(ctx context.Context, req op.IDTokenRequest, client op.Client, code, refreshToken string) (*oidc.AccessTokenResponse, error) {
	access, newRefresh, validity, err := g.accessToken(ctx, req, client, refreshToken)
	if err != nil {
		return nil, err
	}
	idToken, err := op.CreateIDToken(ctx, op.IssuerFromContext(ctx), req, client.IDTokenLifetime(), access, code, g.storage, client)
	if err != nil {
		return nil, err
	}
	if authReq, ok := req.(op.AuthRequest); ok {
		if err := g.storage.DeleteAuthRequest(ctx, authReq.GetID()); err != nil {
			return nil, err
		}
	}
	return &oidc.AccessTokenResponse{
		AccessToken: access, IDToken: idToken, RefreshToken: newRefresh, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(validity.Seconds()), Scope: req.GetScopes(),
	}, nil
}

// accessToken records the token (and its refresh token when the grant
// gets one) and signs its RFC 9068 claims as an at+jwt. Every app's access
// tokens are JWTs (client.AccessTokenType).
func (g *tokenGrants) accessToken(ctx context.Context, req op.TokenRequest, client op.Client, refreshToken string) (string, string, time.Duration, error) {
	var id, newRefresh string
	var exp time.Time
	var err error
	if withRefreshToken(req, client) {
		id, newRefresh, exp, err = g.storage.CreateAccessAndRefreshTokens(ctx, req, refreshToken)
	} else {
		id, exp, err = g.storage.CreateAccessToken(ctx, req)
	}
	if err != nil {
		return "", "", 0, err
	}
	claims := oidc.NewAccessTokenClaims(op.IssuerFromContext(ctx), req.GetSubject(), req.GetAudience(), exp, id, client.GetID(), client.ClockSkew())
	// RFC 9068's scope claim, in the claims' own field: extra Claims would
	// cost every access token a second JSON encoding and a decoding
	// (oidc.AccessTokenClaims.MarshalJSON merges them in). The field is
	// omitted when empty, where GetPrivateClaimsFromScopes says "".
	if scopes := withoutUserinfoScopes(client.RestrictAdditionalAccessTokenScopes()(req.GetScopes())); len(scopes) > 0 {
		claims.Scopes = scopes
	} else if claims.Claims, err = g.storage.GetPrivateClaimsFromScopes(ctx, req.GetSubject(), client.GetID(), scopes); err != nil {
		return "", "", 0, err
	}
	jwt, err := g.storage.signAccessToken(ctx, claims)
	if err != nil {
		return "", "", 0, err
	}
	return jwt, newRefresh, exp.Add(client.ClockSkew()).Sub(g.storage.now()), nil
}

// withRefreshToken is whether the grant also gets a refresh token: a code
// whose request asked for offline_access, from an app allowed the refresh
// grant, and every refresh (it rotates). client_credentials never does.
func withRefreshToken(req op.TokenRequest, client op.Client) bool {
	switch r := req.(type) {
	case op.AuthRequest:
		return slices.Contains(r.GetScopes(), oidc.ScopeOfflineAccess) && r.GetResponseType() == oidc.ResponseTypeCode &&
			op.ValidateGrantType(client, oidc.GrantTypeRefreshToken)
	case op.RefreshTokenRequest:
		return true
	}
	return false
}

// withoutUserinfoScopes drops the scopes that only release claims: the
// access token's scope claim names what it grants at resource servers, as
// op's own access tokens did.
func withoutUserinfoScopes(scopes []string) []string {
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool {
		switch s {
		case oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeAddress, oidc.ScopePhone:
			return true
		}
		return false
	})
}
