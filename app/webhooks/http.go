package webhooks

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/audit"
	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	"gatehouse/views/layout"
	views "gatehouse/views/webhooks"
)

// HandlerDeps are what the console's webhooks pages need. The console owns
// sign-in, the :slug tenant and the staff member's rights; these handlers
// assume its guard has run (settings read for GET, settings write for
// POST, which only owners and admins hold).
type HandlerDeps struct {
	Service *Service
	Render  *web.Renderer
	Audit   Auditor
	// Frame wraps a page's content in the console chrome.
	Frame func(c *gin.Context, title string, content templ.Component) templ.Component
	// Tenant is the tenant the console's guard resolved from :slug.
	Tenant func(c *gin.Context) *tenants.Tenant
	// Actor names the signed-in staff member and their address.
	Actor func(c *gin.Context) (name, ip string)
	// Notify leaves a confirmation for the page a redirect lands on.
	Notify func(c *gin.Context, msg string)
}

// Handlers serve the console's webhooks pages.
type Handlers struct{ d HandlerDeps }

// NewHandlers returns the webhooks pages.
func NewHandlers(d HandlerDeps) *Handlers { return &Handlers{d: d} }

// Route is one webhooks page, relative to /t/:slug/webhooks.
type Route struct {
	Method string
	Path   string
	Write  bool
	Handle gin.HandlerFunc
}

// Routes lists every webhooks page, for the console's route table.
func (h *Handlers) Routes() []Route {
	return []Route{
		{http.MethodGet, "", false, h.List},
		{http.MethodPost, "", true, h.Create},
		{http.MethodGet, "/:endpoint", false, h.Show},
		{http.MethodPost, "/:endpoint/rotate", true, h.Rotate},
		{http.MethodPost, "/:endpoint/enabled", true, h.SetEnabled},
		{http.MethodPost, "/:endpoint/delete", true, h.Delete},
		{http.MethodPost, "/:endpoint/deliveries/:delivery/resend", true, h.Resend},
	}
}

func base(t *tenants.Tenant) string { return "/t/" + t.Slug + "/webhooks" }

func showURL(t *tenants.Tenant, id uuid.UUID) string { return base(t) + "/" + id.String() }

// List is GET /t/:slug/webhooks.
func (h *Handlers) List(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	h.renderList(c, http.StatusOK, t, views.Form{Events: map[string]bool{}})
}

func (h *Handlers) renderList(c *gin.Context, status int, t *tenants.Tenant, f views.Form) {
	list, err := h.d.Service.List(c.Request.Context(), t.ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v := views.ListPage{Base: base(t), Form: f, Events: EventTypes}
	for _, e := range list {
		v.Endpoints = append(v.Endpoints, views.Row{
			URL: e.URL, Description: e.Description, Events: strings.Join(e.Events, ", "), Enabled: e.Enabled, ShowURL: showURL(t, e.ID),
		})
	}
	h.page(c, status, "Webhooks", views.List(v))
}

// Create is POST /t/:slug/webhooks. The secret is shown on the page that
// answers the form, once; it is never put in a redirect or a flash.
func (h *Handlers) Create(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	_ = c.Request.ParseForm()
	f := views.Form{URL: c.PostForm("url"), Description: c.PostForm("description"), Events: map[string]bool{}}
	events := c.PostFormArray("events")
	for _, e := range events {
		f.Events[e] = true
	}
	e, secret, err := h.d.Service.Create(c.Request.Context(), t.ID, New{URL: f.URL, Description: f.Description, Events: events})
	if err != nil {
		ae, ok := apperr.As(err)
		if !ok || ae.Field == "" || ae.Code == apperr.Internal {
			h.d.Render.Error(c, err)
			return
		}
		f.ErrorField, f.Error = ae.Field, fieldLabel(ae.Field)+" "+ae.Message+"."
		h.renderList(c, http.StatusUnprocessableEntity, t, f)
		return
	}
	h.record(c, t, "webhook.endpoint.created", e.URL, map[string]any{"after": map[string]any{
		"url": e.URL, "description": e.Description, "events": e.Events,
	}})
	c.Header("Cache-Control", "no-store")
	h.page(c, http.StatusCreated, "New endpoint", views.Secret(views.SecretPage{
		Base: base(t), ShowURL: showURL(t, e.ID), Title: "Endpoint added", URL: e.URL, Secret: secret,
	}))
}

func fieldLabel(f string) string {
	switch f {
	case "url":
		return "URL"
	case "events":
		return "Events:"
	case "description":
		return "Description"
	}
	return f
}

// Show is GET /t/:slug/webhooks/:endpoint: settings and the delivery log.
func (h *Handlers) Show(c *gin.Context) {
	t, e, ok := h.endpoint(c)
	if !ok {
		return
	}
	log, err := h.d.Service.Deliveries(c.Request.Context(), t.ID, e.ID, 50)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	u := showURL(t, e.ID)
	v := views.ShowPage{
		Base: base(t), URL: e.URL, Description: e.Description, Events: strings.Join(e.Events, ", "), Enabled: e.Enabled,
		DisabledReason: e.DisabledReason, Created: e.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"),
		RotateURL: u + "/rotate", EnabledURL: u + "/enabled", DeleteURL: u + "/delete",
	}
	if e.RotatingUntil != nil {
		v.RotatingUntil = e.RotatingUntil.UTC().Format("2006-01-02 15:04 UTC")
	}
	for _, d := range log {
		row := views.DeliveryRow{
			EventID: d.EventID, EventType: d.EventType, Status: d.Status, Response: "-", Attempts: d.Attempts,
			When: "not yet", Error: d.LastError, ResendURL: u + "/deliveries/" + d.ID.String() + "/resend",
		}
		if d.ResponseStatus != 0 {
			row.Response = strconv.Itoa(d.ResponseStatus)
		}
		if d.LastAttemptAt != nil {
			row.When = d.LastAttemptAt.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	h.page(c, http.StatusOK, "Webhook endpoint", views.Show(v))
}

// Rotate is POST /t/:slug/webhooks/:endpoint/rotate.
func (h *Handlers) Rotate(c *gin.Context) {
	t, e, ok := h.endpoint(c)
	if !ok {
		return
	}
	overlap, err := time.ParseDuration(c.PostForm("overlap"))
	if err != nil {
		h.d.Render.Error(c, apperr.Field("overlap", "pick how long the old secret keeps signing"))
		return
	}
	secret, err := h.d.Service.Rotate(c.Request.Context(), t.ID, e.ID, overlap)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.record(c, t, "webhook.secret.rotated", e.URL, map[string]any{"overlap_seconds": int(overlap.Seconds())})
	note := "The previous secret no longer signs."
	if overlap > 0 {
		note = "For " + overlap.String() + " every request carries two signatures, one for each secret."
	}
	c.Header("Cache-Control", "no-store")
	h.page(c, http.StatusOK, "New secret", views.Secret(views.SecretPage{
		Base: base(t), ShowURL: showURL(t, e.ID), Title: "New signing secret", URL: e.URL, Secret: secret, Note: note,
	}))
}

// SetEnabled is POST /t/:slug/webhooks/:endpoint/enabled with enabled=true|false.
func (h *Handlers) SetEnabled(c *gin.Context) {
	t, e, ok := h.endpoint(c)
	if !ok {
		return
	}
	on, err := strconv.ParseBool(c.PostForm("enabled"))
	if err != nil {
		h.d.Render.Error(c, apperr.Field("enabled", "must be true or false"))
		return
	}
	if err := h.d.Service.SetEnabled(c.Request.Context(), t.ID, e.ID, on); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.record(c, t, "webhook.endpoint.enabled_changed", e.URL, map[string]any{"before": e.Enabled, "after": on})
	msg := "Endpoint disabled: it gets no events until it is enabled again."
	if on {
		msg = "Endpoint enabled."
	}
	h.notify(c, msg)
	c.Redirect(http.StatusSeeOther, showURL(t, e.ID))
}

// Delete is POST /t/:slug/webhooks/:endpoint/delete, after a confirmation page.
func (h *Handlers) Delete(c *gin.Context) {
	t, e, ok := h.endpoint(c)
	if !ok {
		return
	}
	u := showURL(t, e.ID)
	if c.PostForm("confirm") != "yes" {
		h.page(c, http.StatusOK, "Delete endpoint", views.Confirm(views.ConfirmPage{Base: base(t), URL: e.URL, DeleteURL: u + "/delete", ShowURL: u}))
		return
	}
	if err := h.d.Service.Delete(c.Request.Context(), t.ID, e.ID); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.record(c, t, "webhook.endpoint.deleted", e.URL, map[string]any{"before": map[string]any{"url": e.URL, "events": e.Events}})
	h.notify(c, "Endpoint deleted.")
	c.Redirect(http.StatusSeeOther, base(t))
}

// Resend is POST /t/:slug/webhooks/:endpoint/deliveries/:delivery/resend.
func (h *Handlers) Resend(c *gin.Context) {
	t, e, ok := h.endpoint(c)
	if !ok {
		return
	}
	id, err := uuid.Parse(c.Param("delivery"))
	if err != nil {
		h.d.Render.Error(c, errNoDelivery)
		return
	}
	if err := h.d.Service.Resend(c.Request.Context(), t.ID, e.ID, id); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.record(c, t, "webhook.delivery.resent", e.URL, map[string]any{"delivery_id": id.String()})
	h.notify(c, "Queued again: it appears at the top of the log.")
	c.Redirect(http.StatusSeeOther, showURL(t, e.ID))
}

// endpoint loads :endpoint within the guard's tenant; another tenant's id
// is the same 404 as one that never existed.
func (h *Handlers) endpoint(c *gin.Context) (*tenants.Tenant, Endpoint, bool) {
	t := h.tenant(c)
	if t == nil {
		return nil, Endpoint{}, false
	}
	id, err := uuid.Parse(c.Param("endpoint"))
	if err != nil {
		h.d.Render.Error(c, errNoEndpoint)
		return nil, Endpoint{}, false
	}
	e, err := h.d.Service.Get(c.Request.Context(), t.ID, id)
	if err != nil {
		h.d.Render.Error(c, err)
		return nil, Endpoint{}, false
	}
	return t, e, true
}

func (h *Handlers) notify(c *gin.Context, msg string) {
	if h.d.Notify != nil {
		h.d.Notify(c, msg)
	}
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
