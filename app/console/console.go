// Package console is the admin console's HTTP handlers: staff sign-in,
// tenants and domains for platform admins, and each tenant's theme,
// registration fields, social apps, staff and audit log.
//
// Every route is declared with the Rule that guards it (Public, SignedIn,
// PlatformOnly or InTenant with a casbin permission), and Mount attaches
// Guard to every non-public one, so a page or an htmx fragment cannot be
// added without a check. Handlers are thin: bind a form, make one service
// call, render a view model from views/console.
package console

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"gatehouse/app/access"
	"gatehouse/app/audit"
	"gatehouse/app/logos"
	"gatehouse/app/mail"
	"gatehouse/app/ratelimit"
	"gatehouse/app/sessions"
	"gatehouse/app/socialapps"
	"gatehouse/app/web"
	"gatehouse/tenants"
	"gatehouse/views/layout"
)

// Deps are what the console needs; app builds them from its services.
type Deps struct {
	Render   *web.Renderer
	Log      *slog.Logger
	Staff    *access.Service
	Tenants  *tenants.Service
	Sessions *sessions.Store
	Limiter  *ratelimit.Limiter
	Audit    *audit.Recorder
	Logos    *logos.Store
	Social   *socialapps.Store
	// Federation checks brand providers (discovery, JWKS) through the
	// outbound client and counts who a change of issuer strands.
	Federation Federation
	Outbox     *mail.Outbox // the dev outbox; nil hides the outbox pages
	// Customers is customer accounts, for the customers pages.
	Customers Customers
	// Stats is the tenant overview's figures.
	Stats Stats
	// TwoFactor is the staff's optional TOTP second factor; the sign-in
	// form goes through it.
	TwoFactor *access.TwoFactor

	// ConsoleCSSURL is the hashed URL of console.css.
	ConsoleCSSURL string
	// IconURL is the hashed URL of the console's favicon.
	IconURL string
	// BaseDomain is what tenant hosts end in.
	BaseDomain string
	// PublicURL turns a host into an absolute URL with the public scheme
	// and port (config.Config.PublicURL).
	PublicURL func(host string) string
	// Secure is true when the console is served over https: cookies get
	// Secure and the __Host- prefix.
	Secure bool
	// Domains checks custom-domain TXT records; a nil LookupTXT means the
	// system resolver (net.DefaultResolver).
	Domains DomainVerifier
	// Sections are a tenant's pages in the navigation; nil means
	// DefaultSections.
	Sections []Section
}

// Handlers serve the console.
type Handlers struct {
	d       Deps
	changes changes
}

// New returns the console's handlers.
func New(d Deps) *Handlers {
	if d.Sections == nil {
		d.Sections = DefaultSections
	}
	if d.Domains.LookupTXT == nil {
		d.Domains.LookupTXT = net.DefaultResolver.LookupTXT
	}
	return &Handlers{d: d, changes: changes{tenants: d.Tenants, audit: d.Audit, logos: d.Logos, social: d.Social, domains: d.Domains}}
}

// Session lifetimes of a staff sign-in.
const (
	sessionIdle = 2 * time.Hour
	sessionMax  = 12 * time.Hour
)

// Scope says who may call a route.
type Scope int

// The scopes.
const (
	Public       Scope = iota // anyone: sign-in, invitations
	SignedIn                  // any signed-in staff member
	PlatformOnly              // platform admins (casbin domain "*")
	InTenant                  // staff of the :slug tenant holding Perm there
)

// Rule is a route's access check.
type Rule struct {
	Scope Scope
	Perm  access.Perm
}

// Anyone and AnyStaff are rules; Platform and Tenant build them.
var (
	Anyone   = Rule{Scope: Public}
	AnyStaff = Rule{Scope: SignedIn}
)

// Platform is a platform-admin route.
func Platform(a access.Action) Rule {
	return Rule{Scope: PlatformOnly, Perm: access.Perm{Object: access.Platform, Action: a}}
}

// Tenant is a route of the :slug tenant that needs action on object.
func Tenant(object access.Object, a access.Action) Rule {
	return Rule{Scope: InTenant, Perm: access.Perm{Object: object, Action: a}}
}

// Route is one console route: its method, its gin path, who may call it
// and the handler method.
type Route struct {
	Method string
	Path   string
	Rule   Rule
	Handle func(*Handlers, *gin.Context)
}

// Mount registers routes on e, each non-public one behind Guard. Every
// request first passes Authenticate, which reads the staff session.
func (h *Handlers) Mount(e *gin.Engine, routes []Route) {
	e.Use(h.authenticate)
	for _, r := range routes {
		handle := r.Handle
		chain := []gin.HandlerFunc{}
		if r.Rule.Scope != Public {
			chain = append(chain, h.guard(r.Rule))
		}
		chain = append(chain, func(c *gin.Context) { handle(h, c) })
		e.Handle(r.Method, r.Path, chain...)
	}
}

// page returns the document shell of a console page titled title.
func (h *Handlers) page(title string) layout.Page {
	p := h.d.Render.Page(title + " · Gatehouse console")
	// The console's own sheet rides in the second stylesheet slot, after
	// app.css, as a tenant's theme does on hosted pages.
	p.ThemeCSSURL = h.d.ConsoleCSSURL
	p.IconURL = h.d.IconURL
	p.NoIndex = true
	return p
}

// isHTMX reports whether the request came from htmx and wants a fragment.
// Responses that differ by it say so in Vary, so no cache mixes them.
func isHTMX(c *gin.Context) bool {
	c.Writer.Header().Add("Vary", "HX-Request")
	return c.GetHeader("HX-Request") == "true" && c.GetHeader("HX-Boosted") == ""
}

// seeOther redirects to a path on the console itself.
func seeOther(c *gin.Context, path string) {
	c.Redirect(http.StatusSeeOther, path)
}
