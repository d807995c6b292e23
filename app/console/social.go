package console

import (
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/app/apperr"
	"gatehouse/app/socialapps"
	"gatehouse/tenants"
	views "gatehouse/views/console"
)

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
	v := views.SocialPage{Slug: t.Slug}
	for _, a := range apps {
		v.Rows = append(v.Rows, views.SocialRow{Kind: string(a.Kind), Label: a.Kind.Label(), Configured: a.Configured, Enabled: a.Enabled,
			ClientID: a.ClientID, HasSecret: a.HasSecret, CallbackURL: h.callbackURL(t, a.Kind)})
	}
	v.Chrome = h.chrome(c, "Social apps · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Social apps"})...)
	h.d.Render.HTML(c, http.StatusOK, views.Social(v))
}

func (h *Handlers) renderSocial(c *gin.Context, status int, t *tenants.Tenant, kind socialapps.Kind, hasSecret bool, f socialForm, errs views.Errors) {
	v := views.SocialEditPage{
		Slug: t.Slug, Kind: string(kind), Label: kind.Label(), CallbackURL: h.callbackURL(t, kind), HasSecret: hasSecret,
		NeedsDiscovery: kind.NeedsDiscovery(), NeedsEndpoints: kind.NeedsEndpoints(),
		Form: views.SocialForm{Enabled: f.Enabled, ClientID: f.ClientID, Scopes: f.Scopes, DiscoveryURL: f.DiscoveryURL,
			AuthURL: f.AuthURL, TokenURL: f.TokenURL, UserInfoURL: f.UserInfoURL, ClaimMapping: f.ClaimText, Errors: errs},
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
	h.renderSocial(c, http.StatusOK, t, a.Kind, a.HasSecret, socialFormOf(a), nil)
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
		err = h.changes.saveSocial(c.Request.Context(), actor(c), t, a.Kind, in)
	}
	if err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderSocial(c, status, t, a.Kind, a.HasSecret, f, errs)
		return
	}
	h.done(c, a.Kind.Label()+" saved.", "/t/"+t.Slug+"/social")
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
