package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
	views "gatehouse/views/console"
)

// settingsForm is what POST /t/:slug/settings takes, as typed.
type settingsForm struct {
	EmailVerification, MinPasswordLength, SessionIdleMinutes, SessionMaxHours, ProfilePromptDays string
}

func bindSettings(c *gin.Context) settingsForm {
	return settingsForm{
		EmailVerification: c.PostForm("email_verification"), MinPasswordLength: c.PostForm("min_password_length"),
		SessionIdleMinutes: c.PostForm("session_idle_minutes"), SessionMaxHours: c.PostForm("session_max_hours"),
		ProfilePromptDays: c.PostForm("profile_prompt_days"),
	}
}

func settingsFormOf(s tenants.Settings) settingsForm {
	return settingsForm{
		EmailVerification: s.EmailVerification, MinPasswordLength: strconv.Itoa(s.MinPasswordLength),
		SessionIdleMinutes: strconv.Itoa(s.SessionIdleMinutes), SessionMaxHours: strconv.Itoa(s.SessionMaxHours),
		ProfilePromptDays: strconv.Itoa(s.ProfilePromptDays),
	}
}

// settings applies the form to current, leaving the settings this page
// does not show (brand-login-only, which lives on the social page) as
// they are, and names every field that is not a whole number. The tenants
// service checks the ranges on save.
func (f settingsForm) settings(current tenants.Settings) (tenants.Settings, views.Errors) {
	errs := views.Errors{}
	s := current
	s.EmailVerification = strings.TrimSpace(f.EmailVerification)
	for _, n := range []struct {
		field, raw string
		into       *int
	}{
		{"min_password_length", f.MinPasswordLength, &s.MinPasswordLength},
		{"session_idle_minutes", f.SessionIdleMinutes, &s.SessionIdleMinutes},
		{"session_max_hours", f.SessionMaxHours, &s.SessionMaxHours},
		{"profile_prompt_days", f.ProfilePromptDays, &s.ProfilePromptDays},
	} {
		v, err := strconv.Atoi(strings.TrimSpace(n.raw))
		if err != nil {
			errs[n.field] = "must be a whole number"
			continue
		}
		*n.into = v
	}
	if len(errs) > 0 {
		return s, errs
	}
	return s, nil
}

func (h *Handlers) renderSettings(c *gin.Context, status int, t *tenants.Tenant, f settingsForm, errs views.Errors) {
	v := views.SettingsPage{Slug: t.Slug, Form: views.SettingsForm{
		EmailVerification: f.EmailVerification, MinPasswordLength: f.MinPasswordLength,
		SessionIdleMinutes: f.SessionIdleMinutes, SessionMaxHours: f.SessionMaxHours,
		ProfilePromptDays: f.ProfilePromptDays, Errors: errs,
	}}
	v.Chrome = h.chrome(c, "Customer settings · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Customer settings"})...)
	h.d.Render.HTML(c, status, views.Settings(v))
}

// SettingsShow is GET /t/:slug/settings.
func (h *Handlers) SettingsShow(c *gin.Context) {
	t := tenantOf(c)
	h.renderSettings(c, http.StatusOK, t, settingsFormOf(t.Settings), nil)
}

// SettingsSave is POST /t/:slug/settings.
func (h *Handlers) SettingsSave(c *gin.Context) {
	t := tenantOf(c)
	f := bindSettings(c)
	s, errs := f.settings(t.Settings)
	if errs != nil {
		h.renderSettings(c, http.StatusUnprocessableEntity, t, f, errs)
		return
	}
	if err := h.changes.saveSettings(c.Request.Context(), actor(c), t, s); err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderSettings(c, status, t, f, errs)
		return
	}
	h.done(c, "Customer settings saved.", "/t/"+t.Slug+"/settings")
}
