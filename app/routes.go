package app

import (
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"gatehouse/app/accounts"
	"gatehouse/app/api"
	"gatehouse/app/audit"
	"gatehouse/app/devshop"
	"gatehouse/app/hosted"
	"gatehouse/app/logos"
	"gatehouse/app/oidc"
	"gatehouse/app/social"
	"gatehouse/app/web"
	"gatehouse/assets"
	"gatehouse/tenants"
	consoleviews "gatehouse/views/console"
)

// The web SDK's stable URLs on every host (assets/static/sdk/). Version 1
// keeps its API; a breaking change would get /sdk/v2/.
const (
	SDKPath      = "/sdk/v1/gatehouse.js"
	SDKTypesPath = "/sdk/v1/gatehouse.d.ts"
)

// newHandler builds the whole HTTP surface: one gin engine for the console
// host and one for tenant hosts, chosen by Host, all of it behind Go's
// cross-origin protection so no state-changing request is accepted from
// another site.
func newHandler(s *services) (http.Handler, error) {
	cfg, log := s.cfg, s.log
	static, err := assets.New()
	if err != nil {
		return nil, err
	}
	render := web.NewRenderer(static, log)
	metrics := web.NewMetrics(s.metrics)
	checks := s.readyChecks()

	// Release mode: gin would otherwise print every route to stdout.
	gin.SetMode(gin.ReleaseMode)
	newEngine := func() *gin.Engine {
		e := gin.New()
		// Trust no proxy headers unless configured: client addresses key
		// the login throttles, and X-Forwarded-For is anyone's to forge.
		if err := e.SetTrustedProxies(s.cfg.TrustedProxies()); err != nil {
			panic(err) // validated at start-up
		}
		e.HandleMethodNotAllowed = false
		e.RedirectTrailingSlash = false
		e.Use(web.RequestIDs(), web.AccessLog(log), web.Recover(render, log), metrics.Middleware(), audit.Middleware())
		// Any host: liveness, readiness and the content-hashed static files.
		e.GET("/healthz", web.Live)
		e.GET("/readyz", web.Ready(checks...))
		e.GET("/static/*file", gin.WrapH(static.Handler()))
		// The web SDK's stable aliases; the hashed names are under /static/sdk/.
		e.GET(SDKPath, gin.WrapH(static.Alias("sdk/gatehouse.js")))
		e.GET(SDKTypesPath, gin.WrapH(static.Alias("sdk/gatehouse.d.ts")))
		e.NoRoute(render.NotFound)
		return e
	}

	tenantEngine := newEngine()
	// Tenant logos are served from the tenant's own host; the bench wiring
	// has no database and so no logos.
	var logoStore *logos.Store
	var brandLogos hosted.Logos
	if s.db != nil {
		logoStore = logos.NewStore(s.db.Gorm)
		brandLogos = logoStore
	}
	pages := hosted.NewPages(render, brandLogos)
	tenantEngine.Use(web.UnavailablePage(pages.Unavailable))
	secure := cfg.PublicScheme == "https"
	var buttons accounts.Buttons
	if s.social != nil {
		buttons = s.social
	}
	acct := accounts.NewHandlers(s.accounts, render, pages, buttons, secure)
	soc := social.NewHandlers(s.social, acct, render, pages, secure)

	// Public, on a tenant's host: the tenant is resolved from Host, never
	// from input, and the customer (if any) from the session cookie.
	public := tenantEngine.Group("", web.FormsMayLeave, tenants.Middleware(s.resolver, render.Error), acct.LoadCustomer)
	public.GET("/", pages.Home)
	public.GET("/theme.css", pages.ThemeCSS)
	public.GET(hosted.FaviconPath, pages.Favicon)
	public.GET("/favicon.ico", pages.Favicon)
	if logoStore != nil {
		public.GET("/logo", logos.Serve(logoStore, render.Error))
	}
	public.GET("/login", acct.ShowLogin)
	public.POST("/login", acct.Login)
	public.POST("/register", acct.Register)
	public.GET("/register", acct.RegisterShow)
	public.POST("/logout", acct.Logout)
	public.GET("/password/forgot", acct.ShowForgot)
	public.POST("/password/forgot", acct.Forgot)
	public.GET("/password/reset", acct.ShowReset)
	public.POST("/password/reset", acct.Reset)
	if s.campaigns != nil {
		public.GET("/password/set", acct.ShowSetPassword(s.campaigns))
		public.POST("/password/set", acct.SetPassword(s.campaigns))
	}
	public.GET("/verify-email", acct.VerifyEmail)
	public.POST("/verify-email/resend", acct.ResendVerification)
	public.GET("/social/link", soc.ShowLink)
	public.POST("/social/link", soc.ConfirmLink)
	public.POST("/social/link/mail", soc.SendLinkMail)
	public.GET("/social/link/mail", soc.ShowMailedLink)
	public.POST("/social/link/mail/confirm", soc.ConfirmMailedLink)
	public.GET("/social/:provider", soc.Start)
	public.GET("/social/:provider/callback", soc.Callback)
	public.POST("/social/:provider/callback", soc.Callback)

	// Customer session: a signed-in customer of this tenant, on this host.
	customer := public.Group("", acct.RequireCustomer)
	customer.GET("/account", acct.ShowAccount)
	customer.POST("/account", acct.UpdateAccount)
	customer.POST("/account/password", acct.ChangePassword)
	customer.GET("/profile/complete", acct.ShowProfileComplete)
	customer.POST("/profile/complete", acct.CompleteProfile)
	customer.POST("/account/identities/:provider/unlink", soc.Unlink)
	customer.POST("/account/apps/:id/revoke", acct.RevokeApp)

	// OpenID Provider on every tenant host, behind the tenant middleware so
	// that op never answers for an unknown host. Clients find the endpoints
	// through discovery; the hosted pages are its login UI (LoginPath).
	if s.oidc != nil {
		p, err := oidc.New(oidc.Deps{
			Storage: s.oidc, MasterKey: s.masterKey, PublicURL: cfg.PublicURL, Insecure: cfg.PublicScheme == "http",
			Render: render, Pages: pages, Log: log,
		})
		if err != nil {
			return nil, err
		}
		public.GET(oidc.DiscoveryPath, p.Discovery)
		public.GET(oidc.AuthorizePath, p.Authorize)
		public.POST(oidc.AuthorizePath, p.Authorize)
		public.GET(oidc.LoginPath, p.Continue)
		public.GET(oidc.CallbackPath, p.Callback)
		public.POST(oidc.ConsentPath, p.Consent)
		public.POST(oidc.TokenPath, p.Serve)
		public.GET(oidc.UserinfoPath, p.Userinfo)
		public.POST(oidc.UserinfoPath, p.Userinfo)
		public.GET(oidc.KeysPath, p.Serve)
		public.POST(oidc.RevokePath, p.Serve)
		public.POST(oidc.IntrospectPath, p.Introspect)
		public.GET(oidc.EndSessionPath, p.Serve)
		for _, path := range []string{oidc.DiscoveryPath, oidc.TokenPath, oidc.UserinfoPath, oidc.KeysPath, oidc.RevokePath} {
			public.OPTIONS(path, p.Serve) // CORS preflight for spa apps
		}
	}

	// The JSON API: bearer tokens, no cookies, problem+json errors (an
	// unknown host or a suspended tenant too). Its group has only the
	// tenant middleware: no session is read.
	if s.oidc != nil {
		doc, err := api.Document()
		if err != nil {
			return nil, err
		}
		ref, err := api.NewReference(static)
		if err != nil {
			return nil, err
		}
		api.Mount(tenantEngine.Group(api.Base, tenants.Middleware(s.resolver, api.Problem)), api.Deps{
			DB: s.db.Gorm, Tokens: s.oidc, Apps: s.apps, Accounts: s.accounts, Imports: s.imports, Campaigns: s.campaigns,
			Audit: s.audit, Limiter: s.limiter, Limits: s.apiLimits,
			Issuer: func(host string) string { return cfg.PublicURL(host) }, Document: doc, Reference: ref, Log: log,
		})
	}
	brandNotFound := pages.NotFound(s.resolver, render.NotFound)
	tenantEngine.NoRoute(func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, api.Base+"/") {
			api.NotFound(c)
			return
		}
		brandNotFound(c)
	})

	consoleEngine := newEngine()
	consoleEngine.Use(web.UnavailablePage(func(*gin.Context) templ.Component {
		p := render.Page("Briefly unavailable · Gatehouse console")
		p.NoIndex = true
		return consoleviews.Unavailable(p)
	}))
	if err := mountConsole(consoleEngine, s, render); err != nil {
		return nil, err
	}

	cop := http.NewCrossOriginProtection()
	// Apple returns the sign-in as a cross-site form POST; that one route,
	// whose state is checked against the flow, is exempt.
	cop.AddInsecureBypassPattern("POST /social/apple/callback")
	// A spa app calls these from its own origin. They take no cookie: the
	// client or the token in the request is the credential.
	for _, path := range []string{oidc.TokenPath, oidc.UserinfoPath, oidc.RevokePath, oidc.IntrospectPath} {
		cop.AddInsecureBypassPattern("POST " + path)
	}
	// The JSON API takes no cookie: the bearer token is the credential, so
	// a cross-site request carries nothing of the visitor's.
	cop.AddInsecureBypassPattern(api.Base + "/")
	cop.SetDenyHandler(render.CrossOriginRefused())
	// The security headers go on outside everything, so the refusals
	// written before an engine runs carry them as every page does.
	hosts := hostSwitch{
		consoleHost: "console." + cfg.BaseDomain,
		console:     consoleEngine,
		tenants:     tenantEngine,
	}
	if s.shop != nil && cfg.Dev { // the demo brand app, never in production
		hosts.shopHost, hosts.shop = devshop.Host+"."+cfg.BaseDomain, s.shop
	}
	return web.SecurityHeaders(cop.Handler(hosts), secure), nil
}

// hostSwitch refuses a malformed Host header with a 400 (a port such as
// "8080.evil.com" must not be read as a tenant's host), then sends the
// console host to the console and every other host to the tenant engine,
// whose middleware decides whether the host is a tenant.
type hostSwitch struct {
	consoleHost string
	console     http.Handler
	tenants     http.Handler
	shopHost    string       // "" unless --dev
	shop        http.Handler // Demo Coffee Shop, on shopHost
}

func (h hostSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, err := tenants.ParseHost(r.Host)
	switch {
	case err != nil:
		web.MalformedHost(w, web.PublicMessage(err))
	case host == h.consoleHost:
		h.console.ServeHTTP(w, r)
	case h.shop != nil && host == h.shopHost:
		h.shop.ServeHTTP(w, r)
	default:
		h.tenants.ServeHTTP(w, r)
	}
}
