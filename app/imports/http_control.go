package imports

import (
	"context"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// PauseJob pauses a running pass.
func (h *Handlers) PauseJob(c *gin.Context) { h.control(c, h.d.Service.Pause) }

// ResumeJob resumes a paused or failed pass.
func (h *Handlers) ResumeJob(c *gin.Context) { h.control(c, h.d.Service.Resume) }

// CancelJob stops an import for good.
func (h *Handlers) CancelJob(c *gin.Context) { h.control(c, h.d.Service.Cancel) }

func (h *Handlers) control(c *gin.Context, do func(ctx context.Context, tenantID uuid.UUID, a Actor, jobID uuid.UUID) error) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	j := h.jobOf(c, t)
	if j == nil {
		return
	}
	if err := do(c.Request.Context(), t.ID, h.d.Actor(c), j.ID); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	seeOther(c, jobHref(t, j))
}

// DownloadReport sends the last pass's rejected rows as CSV.
func (h *Handlers) DownloadReport(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	j := h.jobOf(c, t)
	if j == nil {
		return
	}
	write, name := h.d.Service.WriteErrorReport, ReportName(j)
	if c.Query("pass") == "dry" {
		write, name = h.d.Service.WriteDryRunReport, strings.TrimSuffix(name, "-errors.csv")+"-dry-run-errors.csv"
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Header("Cache-Control", "no-store")
	c.Status(200)
	if err := write(c.Request.Context(), t.ID, j.ID, c.Writer); err != nil {
		// The status line is sent; the log has the cause.
		_ = c.Error(err)
		h.d.Service.log.Error("import_report_failed", "import_id", j.ID, "error", err)
	}
}

// DownloadTemplate sends a CSV template built from the tenant's
// registration fields: the header the importer maps by itself and one
// example row, named after the tenant.
func (h *Handlers) DownloadTemplate(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	var b strings.Builder
	if err := WriteTemplate(&b, t.Fields, time.Now()); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": TemplateName(t)}))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", []byte(b.String()))
}
