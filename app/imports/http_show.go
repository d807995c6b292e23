package imports

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/imports"
)

// previewRows is how many rows the page shows.
const previewRows = PreviewRows

// Show is one import's page: where it stands, its results, the mapping
// form while a pass can start, and the file's first rows. ?mapping=NAME
// fills the form from a saved mapping.
func (h *Handlers) Show(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	j := h.jobOf(c, t)
	if j == nil {
		return
	}
	m := j.Mapping
	if name := c.Query("mapping"); name != "" {
		saved, err := h.d.Service.Mapping(c.Request.Context(), t.ID, name)
		if err != nil {
			h.d.Render.Error(c, err)
			return
		}
		m = saved
	}
	h.renderJob(c, t, j, m, "", http.StatusOK)
}

// renderJob renders the job page with mapping m in the form and formErr
// above it.
func (h *Handlers) renderJob(c *gin.Context, t *tenants.Tenant, j *Job, m Mapping, formErr string, status int) {
	ctx := c.Request.Context()
	prev, err := h.d.Service.Preview(ctx, t.ID, j.ID, previewRows)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	prog, err := h.d.Service.Progress(ctx, t.ID, j.ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	href := jobHref(t, j)
	v := views.JobPage{
		Base: base(t), Href: href, FileName: j.FileName, Status: statusView(j.Status, j.DryRun), Created: when(j.CreatedAt),
		CreatedBy: strings.TrimPrefix(j.CreatedBy, "staff:"), Format: formatName(j.Dialect), Size: humanBytes(j.SizeBytes),
		Rows: fmtInt(j.Rows), Progress: progressView(t, prog),
	}
	if j.Status == StatusFailed || j.Status == StatusCancelled {
		v.Error = clipTo(j.Error, maxMessage)
	}
	report := href + "/errors.csv"
	if j.Result.Dry != nil {
		cv := countsView(*j.Result.Dry, "")
		switch {
		case j.DryRun && j.Status == StatusDone:
			cv = countsView(*j.Result.Dry, report)
		case !j.DryRun && j.Result.DryPass > 0:
			// The real run followed it; its rejected rows were kept.
			cv = countsView(*j.Result.Dry, report+"?pass=dry")
		}
		v.Dry = &cv
	}
	if j.Result.Run != nil {
		cv := countsView(*j.Result.Run, report)
		v.Run = &cv
	}
	// Everything from the file is clipped: one row or header may be up to a
	// megabyte, which the page must not repeat.
	v.Preview.Columns = clipAll(prev.Columns)
	for _, r := range prev.Rows {
		v.Preview.Rows = append(v.Preview.Rows, views.PreviewRow{Line: strconv.FormatInt(r.Line, 10), Values: clipAll(r.Values), Error: clipTo(r.Error, maxMessage)})
	}
	switch j.Status {
	case StatusQueued, StatusRunning:
		v.Controls = views.Controls{PauseAction: href + "/pause", CancelAction: href + "/cancel"}
	case StatusPaused:
		v.Controls = views.Controls{ResumeAction: href + "/resume", CancelAction: href + "/cancel"}
	case StatusFailed:
		if j.Run > 0 {
			v.Controls.ResumeAction = href + "/resume"
		}
		v.Controls.CancelAction = href + "/cancel"
	case StatusReady:
		v.Controls.CancelAction = href + "/cancel"
	}
	if j.Startable() {
		form, err := h.mappingForm(c, t, j, prev, m)
		if err != nil {
			h.d.Render.Error(c, err)
			return
		}
		form.Error = clipTo(formErr, maxMessage)
		v.Mapping = &form
	}
	h.page(c, status, j.FileName, views.Job(v))
}

// maxMessage is the most of a message a page shows. Messages are ours, but
// they may quote a file's values, each clipped already.
const maxMessage = 500

// clipAll clips each of a file's values for the page.
func clipAll(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = clip(v)
	}
	return out
}

func formatName(d Dialect) string {
	if d.Format == FormatJSONL {
		return "JSON Lines"
	}
	if d.Format == "" {
		return "unknown format"
	}
	return "CSV (" + DelimiterName(d.Delimiter) + ")"
}

func (h *Handlers) mappingForm(c *gin.Context, t *tenants.Tenant, j *Job, prev Preview, m Mapping) (views.MappingForm, error) {
	href := jobHref(t, j)
	if len(m.Columns) == 0 {
		m.Columns = AutoMap(prev.Columns, t.Fields, m.LegacyPasswords)
	}
	if m.Mode == "" {
		m.Mode = DefaultMode
	}
	f := views.MappingForm{Action: href + "/start", SavedAction: href, Country: m.DefaultCountry, Legacy: m.LegacyPasswords, HasRun: j.Result.Dry != nil}
	targets := []struct {
		t     Target
		label string
	}{{TargetIgnore, "Ignore"}, {TargetEmail, "Email"}, {TargetEmailVerified, "Email verified (yes/no)"}, {TargetCreatedAt, "Signed up at"}, {TargetPasswordHash, "Password hash (legacy)"}}
	for _, fl := range t.Fields {
		targets = append(targets, struct {
			t     Target
			label string
		}{FieldTarget(fl.Key), fl.Label + " (" + string(fl.Type) + ")"})
	}
	for i, col := range prev.Columns {
		mc := views.MappingColumn{Index: strconv.Itoa(i), Name: clip(col)}
		for _, r := range prev.Rows {
			if i < len(r.Values) && strings.TrimSpace(r.Values[i]) != "" {
				mc.Sample = clip(r.Values[i])
				break
			}
		}
		current := m.TargetOf(col)
		for _, tg := range targets {
			mc.Targets = append(mc.Targets, views.Option{Value: string(tg.t), Label: tg.label, Selected: tg.t == current})
		}
		f.Columns = append(f.Columns, mc)
	}
	for _, md := range []struct {
		m     Mode
		label string
	}{{ModeCreate, "Leave them as they are; only add new ones (create)"}, {ModeUpsert, "Update them, and add new ones (upsert)"}, {ModeUpdate, "Update them; add nobody new (update)"}} {
		f.Modes = append(f.Modes, views.Option{Value: string(md.m), Label: md.label, Selected: md.m == m.Mode})
	}
	layoutNow := m.DateLayout
	if layoutNow == "" {
		layoutNow = DateLayouts[0]
	}
	for _, l := range DateLayouts {
		f.DateLayouts = append(f.DateLayouts, views.Option{Value: l, Label: l, Selected: strings.EqualFold(l, layoutNow)})
	}
	saved, err := h.d.Service.Mappings(c.Request.Context(), t.ID)
	if err != nil {
		return f, err
	}
	for _, s := range saved {
		f.Saved = append(f.Saved, views.Option{Value: s.Name, Label: s.Name, Selected: s.Name == c.Query("mapping")})
	}
	return f, nil
}

// progressView maps a pass's progress to the panel.
func progressView(t *tenants.Tenant, p Progress) views.ProgressPanel {
	j := p.Job
	v := views.ProgressPanel{
		Href: jobHref(t, j) + "/progress", Active: j.Status.Active(), DryRun: j.DryRun, Status: statusView(j.Status, j.DryRun),
		Percent: p.Percent, PercentText: strconv.Itoa(p.Percent) + "%", Started: j.Run > 0,
		Done:   fmtInt(p.Applied) + " of " + fmtInt(j.Rows) + " rows",
		Counts: countsView(p.Counts, ""),
	}
	if j.Status.Active() {
		switch j.Phase {
		case PhaseScan:
			v.Phase = "reading emails"
		case PhaseApply:
			v.Phase = "checking and writing rows"
			if j.DryRun {
				v.Phase = "checking rows"
			}
		}
	}
	if p.RowsPerSecond >= 1 {
		v.RowsPerSecond = fmtInt(int64(p.RowsPerSecond))
	}
	if p.ETA > 0 {
		v.ETA = p.ETA.Round(time.Second).String()
	}
	if j.Status == StatusFailed {
		v.Error = clipTo(j.Error, maxMessage)
	}
	return v
}

// ShowProgress is the progress panel, polled by htmx while a pass runs.
// When the pass has just ended it asks the browser to reload the page, so
// the results and the report link appear.
func (h *Handlers) ShowProgress(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	j := h.jobOf(c, t)
	if j == nil {
		return
	}
	p, err := h.d.Service.Progress(c.Request.Context(), t.ID, j.ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if isHTMX(c) && !p.Job.Status.Active() {
		c.Header("HX-Refresh", "true")
	}
	h.page(c, http.StatusOK, j.FileName, views.Progress(progressView(t, p)))
}

// StartPass starts a dry run (action=dry) or the run (action=run) with the
// mapping in the form.
func (h *Handlers) StartPass(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	j := h.jobOf(c, t)
	if j == nil {
		return
	}
	ctx := c.Request.Context()
	prev, err := h.d.Service.Preview(ctx, t.ID, j.ID, 1)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	m := Mapping{
		Mode: Mode(c.PostForm("mode")), DateLayout: c.PostForm("date_format"),
		DefaultCountry: strings.ToUpper(strings.TrimSpace(c.PostForm("country"))), LegacyPasswords: c.PostForm("legacy_passwords") != "",
	}
	// The column names come from the file, never from the form.
	for i, col := range prev.Columns {
		tg, err := ParseTarget(c.PostForm("target_"+strconv.Itoa(i)), t.Fields)
		if err != nil {
			h.renderJob(c, t, j, m, "Column "+strconv.Quote(clip(col))+": "+apperrMessage(err), http.StatusUnprocessableEntity)
			return
		}
		m.Columns = append(m.Columns, ColumnMap{Column: col, Target: tg})
	}
	dry := c.PostForm("action") != "run"
	if err := m.Check(j.Dialect, t.Fields); err != nil {
		h.renderJob(c, t, j, m, apperrMessage(err), http.StatusUnprocessableEntity)
		return
	}
	if !dry && m.Mode != ModeCreate && c.PostForm("confirm") != "yes" {
		// A real pass that may overwrite profiles asks first, with how many
		// existing customers it changes when a dry run knows.
		h.confirmOverwrite(c, t, j, m)
		return
	}
	actor := h.d.Actor(c)
	if name := strings.TrimSpace(c.PostForm("save_as")); name != "" {
		if err := h.d.Service.SaveMapping(ctx, t.ID, actor, name, m); err != nil {
			h.renderJob(c, t, j, m, apperrMessage(err), http.StatusUnprocessableEntity)
			return
		}
	}
	if _, err := h.d.Service.Start(ctx, t, actor, j.ID, m, dry); err != nil {
		if e, ok := apperr.As(err); ok && (e.Code == apperr.Invalid || e.Code == apperr.Conflict) {
			h.renderJob(c, t, j, m, e.Message, http.StatusUnprocessableEntity)
			return
		}
		h.d.Render.Error(c, err)
		return
	}
	seeOther(c, jobHref(t, j))
}

func apperrMessage(err error) string {
	if e, ok := apperr.As(err); ok && e.Code != apperr.Internal {
		return e.Message
	}
	return "Something went wrong."
}

// confirmOverwrite asks before an upsert or update run. The count comes
// from the last pass when it was a dry run of the same mode; otherwise
// the page says it is unknown and offers the dry run.
func (h *Handlers) confirmOverwrite(c *gin.Context, t *tenants.Tenant, j *Job, m Mapping) {
	_ = c.Request.ParseForm()
	v := views.OverwriteConfirm{Action: jobHref(t, j) + "/start", Cancel: jobHref(t, j), Mode: string(m.Mode)}
	for k, vals := range c.Request.PostForm {
		if k == "confirm" {
			continue
		}
		for _, val := range vals {
			v.Fields = append(v.Fields, views.Hidden{Name: k, Value: val})
		}
	}
	sort.Slice(v.Fields, func(a, b int) bool { return v.Fields[a].Name < v.Fields[b].Name })
	if d := j.Result.Dry; d != nil && j.DryRun && j.Mapping.Mode == m.Mode {
		v.Known = true
		v.Changes = fmtInt(d.Updated) + " existing " + plural(d.Updated, "customer", "customers")
	}
	h.page(c, http.StatusOK, "Overwrite existing customers?", views.ConfirmOverwrite(v))
}
