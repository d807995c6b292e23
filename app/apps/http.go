package apps

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"gatehouse/app/audit"
	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/apps"
	"gatehouse/views/layout"
)

// Auditor records console changes.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// HandlerDeps are what the console's apps pages need. The console owns
// sign-in, the :slug tenant and the staff member's rights; these handlers
// assume its guard has run (settings read for GET, settings write for
// POST, which only owners and admins hold).
type HandlerDeps struct {
	Store  *Store
	Render *web.Renderer
	Audit  Auditor
	// Frame wraps a page's content in the console chrome.
	Frame func(c *gin.Context, title string, content templ.Component) templ.Component
	// Tenant is the tenant the console's guard resolved from :slug.
	Tenant func(c *gin.Context) *tenants.Tenant
	// Actor names the signed-in staff member and their address, for the
	// audit trail.
	Actor func(c *gin.Context) (name, ip string)
	// Issuer is the tenant's issuer URL, shown to admins.
	Issuer func(t *tenants.Tenant) string
	// Keys are the tenant's signing keys, listed and rotated on the page;
	// nil hides the panel.
	Keys SigningKeys
}

// Handlers serve the console's apps pages.
type Handlers struct{ d HandlerDeps }

// NewHandlers returns the apps pages.
func NewHandlers(d HandlerDeps) *Handlers { return &Handlers{d: d} }

// Route is one apps page, relative to /t/:slug/apps.
type Route struct {
	Method string
	Path   string
	Write  bool
	Handle gin.HandlerFunc
}

// Routes lists every apps page, for the console's route table.
func (h *Handlers) Routes() []Route {
	return []Route{
		{http.MethodGet, "", false, h.List},
		{http.MethodPost, "", true, h.Create},
		{http.MethodPost, "/:client/rotate", true, h.Rotate},
		{http.MethodPost, "/:client/backchannel", true, h.SetBackchannel},
		{http.MethodPost, "/:client/delete", true, h.Delete},
		{http.MethodPost, "/signing-keys/rotate", true, h.RotateKeys},
	}
}

func base(t *tenants.Tenant) string { return "/t/" + t.Slug + "/apps" }

// List is GET /t/:slug/apps.
func (h *Handlers) List(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	h.renderList(c, http.StatusOK, t, views.Form{Type: string(Web)})
}

func (h *Handlers) renderList(c *gin.Context, status int, t *tenants.Tenant, f views.Form) {
	list, err := h.d.Store.For(t.ID).List(c.Request.Context())
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	issuer := h.d.Issuer(t)
	v := views.ListPage{Base: base(t), Issuer: issuer, Form: f}
	if h.d.Keys != nil {
		keys, err := h.d.Keys.Summary(c.Request.Context(), t.ID)
		if err != nil {
			h.d.Render.Error(c, err)
			return
		}
		v.KeysShown, v.RotateKeysURL = true, base(t)+"/signing-keys/rotate"
		for _, k := range keys {
			v.Keys = append(v.Keys, views.KeyRow{KID: k.KID, Alg: k.Alg, State: string(k.State), SignsFrom: k.SignsFrom.Format("2006-01-02 15:04 MST")})
		}
	}
	for _, a := range list {
		redirects := strings.Join(a.RedirectURIs, " ")
		if redirects == "" {
			redirects = "-"
		}
		v.Apps = append(v.Apps, views.Row{
			ClientID: a.ClientID, Name: a.Name, Type: string(a.Type), Redirects: redirects, FirstParty: a.FirstParty,
			HasSecret: a.Confidential(), Created: a.CreatedAt.Format("2006-01-02"),
			RotateURL: base(t) + "/" + a.ClientID + "/rotate", DeleteURL: base(t) + "/" + a.ClientID + "/delete",
			Backchannel: a.BackchannelLogoutURI, BackchannelURL: base(t) + "/" + a.ClientID + "/backchannel", SignsIn: a.Type != Machine,
			Snippets: Snippets(a, issuer),
		})
	}
	h.page(c, status, "Apps", views.List(v))
}

// Create is POST /t/:slug/apps. The new app's secret is shown on the page
// that answers the form, once; it is never put in a redirect or a flash.
func (h *Handlers) Create(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	f := views.Form{
		Name: c.PostForm("name"), Type: c.PostForm("type"), RedirectURIs: c.PostForm("redirect-uri"),
		PostLogoutURIs: c.PostForm("post-logout-uri"), CORSOrigins: c.PostForm("cors-origin"), Scopes: c.PostForm("scope"),
		FirstParty: c.PostForm("first-party") == "on", Backchannel: c.PostForm(BackchannelField),
	}
	a, secret, err := h.d.Store.For(t.ID).Create(c.Request.Context(), New{
		Name: f.Name, Type: Type(f.Type), RedirectURIs: strings.Fields(f.RedirectURIs), PostLogoutURIs: strings.Fields(f.PostLogoutURIs),
		CORSOrigins: strings.Fields(f.CORSOrigins), Scopes: strings.Fields(f.Scopes), FirstParty: f.FirstParty,
		BackchannelLogoutURI: f.Backchannel,
	})
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Field == "" || e.Code == apperr.Internal {
			h.d.Render.Error(c, err)
			return
		}
		f.ErrorField, f.Error = e.Field, e.Message
		h.renderList(c, http.StatusUnprocessableEntity, t, f)
		return
	}
	h.record(c, t, "app.created", a.ClientID, map[string]any{"after": map[string]any{
		"name": a.Name, "type": string(a.Type), "redirect_uris": a.RedirectURIs, "post_logout_uris": a.PostLogoutURIs,
		"cors_origins": a.CORSOrigins, "scopes": a.Scopes, "first_party": a.FirstParty, "backchannel_logout_uri": a.BackchannelLogoutURI,
	}})
	c.Header("Cache-Control", "no-store")
	h.page(c, http.StatusCreated, "New app", views.Secret(views.SecretPage{
		Base: base(t), Title: a.Name + " is ready", ClientID: a.ClientID, Secret: secret, Issuer: h.d.Issuer(t),
	}))
}

// Rotate is POST /t/:slug/apps/:client/rotate.
func (h *Handlers) Rotate(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	grace, err := time.ParseDuration(c.PostForm("grace"))
	if err != nil {
		h.d.Render.Error(c, apperr.Field("grace", "pick how long the old secret keeps working"))
		return
	}
	clientID := c.Param("client")
	secret, err := h.d.Store.For(t.ID).RotateSecret(c.Request.Context(), clientID, grace)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.record(c, t, "app.secret.rotated", clientID, map[string]any{"grace_seconds": int(grace.Seconds())})
	note := "The previous secret no longer works."
	if grace > 0 {
		note = "The previous secret keeps working for " + grace.String() + "."
	}
	c.Header("Cache-Control", "no-store")
	h.page(c, http.StatusOK, "New secret", views.Secret(views.SecretPage{
		Base: base(t), Title: "New secret", ClientID: clientID, Secret: secret, Issuer: h.d.Issuer(t), Note: note,
	}))
}

// SetBackchannel is POST /t/:slug/apps/:client/backchannel: where the app
// takes logout tokens, or nowhere when the field is empty. A bad URI shows
// the list again with the message next to that app's field.
func (h *Handlers) SetBackchannel(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	clientID, uri := c.Param("client"), strings.TrimSpace(c.PostForm(BackchannelField))
	before, err := h.d.Store.For(t.ID).SetBackchannelLogoutURI(c.Request.Context(), clientID, uri)
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Field == "" || e.Code == apperr.Internal {
			h.d.Render.Error(c, err)
			return
		}
		h.renderList(c, http.StatusUnprocessableEntity, t, views.Form{Type: string(Web), RowClientID: clientID, RowValue: uri, RowError: e.Message})
		return
	}
	h.record(c, t, "app.backchannel_logout.updated", clientID, map[string]any{
		"before": map[string]any{"backchannel_logout_uri": before.BackchannelLogoutURI},
		"after":  map[string]any{"backchannel_logout_uri": uri},
	})
	c.Redirect(http.StatusSeeOther, base(t))
}

// RotateKeys is POST /t/:slug/apps/signing-keys/rotate: "rotate signing
// key now". The new key is published at once and signs a few minutes later
// (oidc.ManualRotationLead), so relying parties have it before they meet it.
func (h *Handlers) RotateKeys(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	if h.d.Keys == nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return
	}
	if err := h.d.Keys.RotateNow(c.Request.Context(), t.ID); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	keys, _ := h.d.Keys.Summary(c.Request.Context(), t.ID)
	var next []string
	for _, k := range keys {
		if k.State == KeyNext {
			next = append(next, k.KID)
		}
	}
	h.record(c, t, "signing_key.rotated", t.Slug, map[string]any{"after": map[string]any{"next_keys": next}})
	c.Redirect(http.StatusSeeOther, base(t))
}

// Delete is POST /t/:slug/apps/:client/delete, after a confirmation page.
func (h *Handlers) Delete(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	store := h.d.Store.For(t.ID)
	a, err := store.ByClientID(c.Request.Context(), c.Param("client"))
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	if c.PostForm("confirm") != "yes" {
		h.page(c, http.StatusOK, "Delete "+a.Name, views.Confirm(views.ConfirmPage{
			Base: base(t), Name: a.Name, ClientID: a.ClientID, DeleteURL: base(t) + "/" + a.ClientID + "/delete",
		}))
		return
	}
	if err := store.Delete(c.Request.Context(), a.ClientID); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.record(c, t, "app.deleted", a.ClientID, map[string]any{"before": map[string]any{"name": a.Name, "type": string(a.Type)}})
	c.Redirect(http.StatusSeeOther, base(t))
}

func (h *Handlers) record(c *gin.Context, t *tenants.Tenant, action, target string, detail map[string]any) {
	if h.d.Audit == nil {
		return
	}
	name, ip := h.d.Actor(c)
	_ = h.d.Audit.Record(c.Request.Context(), audit.Event{TenantID: t.ID, Actor: name, Action: action, Target: target, IP: ip, Detail: detail})
}

func (h *Handlers) tenant(c *gin.Context) *tenants.Tenant {
	t := h.d.Tenant(c)
	if t == nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return nil
	}
	return t
}

// page renders content as a full console page.
func (h *Handlers) page(c *gin.Context, status int, title string, content templ.Component) {
	if h.d.Frame != nil {
		h.d.Render.HTML(c, status, h.d.Frame(c, title, content))
		return
	}
	p := h.d.Render.Page(title + " · Gatehouse console")
	p.NoIndex = true
	h.d.Render.HTML(c, status, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return layout.Base(p).Render(templ.WithChildren(ctx, content), w)
	}))
}
