package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/app/apps"
	"gatehouse/app/audit"
	"gatehouse/app/imports"
	"gatehouse/app/oidc"
	"gatehouse/app/ratelimit"
	"gatehouse/tenants"
)

// Tokens verifies bearer tokens and revokes a customer's tokens; the
// OpenID Provider's storage (*oidc.Storage) is the one implementation.
type Tokens interface {
	VerifyAccessToken(ctx context.Context, t *tenants.Tenant, issuer, raw string) (oidc.AccessToken, error)
	// KnownClient is the client id of a token of t whose signature this
	// node has verified before: its budget can be counted with the
	// address's before the token's row is read. A forgery is never known.
	KnownClient(t *tenants.Tenant, raw string) (string, bool)
	RevokeCustomer(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) error
}

// Apps lists a tenant's apps, for CORS: only spa apps' origins may call
// the API from a browser.
type Apps interface {
	For(tenantID uuid.UUID) apps.TenantStore
}

// Limits are the API's request budgets per fixed window. Zero values take
// the defaults.
type Limits struct {
	PerIP     int           // requests per window from one address, to one tenant
	PerClient int           // requests per window with one app's tokens
	Window    time.Duration // the window both count in
}

// Default budgets: generous for a back-end syncing customers, small enough
// that one runaway client cannot take a node.
const (
	DefaultPerIP     = 1200
	DefaultPerClient = 3000
	DefaultWindow    = time.Minute
)

func (l Limits) withDefaults() Limits {
	if l.PerIP <= 0 {
		l.PerIP = DefaultPerIP
	}
	if l.PerClient <= 0 {
		l.PerClient = DefaultPerClient
	}
	if l.Window <= 0 {
		l.Window = DefaultWindow
	}
	return l
}

// Deps are the API's collaborators, built once in app/wiring.go.
type Deps struct {
	DB        *gorm.DB // the idempotency records
	Tokens    Tokens
	Apps      Apps
	Accounts  *accounts.Service
	Imports   *imports.Service
	Campaigns *imports.Campaigns // "set your password" mail for customers created without one
	Audit     *audit.Recorder
	Limiter   *ratelimit.Limiter
	Limits    Limits
	// Issuer is the OpenID Provider's issuer for a host (the host's public
	// URL): a token must name the issuer of the host it is presented on.
	Issuer func(host string) string
	// Document is the assembled OpenAPI document (see Document), built
	// before Mount so a bad fragment stops start-up with an error.
	Document []byte
	// Reference is the /api/v1/docs page; nil leaves it out (bench wiring).
	Reference *Reference
	Log       *slog.Logger
}

// Base is where the API is mounted on a tenant host.
const Base = "/api/v1"

// Mount registers the API on g, the tenant group at /api/v1 (the tenant
// middleware has run, so the tenant comes from Host). Each area adds its
// routes with one call here.
func Mount(g *gin.RouterGroup, d Deps) {
	d.Limits = d.Limits.withDefaults()
	f := &framework{d: d}
	g.Use(f.noStore, f.cors, f.limitIP, f.authenticate, f.limitClient)
	g.OPTIONS("/*path", f.preflight)
	g.GET("/openapi.json", serveDocument(d.Document))
	if d.Reference != nil {
		g.GET("/docs", d.Reference.serve)
	}
	mountManagement(g, d)
	mountSelf(g, d)
	mountImports(g, d)
}

// framework is the middleware every API route runs through.
type framework struct {
	d Deps
}

// noStore hands Problem the logger and keeps every API answer out of shared caches: they are about one
// caller's customers.
func (f *framework) noStore(c *gin.Context) {
	c.Set(logKey, f.d.Log)
	c.Header("Cache-Control", "no-store")
	c.Next()
}
