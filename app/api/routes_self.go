package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/headless"
	"gatehouse/app/logos"
	"gatehouse/app/oidc"
	"gatehouse/app/tokens"
	"gatehouse/tenants"
)

// selfStorage is what self-service and headless sign-in need from the
// OpenID Provider's storage beyond Tokens: the customer's apps, and codes
// for sign-ins the app's own screens finished. *oidc.Storage, which Deps
// carries as Tokens, is the implementation.
type selfStorage interface {
	CustomerApps(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) ([]oidc.ConnectedApp, error)
	RevokeCustomerApp(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID, clientID string) error
	IssueHeadlessCode(ctx context.Context, t *tenants.Tenant, g oidc.HeadlessGrant) (string, error)
}

// logoURLs tells a tenant's logo path (logos.Store).
type logoURLs interface {
	URL(ctx context.Context, tenantID uuid.UUID) (string, error)
}

// self serves /me (a customer's own token) and the headless sign-in
// routes (a first-party app, no token).
type self struct {
	accounts *accounts.Service
	grants   selfStorage
	headless *headless.Service
	logos    logoURLs
	issuer   func(host string) string // the host's public URL
}

// mountSelf registers self-service for signed-in customers and headless
// sign-in and sign-up for the brand's own apps.
func mountSelf(g *gin.RouterGroup, d Deps) {
	// Deps carries the provider's storage as Tokens; the document test
	// mounts without one, and only walks the routes.
	st, _ := d.Tokens.(selfStorage)
	h := &self{
		accounts: d.Accounts, grants: st,
		headless: headless.New(d.Accounts, st, d.Apps, tokens.NewStore(d.DB)),
		logos:    logos.NewStore(d.DB), issuer: d.Issuer,
	}

	me := g.Group("/me", RequireCustomer(), h.loadCustomer)
	me.GET("", h.getMe)
	me.PATCH("", h.patchMe)
	me.GET("/missing-fields", h.missingFields)
	me.POST("/password", h.changePassword)
	me.GET("/identities", h.listIdentities)
	me.DELETE("/identities/:provider", h.unlinkIdentity)
	me.GET("/sessions", h.listSessions)
	me.DELETE("/sessions/:id", h.revokeSession)
	me.GET("/apps", h.listApps)
	me.DELETE("/apps/:client_id", h.revokeApp)

	g.GET("/schema", h.schema)
	g.POST("/authorize-challenge", h.authorizeChallenge)
	g.POST("/signup", h.signup)
	g.POST("/password/forgot", h.forgotPassword)
	g.POST("/password/reset", h.resetPassword)
	g.POST("/verification/resend", h.resendVerification)
}

const customerKey = "api.customer"

// loadCustomer loads the token's customer: RequireCustomer has checked
// the token is a live one of this tenant for an active customer.
func (h *self) loadCustomer(c *gin.Context) {
	if p := PrincipalOf(c); p.customer != nil && p.customer.ID == p.CustomerID {
		// The token check read them a moment ago and found them active.
		c.Set(customerKey, p.customer)
		c.Next()
		return
	}
	t := tenants.FromGin(c)
	cust, err := h.accounts.ActiveCustomer(c.Request.Context(), t, PrincipalOf(c).CustomerID)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		Problem(c, errBadCustomer)
		return
	}
	c.Set(customerKey, cust)
	c.Next()
}

func customerOf(c *gin.Context) *accounts.Customer {
	v, _ := c.Get(customerKey)
	cust, _ := v.(*accounts.Customer)
	return cust
}

// requestOf is who is asking, as accounts records and throttles it. The
// API has no cookies, so there is no device cookie: headless sign-in takes
// the device token in its body instead.
func requestOf(c *gin.Context) accounts.Request {
	return accounts.Request{Host: tenants.NormalizeHost(c.Request.Host), IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}

func noContent(c *gin.Context) { c.Status(http.StatusNoContent) }
