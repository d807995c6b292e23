package api

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/imports"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// importRoutes serve /imports: a brand's back-end streams a file of
// customers into the same pipeline as the console's upload, then follows
// it, reads its error report and pauses, resumes or cancels it.
type importRoutes struct {
	svc *imports.Service
}

// mountImports registers the import routes on g (the tenant's /api/v1).
// Every one needs a machine token with imports:write.
// Every POST honours Idempotency-Key; the file upload hashes its body as
// it streams (streamIdempotent) instead of reading it first.
func mountImports(g *gin.RouterGroup, d Deps) {
	h := importRoutes{svc: d.Imports}
	f := &framework{d: d}
	r := g.Group("/imports", RequireMachine(ScopeImportsWrite))
	r.POST("", f.streamIdempotent(func() int64 { return h.svc.MaxUpload() }), h.create)
	r.GET("/:id", h.show)
	r.GET("/:id/errors", h.report)
	r.POST("/:id/pause", f.idempotent, h.control((*imports.Service).Pause))
	r.POST("/:id/resume", f.idempotent, h.control((*imports.Service).Resume))
	r.POST("/:id/cancel", f.idempotent, h.control((*imports.Service).Cancel))
	r.POST("/:id/run", f.idempotent, h.run)
}

// importOptions are the query parameters POST /imports takes; any other
// parameter is refused, so that a misspelt dry_run cannot start a real run.
var importOptions = map[string]bool{
	"dry_run": true, "mode": true, "map": true, "date_format": true, "country": true, "legacy_passwords": true, "name": true,
}

// create streams the request body into a new import and starts its dry
// run or run.
func (h importRoutes) create(c *gin.Context) {
	t := tenants.FromGin(c)
	sub, err := submissionOf(c, t)
	if err != nil {
		Problem(c, err)
		return
	}
	sub.Body = imports.UploadBody(c.Writer, c.Request.Body, h.svc.MaxUpload())
	j, err := h.svc.Submit(c.Request.Context(), t, actorOf(c), sub)
	if err != nil {
		Problem(c, bodyError(err))
		return
	}
	h.respond(c, http.StatusAccepted, t.ID, j.ID)
}

// submissionOf reads the body's format from Content-Type and the options
// from the query.
func submissionOf(c *gin.Context, t *tenants.Tenant) (imports.Submission, error) {
	var sub imports.Submission
	format, err := formatOf(c.GetHeader("Content-Type"))
	if err != nil {
		return sub, err
	}
	sub.Format = format
	q := c.Request.URL.Query()
	for k := range q {
		if !importOptions[k] {
			return sub, apperr.Field(clipParam(k), "%q is not a parameter of this endpoint: use dry_run, mode, map, date_format, country, legacy_passwords or name", clipParam(k))
		}
	}
	if sub.DryRun, err = boolParam(q.Get("dry_run"), "dry_run"); err != nil {
		return sub, err
	}
	if sub.Mapping.LegacyPasswords, err = boolParam(q.Get("legacy_passwords"), "legacy_passwords"); err != nil {
		return sub, err
	}
	if sub.Mapping.Mode, err = imports.ParseMode(q.Get("mode")); err != nil {
		return sub, err
	}
	sub.Mapping.DateLayout = q.Get("date_format")
	sub.Mapping.DefaultCountry = strings.ToUpper(strings.TrimSpace(q.Get("country")))
	for _, pair := range q["map"] {
		cm, err := imports.ParseColumnMap("map", pair, t.Fields)
		if err != nil {
			return sub, err
		}
		sub.Mapping.Columns = append(sub.Mapping.Columns, cm)
	}
	sub.Name = q.Get("name")
	if sub.Name == "" {
		sub.Name = "upload." + string(format)
	}
	return sub, nil
}

// formatOf maps the request's media type to a file format: text/csv for
// CSV (any of , ; TAB |), application/x-ndjson (or application/jsonl)
// for JSON Lines. The body must be UTF-8.
func formatOf(contentType string) (imports.Format, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", apperr.Field("Content-Type", "send the file as text/csv or application/x-ndjson")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return "", apperr.Field("Content-Type", "charset %q is not supported: send the file as UTF-8", clipParam(cs))
	}
	switch mt {
	case "text/csv":
		return imports.FormatCSV, nil
	case "application/x-ndjson", "application/jsonl":
		return imports.FormatJSONL, nil
	}
	return "", apperr.Field("Content-Type", "%q is not a format this endpoint takes: send text/csv or application/x-ndjson", clipParam(mt))
}

// clipParam keeps what a caller sent short enough to repeat in a message.
func clipParam(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}

func boolParam(v, name string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, apperr.Field(name, "%q is not true or false", clipParam(v))
}

// bodyError names the body in a file's own error (a line that cannot be
// read, a file too large), so the problem's errors list points at it.
func bodyError(err error) error {
	var fe *imports.FileError
	if errors.As(err, &fe) {
		return apperr.Field("body", "%s", fe.Error())
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.Field("body", "the file is too large")
	}
	return err
}

// show answers the import's progress.
func (h importRoutes) show(c *gin.Context) {
	t := tenants.FromGin(c)
	id, ok := importID(c)
	if !ok {
		return
	}
	h.respond(c, http.StatusOK, t.ID, id)
}

// report sends the last pass's rejected rows as CSV, every cell
// neutralised for spreadsheets as the console's download is.
func (h importRoutes) report(c *gin.Context) {
	t := tenants.FromGin(c)
	id, ok := importID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	j, err := h.svc.Job(ctx, t.ID, id)
	if err != nil {
		Problem(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": imports.ReportName(j)}))
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if err := h.svc.WriteErrorReport(ctx, t.ID, j.ID, c.Writer); err != nil {
		// The status line is sent; the error goes to the log with the request.
		_ = c.Error(err)
	}
}

// control runs pause, resume or cancel and answers the import as it now is.
func (h importRoutes) control(do func(*imports.Service, context.Context, uuid.UUID, imports.Actor, uuid.UUID) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		t := tenants.FromGin(c)
		id, ok := importID(c)
		if !ok {
			return
		}
		if err := do(h.svc, c.Request.Context(), t.ID, actorOf(c), id); err != nil {
			Problem(c, err)
			return
		}
		h.respond(c, http.StatusOK, t.ID, id)
	}
}

// run starts the real run of a finished dry run, with its mapping.
func (h importRoutes) run(c *gin.Context) {
	t := tenants.FromGin(c)
	id, ok := importID(c)
	if !ok {
		return
	}
	if _, err := h.svc.RunAfterDry(c.Request.Context(), t, actorOf(c), id); err != nil {
		Problem(c, err)
		return
	}
	h.respond(c, http.StatusAccepted, t.ID, id)
}

func (h importRoutes) respond(c *gin.Context, status int, tenantID, id uuid.UUID) {
	p, err := h.svc.Progress(c.Request.Context(), tenantID, id)
	if err != nil {
		Problem(c, err)
		return
	}
	v := importViewOf(p)
	if status == http.StatusAccepted {
		c.Header("Location", v.Links.Self)
	}
	c.JSON(status, v)
}

// importID reads the :id path parameter; anything but a UUID is an
// import that does not exist.
func importID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		Problem(c, apperr.New(apperr.NotFound, "no such import"))
		return uuid.Nil, false
	}
	return id, true
}

// actorOf names the machine client in the audit trail.
func actorOf(c *gin.Context) imports.Actor {
	return imports.Actor{Name: "client:" + PrincipalOf(c).ClientID, IP: c.ClientIP()}
}

// importView is an import as the API shows it.
type importView struct {
	ID            string       `json:"id"`
	Status        string       `json:"status"`
	DryRun        bool         `json:"dry_run"`
	Mode          string       `json:"mode"`
	Format        string       `json:"format"`
	FileName      string       `json:"file_name"`
	Bytes         int64        `json:"bytes"`
	Rows          int64        `json:"rows"`
	Scanned       int64        `json:"scanned"`
	Applied       int64        `json:"applied"`
	Percent       int          `json:"percent"`
	RowsPerSecond float64      `json:"rows_per_second"`
	ETASeconds    *int64       `json:"eta_seconds"`
	Counts        countsView   `json:"counts"`
	Mapping       []columnView `json:"mapping"`
	Error         string       `json:"error,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
	StartedAt     *time.Time   `json:"started_at"`
	FinishedAt    *time.Time   `json:"finished_at"`
	Links         importLinks  `json:"links"`
	Result        *resultView  `json:"result,omitempty"`
}

type countsView struct {
	Rows     int64 `json:"rows"`
	Created  int64 `json:"created"`
	Updated  int64 `json:"updated"`
	Skipped  int64 `json:"skipped"`
	Rejected int64 `json:"rejected"`
}

type resultView struct {
	DryRun *countsView `json:"dry_run,omitempty"`
	Run    *countsView `json:"run,omitempty"`
}

type columnView struct {
	Column string `json:"column"`
	Target string `json:"target"`
}

type importLinks struct {
	Self   string `json:"self"`
	Errors string `json:"errors"`
}

func countsOf(c imports.Counts) countsView {
	return countsView{Rows: c.Rows, Created: c.Created, Updated: c.Updated, Skipped: c.Skipped, Rejected: c.Rejected}
}

func importViewOf(p imports.Progress) importView {
	j := p.Job
	self := "/api/v1/imports/" + j.ID.String()
	v := importView{
		ID: j.ID.String(), Status: string(j.Status), DryRun: j.DryRun, Mode: string(j.Mapping.Mode), Format: string(j.Dialect.Format),
		FileName: j.FileName, Bytes: j.SizeBytes, Rows: j.Rows, Scanned: p.Scanned, Applied: p.Applied, Percent: p.Percent,
		RowsPerSecond: p.RowsPerSecond, Counts: countsOf(p.Counts), Error: j.Error, CreatedAt: j.CreatedAt.UTC(),
		StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, Links: importLinks{Self: self, Errors: self + "/errors"},
		Mapping: []columnView{},
	}
	if p.ETA > 0 {
		s := int64(p.ETA.Round(time.Second) / time.Second)
		v.ETASeconds = &s
	}
	// Only the columns that go somewhere: a file may have a thousand.
	for _, cm := range j.Mapping.Columns {
		if cm.Target == imports.TargetIgnore || cm.Target == "" {
			continue
		}
		v.Mapping = append(v.Mapping, columnView{Column: cm.Column, Target: string(cm.Target)})
	}
	if j.Result.Dry != nil || j.Result.Run != nil {
		v.Result = &resultView{}
		if j.Result.Dry != nil {
			d := countsOf(*j.Result.Dry)
			v.Result.DryRun = &d
		}
		if j.Result.Run != nil {
			r := countsOf(*j.Result.Run)
			v.Result.Run = &r
		}
	}
	return v
}
