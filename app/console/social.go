package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/audit"
	"gatehouse/app/socialapps"
	"gatehouse/apperr"
	"gatehouse/tenants"
	"gatehouse/views/components"
	views "gatehouse/views/console"
)

// Federation is what the social pages need from sign-in itself.
type Federation interface {
	// Probe fetches the discovery document of configured (an issuer or a
	// discovery URL) and its JWKS, through the outbound client.
	Probe(ctx context.Context, configured string) (views.SocialProbe, error)
	// Stranded counts customers linked through provider to an issuer
	// other than issuer.
	Stranded(ctx context.Context, tenantID uuid.UUID, provider, issuer string) (int64, error)
}

// socialFailedAction is the audit action of a failed federated sign-in
// (social.FailedAction; the console reads it without importing social).
const socialFailedAction = "social.failed"

// lastFailures returns the latest failed sign-in per provider kind.
func (h *Handlers) lastFailures(ctx context.Context, t *tenants.Tenant) map[string]*views.SocialFailure {
	out := map[string]*views.SocialFailure{}
	events, _, err := h.d.Audit.List(ctx, t.ID, audit.Filter{Action: socialFailedAction, Limit: 100})
	if err != nil {
		h.d.Log.Warn("social_failures_unread", "tenant_id", t.ID, "error", err)
		return out
	}
	for _, e := range events {
		if _, seen := out[e.Target]; seen {
			continue
		}
		reason, _ := e.Detail["reason"].(string)
		detail, _ := e.Detail["detail"].(string)
		out[e.Target] = &views.SocialFailure{Reason: reason, Detail: detail, At: e.At.Format("2006-01-02 15:04:05 UTC")}
	}
	return out
}

// socialForm is what POST /t/:slug/social/:provider takes.
type socialForm struct {
	Enabled                                                 bool
	ClientID, ClientSecret, Scopes                          string
	DiscoveryURL, AuthURL, TokenURL, UserInfoURL, ClaimText string
}

func bindSocial(c *gin.Context) socialForm {
	return socialForm{
		Enabled: c.PostForm("enabled") == "on", ClientID: c.PostForm("client_id"), ClientSecret: c.PostForm("client_secret"),
		Scopes: c.PostForm("scopes"), DiscoveryURL: c.PostForm("discovery_url"), AuthURL: c.PostForm("auth_url"),
		TokenURL: c.PostForm("token_url"), UserInfoURL: c.PostForm("userinfo_url"), ClaimText: c.PostForm("claim_mapping"),
	}
}

// input parses the form; the store validates the values.
func (f socialForm) input() (socialapps.Input, error) {
	in := socialapps.Input{
		Enabled: f.Enabled, ClientID: f.ClientID, ClientSecret: f.ClientSecret, Scopes: []string{f.Scopes},
		DiscoveryURL: f.DiscoveryURL, AuthURL: f.AuthURL, TokenURL: f.TokenURL, UserInfoURL: f.UserInfoURL,
		ClaimMapping: map[string]string{},
	}
	for _, line := range strings.Split(f.ClaimText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return in, apperr.Field("claim_mapping", "%q needs the form profile_key = claim", line)
		}
		in.ClaimMapping[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return in, nil
}

func socialFormOf(a socialapps.App) socialForm {
	var lines []string
	for _, k := range sortedKeys(a.ClaimMapping) {
		lines = append(lines, k+" = "+a.ClaimMapping[k])
	}
	return socialForm{
		Enabled: a.Enabled, ClientID: a.ClientID, Scopes: strings.Join(a.Scopes, " "), DiscoveryURL: a.DiscoveryURL,
		AuthURL: a.AuthURL, TokenURL: a.TokenURL, UserInfoURL: a.UserInfoURL, ClaimText: strings.Join(lines, "\n"),
	}
}

// callbackURL is the exact redirect URL to register with a provider, on
// the tenant's canonical host.
func (h *Handlers) callbackURL(t *tenants.Tenant, kind socialapps.Kind) string {
	return h.d.PublicURL(t.Host(h.d.BaseDomain)) + "/social/" + string(kind) + "/callback"
}

// SocialList is GET /t/:slug/social.
func (h *Handlers) SocialList(c *gin.Context) {
	t := tenantOf(c)
	apps, err := h.d.Social.List(c.Request.Context(), t.ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v := views.SocialPage{Slug: t.Slug, BrandLoginOnly: t.Settings.BrandLoginOnly}
	failures := h.lastFailures(c.Request.Context(), t)
	for _, a := range apps {
		v.Rows = append(v.Rows, views.SocialRow{Kind: string(a.Kind), Label: a.Kind.Label(), Configured: a.Configured, Enabled: a.Enabled,
			ClientID: a.ClientID, HasSecret: a.HasSecret, CallbackURL: h.callbackURL(t, a.Kind), LastFailure: failures[string(a.Kind)]})
	}
	v.Chrome = h.chrome(c, "Social apps · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Social apps"})...)
	h.d.Render.HTML(c, http.StatusOK, views.Social(v))
}

func (h *Handlers) renderSocial(c *gin.Context, status int, t *tenants.Tenant, a socialapps.App, f socialForm, errs views.Errors, probe *views.SocialProbe, probeErr string) {
	kind := a.Kind
	v := views.SocialEditPage{
		Slug: t.Slug, Kind: string(kind), Label: kind.Label(), CallbackURL: h.callbackURL(t, kind), HasSecret: a.HasSecret,
		NeedsDiscovery: kind.NeedsDiscovery(), NeedsEndpoints: kind.NeedsEndpoints(),
		Form: views.SocialForm{Enabled: f.Enabled, ClientID: f.ClientID, Scopes: f.Scopes, DiscoveryURL: f.DiscoveryURL,
			AuthURL: f.AuthURL, TokenURL: f.TokenURL, UserInfoURL: f.UserInfoURL, ClaimMapping: f.ClaimText, Errors: errs},
		LastFailure: h.lastFailures(c.Request.Context(), t)[string(kind)],
		Testable:    kind.NeedsDiscovery() && h.d.Federation != nil, Probe: probe, ProbeError: probeErr,
	}
	if kind.NeedsDiscovery() && a.DiscoveryURL != "" && h.d.Federation != nil {
		v.Stranded, _ = h.d.Federation.Stranded(c.Request.Context(), t.ID, string(kind), a.DiscoveryURL)
	}
	v.Chrome = h.chrome(c, kind.Label()+" · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Social apps", Href: "/t/" + t.Slug + "/social"}, views.Crumb{Label: kind.Label()})...)
	h.d.Render.HTML(c, status, views.SocialEdit(v))
}

// socialApp loads the :provider app of the route's tenant.
func (h *Handlers) socialApp(c *gin.Context) (*tenants.Tenant, socialapps.App, bool) {
	t := tenantOf(c)
	kind, err := socialapps.ParseKind(c.Param("provider"))
	if err != nil {
		h.d.Render.Error(c, err)
		return nil, socialapps.App{}, false
	}
	a, err := h.d.Social.Get(c.Request.Context(), t.ID, kind)
	if err != nil {
		h.d.Render.Error(c, err)
		return nil, socialapps.App{}, false
	}
	return t, a, true
}

// SocialEdit is GET /t/:slug/social/:provider.
func (h *Handlers) SocialEdit(c *gin.Context) {
	t, a, ok := h.socialApp(c)
	if !ok {
		return
	}
	h.renderSocial(c, http.StatusOK, t, a, socialFormOf(a), nil, nil, "")
}

// SocialSave is POST /t/:slug/social/:provider. An empty secret keeps the
// saved one.
func (h *Handlers) SocialSave(c *gin.Context) {
	t, a, ok := h.socialApp(c)
	if !ok {
		return
	}
	f := bindSocial(c)
	in, err := f.input()
	if err == nil {
		err = in.Normalize(a.Kind)
	}
	if err == nil {
		err = h.checkIssuer(c.Request.Context(), &in)
	}
	if err == nil {
		err = h.changes.saveSocial(c.Request.Context(), actor(c), t, a.Kind, in)
	}
	if err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderSocial(c, status, t, a, f, errs, nil, "")
		return
	}
	msg := a.Kind.Label() + " saved."
	if a.Kind.NeedsDiscovery() && a.DiscoveryURL != "" && a.DiscoveryURL != in.DiscoveryURL && h.d.Federation != nil {
		if n, err := h.d.Federation.Stranded(c.Request.Context(), t.ID, string(a.Kind), in.DiscoveryURL); err == nil && n > 0 {
			msg += fmt.Sprintf(" The issuer changed: %d customers signed in through the old one. They are not matched by subject at the new provider; each must sign in with it and attach their account again.", n)
		}
	}
	h.done(c, msg, "/t/"+t.Slug+"/social")
}

// checkIssuer fetches the discovery document of the typed issuer or
// discovery URL, and stores the issuer the document names, exactly: a
// trailing slash stays when it is part of the issuer (Auth0).
func (h *Handlers) checkIssuer(ctx context.Context, in *socialapps.Input) error {
	if in.DiscoveryURL == "" || h.d.Federation == nil {
		return nil
	}
	p, err := h.d.Federation.Probe(ctx, in.DiscoveryURL)
	if err != nil {
		return apperr.Field("discovery_url", "could not be checked: %v", err)
	}
	in.DiscoveryURL = p.Issuer
	return nil
}

// SocialTest is POST /t/:slug/social/:provider/test: fetch the discovery
// document and JWKS of the typed (or saved) issuer and say what was found,
// or why it failed. Nothing is saved.
func (h *Handlers) SocialTest(c *gin.Context) {
	t, a, ok := h.socialApp(c)
	if !ok {
		return
	}
	f := socialFormOf(a)
	if typed := strings.TrimSpace(c.PostForm("discovery_url")); typed != "" {
		f.DiscoveryURL = typed
	}
	if h.d.Federation == nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "no connection test in this wiring"))
		return
	}
	if !a.Kind.NeedsDiscovery() {
		// Google, Facebook and GitHub have fixed endpoints and no issuer
		// to look up: say so on the page rather than answer a bare 404.
		h.renderSocial(c, http.StatusOK, t, a, f, nil, nil, a.Kind.Label()+" has fixed endpoints and no discovery document to test; a sign-in from the login page checks the client id and secret.")
		return
	}
	if f.DiscoveryURL == "" {
		h.renderSocial(c, http.StatusOK, t, a, f, nil, nil, "no issuer or discovery URL is set")
		return
	}
	p, err := h.d.Federation.Probe(c.Request.Context(), f.DiscoveryURL)
	if err != nil {
		h.renderSocial(c, http.StatusOK, t, a, f, nil, nil, err.Error())
		return
	}
	h.renderSocial(c, http.StatusOK, t, a, f, nil, &p, "")
}

// SocialSettings is POST /t/:slug/social: the tenant's "brand login only"
// switch, which lives with the social apps because it depends on them.
func (h *Handlers) SocialSettings(c *gin.Context) {
	t := tenantOf(c)
	on := c.PostForm("brand_login_only") == "on"
	if on {
		apps, err := h.d.Social.Enabled(c.Request.Context(), t.ID)
		if err != nil {
			h.d.Render.Error(c, err)
			return
		}
		brand := false
		for _, a := range apps {
			brand = brand || a.Kind == socialapps.OIDC || a.Kind == socialapps.OAuth2
		}
		if !brand {
			h.flash(c, components.AlertError, "Enable your OpenID Connect or OAuth 2.0 app before turning on brand login only: otherwise nobody could sign in.")
			seeOther(c, "/t/"+t.Slug+"/social")
			return
		}
	}
	if err := h.changes.setBrandLoginOnly(c.Request.Context(), actor(c), t, on); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	msg := "Brand login only is off: customers may use passwords again."
	if on {
		msg = "Brand login only is on: customers sign in through your own system."
	}
	h.done(c, msg, "/t/"+t.Slug+"/social")
}

// socialAudit is an app as the audit trail keeps it: never the secret.
func socialAudit(a socialapps.App) map[string]any {
	scopes := append([]string(nil), a.Scopes...)
	sort.Strings(scopes)
	return map[string]any{
		"enabled": a.Enabled, "client_id": a.ClientID, "has_secret": a.HasSecret, "scopes": scopes,
		"discovery_url": a.DiscoveryURL, "auth_url": a.AuthURL, "token_url": a.TokenURL, "userinfo_url": a.UserInfoURL,
		"claim_mapping": a.ClaimMapping,
	}
}
