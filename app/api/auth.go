package api

import (
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apps"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// The API scopes a machine app may be given (`app create --scope`).
const (
	ScopeCustomersRead  = "customers:read"
	ScopeCustomersWrite = "customers:write"
	ScopeImportsWrite   = "imports:write"
)

// Principal is who is calling: the app whose token it is and, for a
// customer's token, the customer.
type Principal struct {
	TenantID   uuid.UUID
	ClientID   string
	CustomerID uuid.UUID // uuid.Nil for a machine (client_credentials) token
	Scopes     []string
	FirstParty bool
	// customer is the token's customer as the token check read them
	// (active), so /me need not read them again.
	customer *accounts.Customer
}

// Machine reports whether the token is a machine app's own.
func (p Principal) Machine() bool { return p.CustomerID == uuid.Nil }

// HasScope reports whether the token was granted scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

const (
	principalKey = "api.principal"
	authErrKey   = "api.auth_error"
)

// PrincipalOf is the caller of a route behind RequireMachine or
// RequireCustomer. Elsewhere it is the zero Principal.
func PrincipalOf(c *gin.Context) Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(Principal)
	return pr
}

var (
	errNoToken = &apperr.Error{Code: apperr.Unauthorized, Message: "This request needs a bearer access token from the OpenID Provider."}
	errBadAuth = &apperr.Error{Code: apperr.Unauthorized, Message: "The Authorization header must be \"Bearer\" and an access token."}
)

// authenticate reads the bearer token, when there is one, and notes who is
// calling or why the token was refused. Routes decide whether they need a
// caller (RequireMachine, RequireCustomer); the per-client limit that runs
// next needs to know the client either way.
func (f *framework) authenticate(c *gin.Context) {
	if c.GetHeader("Authorization") == "" {
		c.Next()
		return
	}
	raw, ok := bearerOf(c)
	if !ok {
		c.Set(authErrKey, errBadAuth)
		c.Next()
		return
	}
	t := tenants.FromGin(c)
	tok, err := f.d.Tokens.VerifyAccessToken(c.Request.Context(), t, f.d.Issuer(tenants.NormalizeHost(c.Request.Host)), raw)
	if err != nil {
		if apperr.CodeOf(err) != apperr.Unauthorized {
			Problem(c, err)
			return
		}
		c.Set(authErrKey, err)
		c.Next()
		return
	}
	c.Set(principalKey, Principal{
		TenantID: t.ID, ClientID: tok.ClientID, CustomerID: tok.CustomerID, Scopes: tok.Scopes,
		FirstParty: tok.FirstParty && tok.AppType != apps.Machine, customer: tok.Customer,
	})
	c.Next()
}

// bearerOf is the request's bearer token, if its Authorization header is
// "Bearer" and a token.
func bearerOf(c *gin.Context) (string, bool) {
	scheme, raw, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return "", false
	}
	return raw, true
}

// caller is the authenticated principal, or writes the 401 problem.
func caller(c *gin.Context) (Principal, bool) {
	if v, ok := c.Get(principalKey); ok {
		return v.(Principal), true
	}
	err := errNoToken
	if v, ok := c.Get(authErrKey); ok {
		if e, ok := v.(*apperr.Error); ok {
			err = e
		}
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
	} else {
		c.Header("WWW-Authenticate", `Bearer`)
	}
	Problem(c, err)
	return Principal{}, false
}

// RequireMachine admits a machine app's own token (client_credentials)
// that was granted scope: no token or a dead one is a 401, a customer's
// token or a missing scope a 403 (RFC 6750 §3.1 insufficient_scope).
func RequireMachine(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := caller(c)
		if !ok {
			return
		}
		if !p.Machine() {
			forbidden(c, scope, "This route is for a brand's back-end: it needs a machine app's token, not a customer's.")
			return
		}
		if !p.HasScope(scope) {
			forbidden(c, scope, "This token was not granted the "+scope+" scope.")
			return
		}
		c.Next()
	}
}

// RequireCustomer admits a customer's own access token of this tenant
// (the customer is active: VerifyAccessToken checked). A machine token is
// a 403.
func RequireCustomer() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := caller(c)
		if !ok {
			return
		}
		if p.Machine() {
			forbidden(c, "", "This route acts as a signed-in customer: it needs the customer's own access token.")
			return
		}
		c.Next()
	}
}

func forbidden(c *gin.Context, scope, msg string) {
	h := `Bearer error="insufficient_scope"`
	if scope != "" {
		h += ` scope="` + scope + `"`
	}
	c.Header("WWW-Authenticate", h)
	Problem(c, &apperr.Error{Code: apperr.Forbidden, Message: msg})
}
