package oidc

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

// Userinfo is /oauth/userinfo. op parses the request (the bearer token
// from the header or the form), and our own VerifyAccessToken checks the
// token, as the JSON API does: its signature against the tenant's keys
// (once per token: verifiedTokens), then its row, its app and its customer
// in two queries, where op's path took three and a signature check every
// time. A dead token (expired, revoked, another tenant's, a machine app's)
// is a 401 with WWW-Authenticate, as RFC 6750 §3.1 says.
func (h *Handlers) Userinfo(c *gin.Context) {
	h.cors.HandlerFunc(c.Writer, c.Request) // spa origins, as op's own endpoints
	c.Header("Cache-Control", "no-store")
	raw, err := op.ParseUserinfoRequest(c.Request, h.op.Decoder())
	if err != nil || raw == "" {
		invalidToken(c.Writer)
		return
	}
	info, err := h.storage.Userinfo(c.Request.Context(), tenants.FromGin(c), h.op.IssuerFromRequest(c.Request), raw)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Unauthorized {
			invalidToken(c.Writer)
			return
		}
		h.log.ErrorContext(c.Request.Context(), "oidc_userinfo_failed", "error", err)
		httphelper.MarshalJSONWithStatus(c.Writer, oidc.ErrServerError(), http.StatusInternalServerError)
		return
	}
	httphelper.MarshalJSON(c.Writer, info)
}

func invalidToken(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	httphelper.MarshalJSONWithStatus(w, oidc.ErrInvalidRequest().WithDescription("access token invalid"), http.StatusUnauthorized)
}

// Userinfo is the claims a live customer token of t releases, by its
// scopes. A machine app's token names no customer and gets nothing.
func (s *Storage) Userinfo(ctx context.Context, t *tenants.Tenant, issuer, raw string) (*oidc.UserInfo, error) {
	tok, err := s.VerifyAccessToken(ctx, t, issuer, raw)
	if err != nil {
		return nil, err
	}
	if tok.Customer == nil {
		return nil, errBadToken
	}
	info := new(oidc.UserInfo)
	setClaims(info, t, tok.Customer, tok.Scopes)
	return info, nil
}

// Introspect is /oauth/introspect (RFC 7662). op parses the request and
// authenticates the client (its secret, through AuthorizeClientIDSecret);
// the token is checked by VerifyAccessToken as for userinfo. The client's
// secrets and the token's row are read first, in one statement
// (prefetchIntrospection), so that both checks find them. Only a
// confidential client of this tenant learns anything: every other answer
// is "active": false.
func (h *Handlers) Introspect(c *gin.Context) {
	issuer := h.op.IssuerFromRequest(c.Request)
	st := &requestState{host: tenants.NormalizeHost(c.Request.Host)}
	r := c.Request.WithContext(withState(op.ContextWithIssuer(c.Request.Context(), issuer), st))
	h.cors.HandlerFunc(c.Writer, r)
	c.Header("Cache-Control", "no-store")
	st.clientID, st.clientSecret = clientCredentialsOf(r)
	h.storage.prefetchIntrospection(r.Context(), tenants.FromGin(c), r.PostFormValue("token"))
	token, clientID, err := op.ParseTokenIntrospectionRequest(r, h.op)
	if err != nil {
		http.Error(c.Writer, err.Error(), http.StatusUnauthorized)
		return
	}
	resp := h.storage.introspect(r.Context(), tenants.FromGin(c), issuer, token, clientID)
	httphelper.MarshalJSON(c.Writer, resp)
}

func (s *Storage) introspect(ctx context.Context, t *tenants.Tenant, issuer, raw, clientID string) *oidc.IntrospectionResponse {
	resp := new(oidc.IntrospectionResponse)
	caller, err := s.app(ctx, clientID)
	if err != nil || !caller.Confidential() {
		return resp
	}
	tok, err := s.VerifyAccessToken(ctx, t, issuer, raw)
	if err != nil {
		return resp
	}
	resp.Active = true
	resp.Scope = tok.Scopes
	resp.ClientID = tok.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Subject = tok.ClientID
	resp.Audience = []string{tok.ClientID}
	resp.Issuer = issuer
	resp.JWTID = tok.ID.String()
	resp.IssuedAt = oidc.FromTime(tok.CreatedAt)
	resp.Expiration = oidc.FromTime(tok.ExpiresAt)
	if tok.Customer != nil {
		resp.Subject = tok.Customer.ID.String()
		info := new(oidc.UserInfo)
		setClaims(info, t, tok.Customer, tok.Scopes)
		resp.SetUserInfo(info)
	}
	return resp
}
