package oidc

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"gatehouse/app/apps"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// client is one of our apps as the op package sees it. It is built per
// request from the tenant's own app row, never cached.
type client struct {
	app    apps.App
	tenant *tenants.Tenant // the request's tenant, whose fields define custom scopes
}

var _ op.Client = (*client)(nil)

// LoginPath is where the provider sends the browser to sign in: our own
// handler, which shows the hosted login page only when it has to.
const LoginPath = "/oauth/continue"

func (c *client) GetID() string                    { return c.app.ClientID }
func (c *client) RedirectURIs() []string           { return c.app.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.app.PostLogoutURIs }
func (c *client) LoginURL(id string) string        { return LoginPath + "?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeJWT // RFC 9068: resource servers verify them without calling us
}
func (c *client) IDTokenLifetime() time.Duration { return c.app.IDTokenTTL }

// DevMode relaxes only op's redirect scheme policy (http redirects). Our
// registration rules already allow http only on loopback and localhost, and
// every redirect is matched exactly before op sees the request.
func (c *client) DevMode() bool { return true }

func (c *client) ApplicationType() op.ApplicationType {
	switch c.app.Type {
	case apps.SPA:
		return op.ApplicationTypeUserAgent
	case apps.Native:
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.app.Confidential() {
		return oidc.AuthMethodBasic // client_secret_post is accepted too (Config.AuthMethodPost)
	}
	return oidc.AuthMethodNone
}

// ResponseTypes is code only: no implicit flow, for any app.
func (c *client) ResponseTypes() []oidc.ResponseType {
	if c.app.Type == apps.Machine {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes: customers' apps get the code flow and refresh tokens; a
// machine app only its own client_credentials. There is no password grant.
func (c *client) GrantTypes() []oidc.GrantType {
	if c.app.Type == apps.Machine {
		return []oidc.GrantType{oidc.GrantTypeClientCredentials}
	}
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed lets through the app's registered API scopes and, for
// apps that sign customers in, the scopes the tenant's registration fields
// define (tenants.Field.ClaimScope); op adds the standard OpenID ones
// itself and silently drops every other scope from the request.
func (c *client) IsScopeAllowed(scope string) bool {
	if slices.Contains(c.app.Scopes, scope) {
		return true
	}
	return c.app.Type != apps.Machine && c.tenant != nil && c.tenant.HasCustomScope(scope)
}

// IDTokenUserinfoClaimsAssertion puts the profile claims in the id_token
// too, so a web app needs no userinfo call to greet the customer.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// GetClientByClientID finds the client within the request's tenant. A
// client id of another tenant is not found.
func (s *Storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	a, err := s.app(ctx, clientID)
	if err != nil {
		return nil, err
	}
	t, _ := tenants.FromContext(ctx)
	return &client{app: a, tenant: t}, nil
}

// app loads the tenant's app, once per request, and notes its signing
// algorithm for the rest of the request: the tokens it gets are signed
// with it.
func (s *Storage) app(ctx context.Context, clientID string) (apps.App, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return apps.App{}, err
	}
	st := stateOf(ctx)
	if a, ok := st.app(clientID); ok {
		st.alg = a.SigningAlg
		return a, nil
	}
	if st != nil && st.clientSecret != "" && st.clientID == clientID {
		// The request carries this client's secret: read the app with its
		// secrets. A wrong secret falls through to the plain read, and op's
		// own secret check then refuses it.
		if a, err := s.apps.For(t.ID).Authenticate(ctx, clientID, st.clientSecret); err == nil {
			st.authenticated = true
			st.remember(a)
			return a, nil
		}
	}
	a, err := s.apps.For(t.ID).ByClientID(ctx, clientID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return apps.App{}, oidc.ErrInvalidClient().WithDescription("unknown client")
		}
		return apps.App{}, oidc.ErrServerError().WithParent(err)
	}
	st.remember(a)
	return a, nil
}

// app is the app this request loaded with that client id, if any.
func (st *requestState) app(clientID string) (apps.App, bool) {
	if st == nil {
		return apps.App{}, false
	}
	a, ok := st.apps[clientID]
	return a, ok
}

// clientIDOf is the client id of the app with id that this request has
// loaded (the client that authenticated), if any.
func (st *requestState) clientIDOf(id uuid.UUID) (string, bool) {
	if st == nil {
		return "", false
	}
	for _, a := range st.apps {
		if a.ID == id {
			return a.ClientID, true
		}
	}
	return "", false
}

// remember keeps the app for the rest of the request and notes its
// signing algorithm.
func (st *requestState) remember(a apps.App) {
	if st == nil {
		return
	}
	if st.apps == nil {
		st.apps = map[string]apps.App{}
	}
	st.apps[a.ClientID] = a
	st.alg = a.SigningAlg
}

// AuthorizeClientIDSecret checks a confidential client's secret.
func (s *Storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	_, err := s.authenticate(ctx, clientID, secret)
	return err
}

func (s *Storage) authenticate(ctx context.Context, clientID, secret string) (apps.App, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return apps.App{}, err
	}
	var a apps.App
	st := stateOf(ctx)
	if known, ok := st.app(clientID); ok && st.authenticated && st.clientID == clientID && st.clientSecret == secret && secret != "" {
		// app authenticated these very credentials a moment ago.
		return known, nil
	}
	if known, ok := st.app(clientID); ok {
		// op loaded the client a moment ago; only the secrets are read.
		a, err = known, s.apps.For(t.ID).CheckSecret(ctx, known, secret)
	} else {
		a, err = s.apps.For(t.ID).Authenticate(ctx, clientID, secret)
	}
	if err != nil {
		if apperr.Is(err, apperr.Unauthorized) {
			return apps.App{}, oidc.ErrInvalidClient().WithDescription("client authentication failed")
		}
		return apps.App{}, oidc.ErrServerError().WithParent(err)
	}
	stateOf(ctx).remember(a)
	return a, nil
}
