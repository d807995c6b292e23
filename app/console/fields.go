package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/console"
)

// fieldForm is one registration field as the editor posts it.
type fieldForm struct {
	Key, Label, Type, Capture, HelpText, Options                       string
	MinLength, MaxLength, Pattern, Min, Max, MinDate, MaxDate, Country string
	Claim, ClaimScope                                                  string
}

func bindField(c *gin.Context) fieldForm {
	p := func(k string) string { return strings.TrimSpace(c.PostForm(k)) }
	return fieldForm{
		Key: p("key"), Label: p("label"), Type: p("type"), Capture: p("capture"), HelpText: p("help_text"),
		Options: c.PostForm("options"), MinLength: p("min_length"), MaxLength: p("max_length"), Pattern: p("pattern"),
		Min: p("min"), Max: p("max"), MinDate: p("min_date"), MaxDate: p("max_date"), Country: strings.ToUpper(p("country")),
		Claim: p("claim"), ClaimScope: p("claim_scope"),
	}
}

func fieldFormOf(f tenants.Field) fieldForm {
	ff := fieldForm{
		Key: f.Key, Label: f.Label, Type: string(f.Type), Capture: string(f.Capture), HelpText: f.HelpText,
		Pattern: f.Validation.Pattern, MinDate: f.Validation.MinDate, MaxDate: f.Validation.MaxDate, Country: f.Validation.Country,
		Min: floatText(f.Validation.Min), Max: floatText(f.Validation.Max),
		Claim: f.Claim, ClaimScope: f.ClaimScope,
	}
	if f.Validation.MinLength > 0 {
		ff.MinLength = strconv.Itoa(f.Validation.MinLength)
	}
	if f.Validation.MaxLength > 0 {
		ff.MaxLength = strconv.Itoa(f.Validation.MaxLength)
	}
	var lines []string
	for _, o := range f.Options {
		lines = append(lines, o.Value+" | "+o.Label)
	}
	ff.Options = strings.Join(lines, "\n")
	return ff
}

// field parses the form into a field; the schema check (tenants.CheckSchema)
// happens on save. Only the validation that applies to the type is kept.
func (f fieldForm) field() (tenants.Field, error) {
	out := tenants.Field{Key: f.Key, Label: f.Label, Type: tenants.FieldType(f.Type), Capture: tenants.Capture(f.Capture), HelpText: f.HelpText,
		Claim: f.Claim, ClaimScope: f.ClaimScope}
	atoi := func(s string) (int, error) {
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, apperr.Field("validation", "lengths must be whole numbers")
		}
		return n, nil
	}
	atof := func(s string) (*float64, error) {
		if s == "" {
			return nil, nil
		}
		n, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", "."), 64)
		if err != nil {
			return nil, apperr.Field("validation", "the minimum and maximum must be numbers")
		}
		return &n, nil
	}
	var err error
	switch out.Type {
	case tenants.TypeText:
		if out.Validation.MinLength, err = atoi(f.MinLength); err != nil {
			return out, err
		}
		if out.Validation.MaxLength, err = atoi(f.MaxLength); err != nil {
			return out, err
		}
		out.Validation.Pattern = f.Pattern
	case tenants.TypeNumber:
		if out.Validation.Min, err = atof(f.Min); err != nil {
			return out, err
		}
		if out.Validation.Max, err = atof(f.Max); err != nil {
			return out, err
		}
	case tenants.TypeDate:
		out.Validation.MinDate, out.Validation.MaxDate = f.MinDate, f.MaxDate
	case tenants.TypePhone:
		out.Validation.Country = f.Country
	case tenants.TypeSelect:
		for _, line := range strings.Split(f.Options, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			value, label, ok := strings.Cut(line, "|")
			if !ok {
				label = value
			}
			out.Options = append(out.Options, tenants.Option{Value: strings.TrimSpace(value), Label: strings.TrimSpace(label)})
		}
		if len(out.Options) > 200 {
			return out, apperr.Field("options", "at most 200 options")
		}
	}
	return out, nil
}

func typeOptions(selected string) []views.Option {
	labels := map[tenants.FieldType]string{
		tenants.TypeText: "Text", tenants.TypeNumber: "Number", tenants.TypeDate: "Date", tenants.TypeSelect: "Choice (select)",
		tenants.TypeCheckbox: "Checkbox", tenants.TypePhone: "Phone number", tenants.TypeCountry: "Country",
	}
	out := make([]views.Option, 0, len(tenants.FieldTypes))
	for _, t := range tenants.FieldTypes {
		out = append(out, views.Option{Value: string(t), Label: labels[t], Selected: string(t) == selected})
	}
	return out
}

func captureOptions(selected string) []views.Option {
	labels := map[tenants.Capture]string{
		tenants.CaptureRequired: "At sign-up, required", tenants.CaptureOptional: "At sign-up, optional",
		tenants.CaptureLater: "Later, on the profile page",
	}
	if selected == "" {
		selected = string(tenants.CaptureOptional)
	}
	out := make([]views.Option, 0, len(tenants.Captures))
	for _, c := range tenants.Captures {
		out = append(out, views.Option{Value: string(c), Label: labels[c], Selected: string(c) == selected})
	}
	return out
}

func (f fieldForm) view(action string, locked bool, errs views.Errors) views.FieldForm {
	return views.FieldForm{
		Action: action, KeyLocked: locked, Key: f.Key, Label: f.Label, Type: f.Type, Capture: f.Capture,
		HelpText: f.HelpText, Options: f.Options, MinLength: f.MinLength, MaxLength: f.MaxLength, Pattern: f.Pattern,
		Min: f.Min, Max: f.Max, MinDate: f.MinDate, MaxDate: f.MaxDate, Country: f.Country,
		Claim: f.Claim, ClaimScope: f.ClaimScope,
		Types: typeOptions(f.Type), Captures: captureOptions(f.Capture), Errors: errs,
	}
}

// fieldsPage builds the editor's view model for t's saved fields.
func (h *Handlers) fieldsPage(t *tenants.Tenant, add views.FieldForm, errMsg string) views.FieldsPage {
	v := views.FieldsPage{Slug: t.Slug, Add: add, Error: errMsg,
		PreviewURL: "/t/" + t.Slug + "/theme/preview/login?mode=signup&v=" + strconv.FormatInt(t.UpdatedAt.UnixNano(), 36)}
	for i, f := range t.Fields {
		v.Rows = append(v.Rows, views.FieldRow{Key: f.Key, Label: f.Label, Type: string(f.Type), Capture: string(f.Capture), Claim: f.Claim, ClaimScope: f.ClaimScope, First: i == 0, Last: i == len(t.Fields)-1})
	}
	return v
}

func (h *Handlers) renderFields(c *gin.Context, status int, t *tenants.Tenant, add views.FieldForm, errMsg string) {
	v := h.fieldsPage(t, add, errMsg)
	v.Chrome = h.chrome(c, "Registration fields · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Registration fields"})...)
	h.d.Render.HTML(c, status, views.Fields(v))
}

// FieldsShow is GET /t/:slug/fields.
func (h *Handlers) FieldsShow(c *gin.Context) {
	t := tenantOf(c)
	h.renderFields(c, http.StatusOK, t, fieldForm{Type: "text", Capture: "optional"}.view("/t/"+t.Slug+"/fields", false, nil), "")
}

// FieldAdd is POST /t/:slug/fields: the new field goes last.
func (h *Handlers) FieldAdd(c *gin.Context) {
	t := tenantOf(c)
	f := bindField(c)
	field, err := f.field()
	if err == nil {
		if slices.ContainsFunc(t.Fields, func(x tenants.Field) bool { return x.Key == field.Key }) {
			err = &apperr.Error{Code: apperr.Conflict, Field: "key", Message: "a field with the key " + field.Key + " already exists"}
		} else {
			_, err = h.changes.saveFields(c.Request.Context(), actor(c), t, append(slices.Clone(t.Fields), field), "field.added", field.Key, nil, field)
		}
	}
	if err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderFields(c, status, t, f.view("/t/"+t.Slug+"/fields", false, errs), "")
		return
	}
	h.done(c, "Field “"+field.Label+"” added.", "/t/"+t.Slug+"/fields")
}

// fieldIndex finds the :key field of t, or answers 404.
func (h *Handlers) fieldIndex(c *gin.Context, t *tenants.Tenant) (int, bool) {
	i := slices.IndexFunc(t.Fields, func(f tenants.Field) bool { return f.Key == c.Param("key") })
	if i < 0 {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "no such field"))
		return 0, false
	}
	return i, true
}

func (h *Handlers) renderFieldEdit(c *gin.Context, status int, t *tenants.Tenant, f fieldForm, errs views.Errors) {
	v := views.FieldEditPage{Slug: t.Slug, Form: f.view("/t/"+t.Slug+"/fields/"+f.Key, true, errs)}
	v.Chrome = h.chrome(c, "Edit field · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Registration fields", Href: "/t/" + t.Slug + "/fields"}, views.Crumb{Label: f.Label})...)
	h.d.Render.HTML(c, status, views.FieldEdit(v))
}

// FieldEdit is GET /t/:slug/fields/:key.
func (h *Handlers) FieldEdit(c *gin.Context) {
	t := tenantOf(c)
	i, ok := h.fieldIndex(c, t)
	if !ok {
		return
	}
	h.renderFieldEdit(c, http.StatusOK, t, fieldFormOf(t.Fields[i]), nil)
}

// FieldSave is POST /t/:slug/fields/:key. The key comes from the URL, never
// the form: it cannot change once the field exists.
func (h *Handlers) FieldSave(c *gin.Context) {
	t := tenantOf(c)
	i, ok := h.fieldIndex(c, t)
	if !ok {
		return
	}
	f := bindField(c)
	f.Key = t.Fields[i].Key
	field, err := f.field()
	if err == nil {
		fields := slices.Clone(t.Fields)
		fields[i] = field
		_, err = h.changes.saveFields(c.Request.Context(), actor(c), t, fields, "field.updated", field.Key, &t.Fields[i], field)
	}
	if err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderFieldEdit(c, status, t, f, errs)
		return
	}
	h.done(c, "Field “"+field.Label+"” saved.", "/t/"+t.Slug+"/fields")
}

// FieldMove is POST /t/:slug/fields/:key/move with dir=up|down. With htmx
// it answers with the list alone; without, it redirects back.
func (h *Handlers) FieldMove(c *gin.Context) {
	t := tenantOf(c)
	i, ok := h.fieldIndex(c, t)
	if !ok {
		return
	}
	j := i - 1
	switch c.PostForm("dir") {
	case "up":
	case "down":
		j = i + 1
	default:
		h.d.Render.Error(c, apperr.Field("dir", "must be up or down"))
		return
	}
	after := t
	if j >= 0 && j < len(t.Fields) {
		fields := slices.Clone(t.Fields)
		fields[i], fields[j] = fields[j], fields[i]
		var err error
		after, err = h.changes.saveFields(c.Request.Context(), actor(c), t, fields, "field.moved", fields[j].Key, nil, nil)
		if err != nil {
			h.d.Render.Error(c, err)
			return
		}
	}
	if c.GetHeader("HX-Request") == "true" {
		c.Writer.Header().Add("Vary", "HX-Request")
		h.d.Render.HTML(c, http.StatusOK, views.FieldsMoved(h.fieldsPage(after, views.FieldForm{}, "")))
		return
	}
	seeOther(c, "/t/"+t.Slug+"/fields")
}

// FieldRemove is POST /t/:slug/fields/:key/remove, after confirming.
// Customers' stored values stay in their profiles.
func (h *Handlers) FieldRemove(c *gin.Context) {
	t := tenantOf(c)
	i, ok := h.fieldIndex(c, t)
	if !ok {
		return
	}
	f := t.Fields[i]
	if !confirmed(c) {
		h.askConfirm(c, "Remove “"+f.Label+"”?",
			"The sign-up and profile forms stop asking for it. Values customers already gave stay in their profiles.",
			"Remove field", "/t/"+t.Slug+"/fields")
		return
	}
	fields := slices.Delete(slices.Clone(t.Fields), i, i+1)
	if _, err := h.changes.saveFields(c.Request.Context(), actor(c), t, fields, "field.removed", f.Key, &f, nil); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.done(c, "Field “"+f.Label+"” removed.", "/t/"+t.Slug+"/fields")
}
