package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/app/mail"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/console"
	"gatehouse/views/email"
)

// previewFrom is the sender of preview mails; a preview is never sent.
const previewFrom = "preview@gatehouse.localhost"

func emailsBase(t *tenants.Tenant) string { return "/t/" + t.Slug + "/emails" }

// mailBrand is t's brand in mail, as the real mails build it.
func (h *Handlers) mailBrand(t *tenants.Tenant) email.Brand {
	return mail.BrandOf(t, h.d.PublicURL(t.Host(h.d.BaseDomain)))
}

// mailKind reads :kind, or answers 404.
func (h *Handlers) mailKind(c *gin.Context) (tenants.MailKind, bool) {
	k := tenants.MailKind(c.Param("kind"))
	if !k.Valid() {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return "", false
	}
	return k, true
}

// EmailsList is GET /t/:slug/emails.
func (h *Handlers) EmailsList(c *gin.Context) {
	t := tenantOf(c)
	b := h.mailBrand(t)
	v := views.EmailsPage{Slug: t.Slug}
	for _, k := range tenants.MailKinds {
		w := mail.WordingFor(t, k, b, mail.SampleTo)
		v.Mails = append(v.Mails, views.EmailRow{Label: mail.KindLabels[k], Href: emailsBase(t) + "/" + string(k), Subject: w.Subject, Custom: t.MailTextOf(k) != (tenants.MailText{})})
	}
	v.Chrome = h.chrome(c, "Emails · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Emails"})...)
	h.d.Render.HTML(c, http.StatusOK, views.Emails(v))
}

// EmailEdit is GET /t/:slug/emails/:kind: the saved wording and its preview.
func (h *Handlers) EmailEdit(c *gin.Context) {
	t := tenantOf(c)
	kind, ok := h.mailKind(c)
	if !ok {
		return
	}
	h.renderEmail(c, http.StatusOK, t, kind, t.MailTextOf(kind), nil, false)
}

// EmailSave is POST /t/:slug/emails/:kind. action=preview shows the typed
// text in the preview without saving it; otherwise it is validated and
// saved, and every node's next mail uses it.
func (h *Handlers) EmailSave(c *gin.Context) {
	t := tenantOf(c)
	kind, ok := h.mailKind(c)
	if !ok {
		return
	}
	typed := tenants.MailText{Subject: c.PostForm("subject"), Intro: c.PostForm("intro")}
	text, err := typed.Normalize()
	if err == nil && c.PostForm("action") == "preview" {
		h.renderEmail(c, http.StatusOK, t, kind, text, nil, true)
		return
	}
	if err == nil {
		err = h.changes.saveMailText(c.Request.Context(), actor(c), t, kind, text)
	}
	if err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderEmail(c, status, t, kind, typed, errs, false)
		return
	}
	h.done(c, mail.KindLabels[kind]+" mail saved.", emailsBase(t)+"/"+string(kind))
}

// EmailReset is POST /t/:slug/emails/:kind/reset: back to the default.
func (h *Handlers) EmailReset(c *gin.Context) {
	t := tenantOf(c)
	kind, ok := h.mailKind(c)
	if !ok {
		return
	}
	if err := h.changes.saveMailText(c.Request.Context(), actor(c), t, kind, tenants.MailText{}); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.done(c, mail.KindLabels[kind]+" mail reset to the default.", emailsBase(t)+"/"+string(kind))
}

// EmailPreviewHTML is GET /t/:slug/emails/:kind/preview: the HTML part of
// the mail with sample data, for the editor's frame; with unsaved=1 it
// uses the subject and intro in the query (invalid ones fall back to the
// saved text). Mail HTML carries inline styles, so this one page gets a
// policy of its own: inline styles, no script, framed by the console only.
func (h *Handlers) EmailPreviewHTML(c *gin.Context) {
	t := tenantOf(c)
	kind, ok := h.mailKind(c)
	if !ok {
		return
	}
	text := t.MailTextOf(kind)
	if c.Query("unsaved") == "1" {
		if typed, err := (tenants.MailText{Subject: c.Query("subject"), Intro: c.Query("intro")}).Normalize(); err == nil {
			text = typed
		}
	}
	msg, err := mail.Preview(c.Request.Context(), kind, text, h.mailBrand(t), previewFrom)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
	c.Header("X-Frame-Options", "SAMEORIGIN")
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(msg.HTML))
}

func (h *Handlers) renderEmail(c *gin.Context, status int, t *tenants.Tenant, kind tenants.MailKind, text tenants.MailText, errs views.Errors, previewing bool) {
	b := h.mailBrand(t)
	shown := text
	if errs != nil {
		shown = t.MailTextOf(kind) // the preview shows what is saved, not what was refused
	}
	fill := strings.NewReplacer("{brand}", b.Name)
	v := views.EmailEditPage{
		Label: mail.KindLabels[kind], Action: emailsBase(t) + "/" + string(kind),
		Subject: text.Subject, Intro: text.Intro,
		DefaultSubject: fill.Replace(mail.DefaultSubjects[kind]), DefaultIntro: fill.Replace(mail.DefaultIntros[kind]),
		Placeholders: tenants.MailPlaceholders, MaxSubject: tenants.MaxMailSubject, MaxIntro: tenants.MaxMailIntro,
		Errors: errs, Previewing: previewing,
	}
	if t.MailTextOf(kind) != (tenants.MailText{}) {
		v.ResetAction = v.Action + "/reset"
	}
	msg, err := mail.Preview(c.Request.Context(), kind, shown, b, previewFrom)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v.Preview = views.EmailPreview{Subject: msg.Subject, Text: msg.Text, HTMLURL: v.Action + "/preview"}
	if previewing {
		v.Preview.HTMLURL += "?" + url.Values{"unsaved": {"1"}, "subject": {shown.Subject}, "intro": {shown.Intro}}.Encode()
	}
	v.Chrome = h.chrome(c, v.Label+" · Emails · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Emails", Href: emailsBase(t)}, views.Crumb{Label: v.Label})...)
	h.d.Render.HTML(c, status, views.EmailEdit(v))
}
