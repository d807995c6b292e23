package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/access"
	"gatehouse/app/apps"
	"gatehouse/app/console"
	"gatehouse/app/imports"
	"gatehouse/app/logos"
	"gatehouse/app/socialapps"
	"gatehouse/app/web"
	"gatehouse/app/webhooks"
	"gatehouse/assets"
	"gatehouse/config"
	"gatehouse/tenants"
)

// consoleH names the handler methods in the route table.
type consoleH = console.Handlers

// consoleRoutes is the console's whole surface, grouped by who may call
// it. Each route's rule is enforced by one guard (console.Handlers.Mount),
// for full pages and htmx fragments alike: the same URL serves both.
func consoleRoutes(dev bool, imp *imports.Handlers, appPages *apps.Handlers, hooks *webhooks.Handlers) []console.Route {
	read, write := access.Read, access.Write
	routes := []console.Route{
		// Public: signing in, and accepting an invitation.
		{Method: http.MethodGet, Path: "/login", Rule: console.Anyone, Handle: (*consoleH).LoginShow},
		{Method: http.MethodPost, Path: "/login", Rule: console.Anyone, Handle: (*consoleH).LoginSubmit},
		// The second step, for staff with two-factor sign-in on.
		{Method: http.MethodGet, Path: "/login/forgot", Rule: console.Anyone, Handle: (*consoleH).ForgotShow},
		{Method: http.MethodPost, Path: "/login/forgot", Rule: console.Anyone, Handle: (*consoleH).ForgotSubmit},
		{Method: http.MethodGet, Path: "/login/reset", Rule: console.Anyone, Handle: (*consoleH).ResetShow},
		{Method: http.MethodPost, Path: "/login/reset", Rule: console.Anyone, Handle: (*consoleH).ResetSubmit},
		{Method: http.MethodGet, Path: "/login/totp", Rule: console.Anyone, Handle: (*consoleH).LoginCodeShow},
		{Method: http.MethodPost, Path: "/login/totp", Rule: console.Anyone, Handle: (*consoleH).LoginCodeSubmit},
		{Method: http.MethodGet, Path: "/invite", Rule: console.Anyone, Handle: (*consoleH).InviteShow},
		{Method: http.MethodPost, Path: "/invite", Rule: console.Anyone, Handle: (*consoleH).InviteSubmit},

		// Any signed-in staff member.
		{Method: http.MethodGet, Path: "/", Rule: console.AnyStaff, Handle: (*consoleH).Home},
		// The header's tenant switcher: the tenants the viewer may open
		// matching ?q= (all of them for platform admins).
		{Method: http.MethodGet, Path: "/switch", Rule: console.AnyStaff, Handle: (*consoleH).Switch},
		{Method: http.MethodPost, Path: "/logout", Rule: console.AnyStaff, Handle: (*consoleH).Logout},
		// Their own sign-in security: two-factor on and off.
		{Method: http.MethodGet, Path: "/account/security", Rule: console.AnyStaff, Handle: (*consoleH).SecurityShow},
		{Method: http.MethodPost, Path: "/account/security/totp/start", Rule: console.AnyStaff, Handle: (*consoleH).TOTPStart},
		{Method: http.MethodPost, Path: "/account/security/totp/confirm", Rule: console.AnyStaff, Handle: (*consoleH).TOTPConfirm},
		{Method: http.MethodPost, Path: "/account/security/totp/disable", Rule: console.AnyStaff, Handle: (*consoleH).TOTPDisable},

		// Platform admins: tenants and their domains.
		{Method: http.MethodGet, Path: "/tenants", Rule: console.Platform(read), Handle: (*consoleH).TenantsList},
		{Method: http.MethodPost, Path: "/tenants", Rule: console.Platform(write), Handle: (*consoleH).TenantCreate},
		{Method: http.MethodGet, Path: "/tenants/:slug", Rule: console.Platform(read), Handle: (*consoleH).TenantShow},
		{Method: http.MethodPost, Path: "/tenants/:slug/status", Rule: console.Platform(write), Handle: (*consoleH).TenantStatus},
		{Method: http.MethodPost, Path: "/tenants/:slug/domains", Rule: console.Platform(write), Handle: (*consoleH).DomainAdd},
		{Method: http.MethodPost, Path: "/tenants/:slug/domains/verify", Rule: console.Platform(write), Handle: (*consoleH).DomainVerify},
		{Method: http.MethodPost, Path: "/tenants/:slug/domains/mark-verified", Rule: console.Platform(write), Handle: (*consoleH).DomainMarkVerified},
		{Method: http.MethodPost, Path: "/tenants/:slug/domains/remove", Rule: console.Platform(write), Handle: (*consoleH).DomainRemove},

		// Tenant staff, per permission in the :slug tenant.
		{Method: http.MethodGet, Path: "/t/:slug", Rule: console.Tenant(access.Overview, read), Handle: (*consoleH).Overview},
		// Theme: the editor, its live preview (fragment, framed page and
		// stylesheet, all built from unsaved values) and the logo.
		{Method: http.MethodGet, Path: "/t/:slug/theme", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).ThemeShow},
		{Method: http.MethodPost, Path: "/t/:slug/theme", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).ThemeSave},
		{Method: http.MethodGet, Path: "/t/:slug/theme/preview", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).ThemePreview},
		{Method: http.MethodGet, Path: "/t/:slug/theme/preview/login", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).ThemePreviewLogin},
		{Method: http.MethodGet, Path: "/t/:slug/theme/preview/theme.css", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).ThemePreviewCSS},
		{Method: http.MethodPost, Path: "/t/:slug/theme/reset", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).ThemeReset},
		{Method: http.MethodGet, Path: "/t/:slug/theme/logo", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).LogoShow},
		{Method: http.MethodPost, Path: "/t/:slug/theme/logo", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).LogoUpload},
		{Method: http.MethodPost, Path: "/t/:slug/theme/logo/remove", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).LogoRemove},
		// Registration fields.
		{Method: http.MethodGet, Path: "/t/:slug/fields", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).FieldsShow},
		{Method: http.MethodPost, Path: "/t/:slug/fields", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).FieldAdd},
		{Method: http.MethodGet, Path: "/t/:slug/fields/:key", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).FieldEdit},
		{Method: http.MethodPost, Path: "/t/:slug/fields/:key", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).FieldSave},
		{Method: http.MethodPost, Path: "/t/:slug/fields/:key/move", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).FieldMove},
		{Method: http.MethodPost, Path: "/t/:slug/fields/:key/remove", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).FieldRemove},
		// Customer settings: email verification, password length, sessions.
		{Method: http.MethodGet, Path: "/t/:slug/settings", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).SettingsShow},
		{Method: http.MethodGet, Path: "/t/:slug/emails", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).EmailsList},
		{Method: http.MethodGet, Path: "/t/:slug/emails/:kind", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).EmailEdit},
		{Method: http.MethodPost, Path: "/t/:slug/emails/:kind", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).EmailSave},
		{Method: http.MethodPost, Path: "/t/:slug/emails/:kind/reset", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).EmailReset},
		{Method: http.MethodGet, Path: "/t/:slug/emails/:kind/preview", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).EmailPreviewHTML},
		{Method: http.MethodPost, Path: "/t/:slug/settings", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).SettingsSave},
		// Customers (support and up; deleting is owner and admin).
		{Method: http.MethodGet, Path: "/t/:slug/customers", Rule: console.Tenant(access.Users, read), Handle: (*consoleH).CustomersList},
		{Method: http.MethodGet, Path: "/t/:slug/customers/:cid", Rule: console.Tenant(access.Users, read), Handle: (*consoleH).CustomerShow},
		{Method: http.MethodPost, Path: "/t/:slug/customers/:cid", Rule: console.Tenant(access.Users, write), Handle: (*consoleH).CustomerUpdate},
		{Method: http.MethodPost, Path: "/t/:slug/customers/:cid/status", Rule: console.Tenant(access.Users, write), Handle: (*consoleH).CustomerStatus},
		{Method: http.MethodPost, Path: "/t/:slug/customers/:cid/reset", Rule: console.Tenant(access.Users, write), Handle: (*consoleH).CustomerReset},
		{Method: http.MethodPost, Path: "/t/:slug/customers/:cid/verify", Rule: console.Tenant(access.Users, write), Handle: (*consoleH).CustomerVerify},
		{Method: http.MethodPost, Path: "/t/:slug/customers/:cid/sessions/:sid/revoke", Rule: console.Tenant(access.Users, write), Handle: (*consoleH).CustomerRevokeSession},
		{Method: http.MethodPost, Path: "/t/:slug/customers/:cid/identities/:provider/unlink", Rule: console.Tenant(access.Users, write), Handle: (*consoleH).CustomerUnlink},
		{Method: http.MethodGet, Path: "/t/:slug/customers/:cid/export", Rule: console.Tenant(access.Users, read), Handle: (*consoleH).CustomerExport},
		{Method: http.MethodPost, Path: "/t/:slug/customers/:cid/delete", Rule: console.Tenant(access.Users, access.Delete), Handle: (*consoleH).CustomerDelete},
		// Social login apps.
		{Method: http.MethodGet, Path: "/t/:slug/social", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).SocialList},
		{Method: http.MethodGet, Path: "/t/:slug/social/:provider", Rule: console.Tenant(access.Settings, read), Handle: (*consoleH).SocialEdit},
		{Method: http.MethodPost, Path: "/t/:slug/social", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).SocialSettings},
		{Method: http.MethodPost, Path: "/t/:slug/social/:provider", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).SocialSave},
		{Method: http.MethodPost, Path: "/t/:slug/social/:provider/test", Rule: console.Tenant(access.Settings, write), Handle: (*consoleH).SocialTest},
		// Staff (owners) and the audit log.
		{Method: http.MethodGet, Path: "/t/:slug/staff", Rule: console.Tenant(access.Team, read), Handle: (*consoleH).StaffList},
		{Method: http.MethodPost, Path: "/t/:slug/staff", Rule: console.Tenant(access.Team, write), Handle: (*consoleH).StaffInvite},
		{Method: http.MethodPost, Path: "/t/:slug/staff/:id/role", Rule: console.Tenant(access.Team, write), Handle: (*consoleH).StaffRole},
		{Method: http.MethodPost, Path: "/t/:slug/staff/:id/remove", Rule: console.Tenant(access.Team, write), Handle: (*consoleH).StaffRemove},
		{Method: http.MethodPost, Path: "/t/:slug/staff/invites/:id/revoke", Rule: console.Tenant(access.Team, write), Handle: (*consoleH).StaffInviteRevoke},
		{Method: http.MethodGet, Path: "/t/:slug/audit", Rule: console.Tenant(access.Audit, read), Handle: (*consoleH).AuditList},
	}
	// Imports (admin and owner): the import pages carry their own table;
	// each gets the console's guard with the imports permission.
	for _, r := range imp.Routes() {
		rule := console.Tenant(access.Imports, read)
		if r.Write {
			rule = console.Tenant(access.Imports, write)
		}
		handle := r.Handle
		routes = append(routes, console.Route{Method: r.Method, Path: "/t/:slug/imports" + r.Path, Rule: rule,
			Handle: func(_ *consoleH, c *gin.Context) { handle(c) }})
	}
	// Apps (OAuth clients; owners and admins, who hold settings write).
	for _, r := range appPages.Routes() {
		rule := console.Tenant(access.Settings, read)
		if r.Write {
			rule = console.Tenant(access.Settings, write)
		}
		handle := r.Handle
		routes = append(routes, console.Route{Method: r.Method, Path: "/t/:slug/apps" + r.Path, Rule: rule,
			Handle: func(_ *consoleH, c *gin.Context) { handle(c) }})
	}
	// Webhooks (owners and admins, who hold settings write).
	for _, r := range hooks.Routes() {
		rule := console.Tenant(access.Settings, read)
		if r.Write {
			rule = console.Tenant(access.Settings, write)
		}
		handle := r.Handle
		routes = append(routes, console.Route{Method: r.Method, Path: "/t/:slug/webhooks" + r.Path, Rule: rule,
			Handle: func(_ *consoleH, c *gin.Context) { handle(c) }})
	}
	if dev {
		// The dev outbox, only where mail goes to files.
		routes = append(routes,
			console.Route{Method: http.MethodGet, Path: "/outbox", Rule: console.Platform(read), Handle: (*consoleH).OutboxList},
			console.Route{Method: http.MethodGet, Path: "/outbox/:name", Rule: console.Platform(read), Handle: (*consoleH).OutboxShow},
			console.Route{Method: http.MethodGet, Path: "/outbox/:name/html", Rule: console.Platform(read), Handle: (*consoleH).OutboxHTML},
		)
	}
	return routes
}

// mountConsole builds the console from the services and mounts its routes
// on e, the console host's engine.
func mountConsole(e *gin.Engine, s *services, render *web.Renderer) error {
	ctx := context.Background()
	static, err := assets.New()
	if err != nil {
		return err
	}
	rbac, err := access.NewRBAC(ctx, s.db.Gorm, policyClock(s.redis), 0)
	if err != nil {
		return err
	}
	key, err := config.ParseSecretKey(s.cfg.SecretKey)
	if err != nil {
		return err
	}
	// The domain tokens get their own key, derived from the master key.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("gatehouse domain verification"))
	var outbox = s.outbox
	if !s.cfg.Dev {
		outbox = nil
	}
	staff := access.NewService(s.db.Gorm, rbac, s.hasher, s.policy, inviteMailer{s}, s.audit)
	handlers := console.New(console.Deps{
		Render:        render,
		Customers:     s.accounts,
		Stats:         s.stats,
		Log:           s.log,
		Staff:         staff,
		TwoFactor:     access.NewTwoFactor(staff, s.box),
		Recovery:      s.staffRecovery(staff),
		Tenants:       s.tenants,
		Sessions:      s.sessions,
		Limiter:       s.limiter,
		Audit:         s.audit,
		Logos:         logos.NewStore(s.db.Gorm),
		Social:        socialapps.NewStore(s.db.Gorm, s.box),
		Federation:    federation{client: s.outbound, accounts: s.accounts},
		Outbox:        outbox,
		ConsoleCSSURL: static.URL("console.css"),
		IconURL:       static.URL("console-icon.svg"),
		BaseDomain:    s.cfg.BaseDomain,
		PublicURL:     s.cfg.PublicURL,
		Secure:        s.cfg.PublicScheme == "https",
		Domains:       console.DomainVerifier{Key: mac.Sum(nil)},
	})
	imp := imports.NewHandlers(imports.HandlerDeps{
		Service: s.imports, Campaigns: s.campaigns, Render: render, Frame: handlers.Frame, Tenant: console.TenantOf,
		Actor: func(c *gin.Context) imports.Actor {
			return imports.Actor{Name: console.ActorName(c), IP: console.ActorIP(c)}
		},
	})
	appDeps := apps.HandlerDeps{
		Store: s.apps, Render: render, Audit: s.audit, Frame: handlers.Frame, Tenant: console.TenantOf,
		Actor:  func(c *gin.Context) (string, string) { return console.ActorName(c), console.ActorIP(c) },
		Issuer: func(t *tenants.Tenant) string { return s.cfg.PublicURL(t.Host(s.cfg.BaseDomain)) },
	}
	if s.keys != nil {
		appDeps.Keys = s.keys // "rotate signing key now" on the apps page
	}
	appPages := apps.NewHandlers(appDeps)
	hooks := webhooks.NewHandlers(webhooks.HandlerDeps{
		Service: s.webhooks, Render: render, Audit: s.audit, Frame: handlers.Frame, Tenant: console.TenantOf,
		Actor:  func(c *gin.Context) (string, string) { return console.ActorName(c), console.ActorIP(c) },
		Notify: handlers.Notify,
	})
	e.GET("/favicon.ico", func(c *gin.Context) { c.Redirect(http.StatusFound, static.URL("console-icon.svg")) })
	handlers.Mount(e, consoleRoutes(s.cfg.Dev && outbox != nil, imp, appPages, hooks))
	e.NoRoute(handlers.NotFound)
	return nil
}
