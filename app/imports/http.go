package imports

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

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/imports"
	"gatehouse/views/layout"
)

// HandlerDeps are what the console's import pages need. The console owns
// sign-in, the :slug tenant and the staff member's rights; these handlers
// assume its guard has run (imports read for GET, imports write for POST).
type HandlerDeps struct {
	Service   *Service
	Campaigns *Campaigns // nil hides the campaign panel
	Render    *web.Renderer
	// Frame wraps a page's content in the console chrome (navigation,
	// breadcrumbs, flash). Nil renders the content in a bare document.
	Frame func(c *gin.Context, title string, content templ.Component) templ.Component
	// Tenant is the tenant the console's guard resolved from :slug.
	Tenant func(c *gin.Context) *tenants.Tenant
	// Actor is the signed-in staff member, as the audit trail names them.
	Actor func(c *gin.Context) Actor
	// MaxUpload is the largest upload accepted, in bytes (0: the service's limit).
	MaxUpload int64
}

// Handlers serve the console's import pages.
type Handlers struct {
	d HandlerDeps
}

// NewHandlers returns the import pages.
func NewHandlers(d HandlerDeps) *Handlers {
	if d.MaxUpload <= 0 {
		d.MaxUpload = d.Service.limits.MaxBytes
	}
	return &Handlers{d: d}
}

// Route is one import page, relative to /t/:slug/imports. Write routes
// change something and need the imports write permission; the others need
// imports read.
type Route struct {
	Method string
	Path   string
	Write  bool
	Handle gin.HandlerFunc
}

// Routes lists every import page, for the console's route table.
func (h *Handlers) Routes() []Route {
	return []Route{
		{http.MethodGet, "", false, h.List},
		{http.MethodPost, "", true, h.Upload},
		{http.MethodGet, "/template.csv", false, h.DownloadTemplate},
		{http.MethodGet, "/:job", false, h.Show},
		{http.MethodPost, "/:job/start", true, h.StartPass},
		{http.MethodGet, "/:job/progress", false, h.ShowProgress},
		{http.MethodPost, "/:job/pause", true, h.PauseJob},
		{http.MethodPost, "/:job/resume", true, h.ResumeJob},
		{http.MethodPost, "/:job/cancel", true, h.CancelJob},
		{http.MethodGet, "/:job/errors.csv", false, h.DownloadReport},
		{http.MethodPost, "/campaigns", true, h.StartCampaign},
		{http.MethodPost, "/campaigns/:campaign/stop", true, h.StopCampaign},
	}
}

// Mount registers every route on r under prefix (normally
// "/t/:slug/imports"), each after guards: the console's check of the
// route's permission, chosen by its Write flag.
func (h *Handlers) Mount(r gin.IRoutes, prefix string, read, write gin.HandlerFunc) {
	for _, rt := range h.Routes() {
		guard := read
		if rt.Write {
			guard = write
		}
		chain := []gin.HandlerFunc{}
		if guard != nil {
			chain = append(chain, guard)
		}
		r.Handle(rt.Method, prefix+rt.Path, append(chain, rt.Handle)...)
	}
}

// tenant returns the request's tenant, or answers 404 and nil.
func (h *Handlers) tenant(c *gin.Context) *tenants.Tenant {
	t := h.d.Tenant(c)
	if t == nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return nil
	}
	return t
}

// jobOf loads the :id job of the request's tenant, or answers 404.
func (h *Handlers) jobOf(c *gin.Context, t *tenants.Tenant) *Job {
	id, err := uuid.Parse(c.Param("job"))
	if err != nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return nil
	}
	j, err := h.d.Service.Job(c.Request.Context(), t.ID, id)
	if err != nil {
		h.d.Render.Error(c, err)
		return nil
	}
	return j
}

func base(t *tenants.Tenant) string { return "/t/" + t.Slug + "/imports" }

func jobHref(t *tenants.Tenant, j *Job) string { return base(t) + "/" + j.ID.String() }

// isHTMX reports whether htmx asked for a fragment.
func isHTMX(c *gin.Context) bool {
	c.Writer.Header().Add("Vary", "HX-Request")
	return c.GetHeader("HX-Request") == "true" && c.GetHeader("HX-Boosted") == ""
}

// page renders content as a full console page, or alone for htmx.
func (h *Handlers) page(c *gin.Context, status int, title string, content templ.Component) {
	if isHTMX(c) {
		h.d.Render.HTML(c, status, content)
		return
	}
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

func seeOther(c *gin.Context, path string) { c.Redirect(http.StatusSeeOther, path) }

func statusView(s Status, dry bool) views.Status {
	label := string(s)
	switch s {
	case StatusDone:
		if dry {
			label = "dry run done"
		}
		return views.Status{Label: label, Kind: "ok"}
	case StatusFailed, StatusCancelled:
		return views.Status{Label: label, Kind: "warn"}
	case StatusPaused:
		return views.Status{Label: label, Kind: "off"}
	case StatusRunning, StatusQueued:
		if dry {
			label = "dry run " + label
		}
	}
	return views.Status{Label: label}
}

func countsView(c Counts, report string) views.Counts {
	v := views.Counts{Rows: fmtInt(c.Rows), Created: fmtInt(c.Created), Updated: fmtInt(c.Updated), Skipped: fmtInt(c.Skipped), Rejected: fmtInt(c.Rejected)}
	if c.Rejected > 0 {
		v.ReportHref = report
	}
	return v
}

// fmtInt writes n with thousands separators.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r != '-' && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func when(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }
