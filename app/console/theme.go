package console

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/app/logos"
	"gatehouse/apperr"
	"gatehouse/tenants"
	"gatehouse/views/components"
	views "gatehouse/views/console"
	"gatehouse/views/hosted"
)

// themeForm is the theme editor's input, as typed. It comes from the POST
// body (Save) or the query string (previews).
type themeForm struct {
	PrimaryColor, AccentColor, BackgroundColor, TextColor, ButtonTextColor string
	Font, Radius, DisplayName, Headline, SignupCopy                        string
}

var themeFields = []string{"primary_color", "accent_color", "background_color", "text_color", "button_text_color", "font", "radius", "display_name", "headline", "signup_copy"}

func bindTheme(get func(string) string) themeForm {
	return themeForm{
		PrimaryColor: get("primary_color"), AccentColor: get("accent_color"), BackgroundColor: get("background_color"),
		TextColor: get("text_color"), ButtonTextColor: get("button_text_color"), Font: get("font"),
		Radius: get("radius"), DisplayName: get("display_name"), Headline: get("headline"), SignupCopy: get("signup_copy"),
	}
}

func formOf(t tenants.Theme) themeForm {
	return themeForm{
		PrimaryColor: t.PrimaryColor, AccentColor: t.AccentColor, BackgroundColor: t.BackgroundColor,
		TextColor: t.TextColor, ButtonTextColor: t.ButtonTextColor, Font: t.Font, Radius: strconv.Itoa(t.Radius),
		DisplayName: t.DisplayName, Headline: t.Headline, SignupCopy: t.SignupCopy,
	}
}

// theme returns the form as a theme, and every field's error (not just
// the first, so the editor can mark them all). The service validates
// again on save; this is for showing.
func (f themeForm) theme() (tenants.Theme, views.Errors) {
	errs := views.Errors{}
	radius, err := strconv.Atoi(strings.TrimSpace(f.Radius))
	if err != nil {
		errs["radius"] = "must be a whole number of pixels"
		radius = -1
	}
	t := tenants.Theme{
		PrimaryColor: f.PrimaryColor, AccentColor: f.AccentColor, BackgroundColor: f.BackgroundColor,
		TextColor: f.TextColor, ButtonTextColor: f.ButtonTextColor, Font: f.Font, Radius: radius,
		DisplayName: f.DisplayName, Headline: f.Headline, SignupCopy: f.SignupCopy,
	}
	for _, c := range []struct{ field, value string }{
		{"primary_color", t.PrimaryColor}, {"accent_color", t.AccentColor}, {"background_color", t.BackgroundColor},
		{"text_color", t.TextColor}, {"button_text_color", t.ButtonTextColor},
	} {
		if _, err := tenants.ParseColor(c.value); err != nil {
			errs[c.field] = tenantsMessage(err)
		}
	}
	// Normalize names the first problem; check the rest one field at a time
	// by fixing each reported field and asking again.
	probe := t
	for range len(themeFields) {
		norm, err := probe.Normalize()
		if err == nil {
			if len(errs) == 0 {
				t = norm
			}
			break
		}
		e, ok := apperr.As(err)
		if !ok || e.Field == "" {
			errs["theme"] = tenantsMessage(err)
			break
		}
		if _, seen := errs[e.Field]; !seen {
			errs[e.Field] = e.Message
		}
		probe = withDefault(probe, e.Field)
	}
	if len(errs) == 0 {
		return t, nil
	}
	return t, errs
}

// withDefault replaces one field of t by the default theme's.
func withDefault(t tenants.Theme, field string) tenants.Theme {
	d := tenants.DefaultTheme()
	switch field {
	case "primary_color":
		t.PrimaryColor = d.PrimaryColor
	case "accent_color":
		t.AccentColor = d.AccentColor
	case "background_color":
		t.BackgroundColor = d.BackgroundColor
	case "text_color":
		t.TextColor = d.TextColor
	case "button_text_color":
		t.ButtonTextColor = d.ButtonTextColor
	case "font":
		t.Font = d.Font
	case "radius":
		t.Radius = d.Radius
	case "display_name":
		t.DisplayName = ""
	case "headline":
		t.Headline = d.Headline
	case "signup_copy":
		t.SignupCopy = d.SignupCopy
	}
	return t
}

func tenantsMessage(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Message
	}
	return "is not valid"
}

// query encodes the form for the preview URLs.
func (f themeForm) query() string {
	q := url.Values{}
	for k, v := range map[string]string{
		"primary_color": f.PrimaryColor, "accent_color": f.AccentColor, "background_color": f.BackgroundColor,
		"text_color": f.TextColor, "button_text_color": f.ButtonTextColor, "font": f.Font, "radius": f.Radius,
		"display_name": f.DisplayName, "headline": f.Headline, "signup_copy": f.SignupCopy,
	} {
		q.Set(k, v)
	}
	return q.Encode()
}

// fontOptions lists the safe fonts, by name.
func fontOptions(selected string) []views.Option {
	keys := sortedKeys(tenants.Fonts)
	sort.SliceStable(keys, func(i, j int) bool { return keys[i] == "system" }) // the default first
	out := make([]views.Option, 0, len(keys))
	for _, k := range keys {
		out = append(out, views.Option{Value: k, Label: fontLabels[k], Selected: k == selected})
	}
	return out
}

var fontLabels = map[string]string{
	"system": "System (the device's own)", "humanist": "Humanist sans", "geometric": "Geometric sans",
	"rounded": "Rounded sans", "serif": "Serif", "mono": "Monospace",
}

// preview builds the preview panel for the values of f.
func (h *Handlers) preview(t *tenants.Tenant, f themeForm, errs views.Errors) views.ThemePreview {
	base := "/t/" + t.Slug + "/theme/preview/login?" + f.query()
	p := views.ThemePreview{DesktopURL: base + "&mode=login", PhoneURL: base + "&mode=signup", Invalid: len(errs) > 0}
	p.Warnings = contrastWarnings(f.TextColor, f.BackgroundColor, f.ButtonTextColor, f.PrimaryColor)
	return p
}

// renderTheme renders the editor for f, or for an htmx request its
// preview panel alone.
func (h *Handlers) renderTheme(c *gin.Context, status int, f themeForm, errs views.Errors, logoErr string, unsaved bool) {
	t := tenantOf(c)
	if errs == nil {
		_, errs = f.theme()
	}
	prev := h.preview(t, f, errs)
	if isHTMX(c) && c.Request.Method == http.MethodGet {
		h.d.Render.HTML(c, status, views.Preview(prev))
		return
	}
	v := views.ThemePage{
		Slug: t.Slug, Fonts: fontOptions(f.Font), Preview: prev, Unsaved: unsaved,
		Form: views.ThemeForm{
			PrimaryColor: f.PrimaryColor, AccentColor: f.AccentColor, BackgroundColor: f.BackgroundColor,
			TextColor: f.TextColor, ButtonTextColor: f.ButtonTextColor, Font: f.Font, Radius: f.Radius,
			DisplayName: f.DisplayName, HeadlineText: f.Headline, SignupCopy: f.SignupCopy, Errors: errs,
		},
		Logo: views.LogoView{Error: logoErr},
	}
	if u, err := h.d.Logos.URL(c.Request.Context(), t.ID); err == nil && u != "" {
		v.Logo.URL = "/t/" + t.Slug + "/theme" + u
	}
	v.Chrome = h.chrome(c, "Theme · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Theme"})...)
	h.d.Render.HTML(c, status, views.Theme(v))
}

// ThemeShow is GET /t/:slug/theme: the editor with the saved theme.
func (h *Handlers) ThemeShow(c *gin.Context) {
	h.renderTheme(c, http.StatusOK, formOf(tenantOf(c).Theme), nil, "", false)
}

// ThemePreview is GET /t/:slug/theme/preview?<values>: the preview panel
// for unsaved values (htmx), or the whole editor showing them (no JS).
// Nothing is saved: it is a GET.
func (h *Handlers) ThemePreview(c *gin.Context) {
	h.renderTheme(c, http.StatusOK, bindTheme(c.Query), nil, "", true)
}

// ThemePreviewLogin is GET /t/:slug/theme/preview/login?<values>&mode=:
// the tenant's hosted login page, drawn with unsaved values, for the
// preview frames. It is the one console page that may be framed, and only
// by the console itself.
func (h *Handlers) ThemePreviewLogin(c *gin.Context) {
	t := tenantOf(c)
	f := previewValues(c, t)
	theme, _ := f.theme() // invalid values fall back to defaults in CSS()
	// The engine's policy, with framing allowed to the console alone.
	csp := c.Writer.Header().Get("Content-Security-Policy")
	c.Header("Content-Security-Policy", strings.Replace(csp, "frame-ancestors 'none'", "frame-ancestors 'self'", 1))
	c.Header("X-Frame-Options", "SAMEORIGIN")
	c.Header("Cache-Control", "no-store")
	page := h.d.Render.Page("Preview · " + t.Name)
	page.HTMXURL, page.UIURL = "", "" // the preview is a picture: no script runs in it
	page.ThemeCSSURL = "/t/" + t.Slug + "/theme/preview/theme.css?" + f.query()
	page.NoIndex = true
	brand := hosted.Brand{Name: t.Name, DisplayName: theme.DisplayName, Headline: theme.Headline, SignupCopy: theme.SignupCopy}
	if u, err := h.d.Logos.URL(c.Request.Context(), t.ID); err == nil && u != "" {
		brand.LogoURL = "/t/" + t.Slug + "/theme" + u
	}
	mode := "login"
	if c.Query("mode") == "signup" {
		mode = "signup"
	}
	h.d.Render.HTML(c, http.StatusOK, hosted.Login(hosted.LoginPage{
		Page: page, Brand: brand, Mode: mode,
		Signup: hosted.SignupForm{Fields: signupPreview(t.Fields), MinPasswordLength: t.Settings.MinPasswordLength},
	}))
}

// ThemePreviewCSS is GET /t/:slug/theme/preview/theme.css?<values>: the
// theme's custom properties for unsaved values. Theme.CSS re-validates
// every value and uses the default for any that is invalid, so no query
// can inject CSS.
func (h *Handlers) ThemePreviewCSS(c *gin.Context) {
	theme, _ := previewValues(c, tenantOf(c)).theme()
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/css; charset=utf-8", []byte(theme.CSS()))
}

// ThemeSave is POST /t/:slug/theme.
func (h *Handlers) ThemeSave(c *gin.Context) {
	t := tenantOf(c)
	f := bindTheme(c.PostForm)
	theme, errs := f.theme()
	if errs != nil {
		h.renderTheme(c, http.StatusUnprocessableEntity, f, errs, "", true)
		return
	}
	if _, err := h.changes.saveTheme(c.Request.Context(), actor(c), t, theme); err != nil {
		if fe, status, ok := formError(err); ok {
			h.renderTheme(c, status, f, fe, "", true)
			return
		}
		h.d.Render.Error(c, err)
		return
	}
	h.done(c, "Theme saved. The sign-in pages show it now.", "/t/"+t.Slug+"/theme")
}

// ThemeReset is POST /t/:slug/theme/reset, after confirming.
func (h *Handlers) ThemeReset(c *gin.Context) {
	t := tenantOf(c)
	if !confirmed(c) {
		h.askConfirm(c, "Reset the theme?", "Colours, font, corner radius and copy go back to Gatehouse's defaults. The logo stays.",
			"Reset theme", "/t/"+t.Slug+"/theme")
		return
	}
	if _, err := h.changes.saveTheme(c.Request.Context(), actor(c), t, tenants.DefaultTheme()); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.done(c, "Theme reset to the default.", "/t/"+t.Slug+"/theme")
}

// LogoUpload is POST /t/:slug/theme/logo (multipart, field "logo"). The
// body is cut off just past the limit, so a 5 MB upload costs 1 MB of
// reading; the type is judged from the bytes, never the name.
func (h *Handlers) LogoUpload(c *gin.Context) {
	t := tenantOf(c)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, logos.MaxSize+64<<10)
	data, err := readUpload(c)
	if err == nil {
		err = h.changes.putLogo(c.Request.Context(), actor(c), t, data)
	}
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Field == "logo" {
			h.renderTheme(c, web422(e), formOf(t.Theme), nil, e.Message, false)
			return
		}
		h.d.Render.Error(c, err)
		return
	}
	h.done(c, "Logo uploaded. The sign-in pages show it now.", "/t/"+t.Slug+"/theme")
}

func web422(e *apperr.Error) int {
	if e.Code == apperr.Invalid {
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

// readUpload reads the "logo" file of a multipart form.
func readUpload(c *gin.Context) ([]byte, error) {
	fh, err := c.FormFile("logo")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, logos.TooLarge(c.Request.ContentLength)
		}
		return nil, apperr.Field("logo", "choose an image file to upload")
	}
	if fh.Size > logos.MaxSize {
		return nil, logos.TooLarge(fh.Size)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, apperr.Wrap(err, "open upload")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, logos.MaxSize+1))
	if err != nil {
		return nil, apperr.Wrap(err, "read upload")
	}
	return data, nil
}

// LogoRemove is POST /t/:slug/theme/logo/remove, after confirming.
func (h *Handlers) LogoRemove(c *gin.Context) {
	t := tenantOf(c)
	if !confirmed(c) {
		h.askConfirm(c, "Remove the logo?", "The sign-in pages show the brand's initial instead.", "Remove logo", "/t/"+t.Slug+"/theme")
		return
	}
	if err := h.changes.removeLogo(c.Request.Context(), actor(c), t); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.flash(c, components.AlertSuccess, "Logo removed.")
	seeOther(c, "/t/"+t.Slug+"/theme")
}

// LogoShow is GET /t/:slug/theme/logo: the logo on the console host, for
// the editor and the preview frames.
func (h *Handlers) LogoShow(c *gin.Context) {
	l, err := h.d.Logos.Get(c.Request.Context(), tenantOf(c).ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	logos.Write(c, l)
}

// previewValues are the theme values a preview shows: the query's, or the
// saved theme when the query has none (the fields editor's preview).
func previewValues(c *gin.Context, t *tenants.Tenant) themeForm {
	if _, ok := c.GetQuery("primary_color"); ok {
		return bindTheme(c.Query)
	}
	return formOf(t.Theme)
}
