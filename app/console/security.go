package console

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/app/ratelimit"
	"gatehouse/app/sessions"
	"gatehouse/app/web"
	"gatehouse/apperr"
	views "gatehouse/views/console"
)

// qrSize is the side of the enrolment QR code, in pixels.
const qrSize = 220

// securityCrumbs are the breadcrumbs of the security page, or of its
// step labelled step.
func securityCrumbs(step string) []views.Crumb {
	out := []views.Crumb{{Label: "Console", Href: "/"}}
	if step == "" {
		return append(out, views.Crumb{Label: "Security"})
	}
	return append(out, views.Crumb{Label: "Security", Href: "/account/security"}, views.Crumb{Label: step})
}

// noStore keeps a page that shows a secret out of every cache, the
// browser's back-forward history included.
func noStore(c *gin.Context) { c.Header("Cache-Control", "no-store") }

// renderSecurity renders the viewer's security page with a form error
// (errs) or a page-level message (errMsg).
func (h *Handlers) renderSecurity(c *gin.Context, status int, errs views.Errors, errMsg string) {
	v := viewerOf(c)
	s, err := h.d.TwoFactor.Status(c.Request.Context(), v.staff.ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	page := views.SecurityPage{Chrome: h.chrome(c, "Security", securityCrumbs("")...), Email: v.staff.Email,
		Enabled: s.Enabled, RecoveryCodesLeft: s.RecoveryCodesLeft, Errors: errs, Error: errMsg}
	if s.Enabled {
		page.EnabledAt = s.EnabledAt.Format("2006-01-02 15:04")
	}
	h.d.Render.HTML(c, status, views.Security(page))
}

// SecurityShow is GET /account/security: whether two-factor sign-in is on,
// with the way to turn it on or off.
func (h *Handlers) SecurityShow(c *gin.Context) {
	h.renderSecurity(c, http.StatusOK, nil, "")
}

// TOTPStart is POST /account/security/totp/start: a new secret, shown as a
// QR code and as text, with the form that confirms it.
func (h *Handlers) TOTPStart(c *gin.Context) {
	e, err := h.d.TwoFactor.Start(c.Request.Context(), actor(c))
	if apperr.Is(err, apperr.Conflict) {
		h.renderSecurity(c, http.StatusConflict, nil, web.PublicMessage(err))
		return
	}
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.renderEnrol(c, http.StatusOK, e, nil)
}

func (h *Handlers) renderEnrol(c *gin.Context, status int, e access.Enrolment, errs views.Errors) {
	qr, err := qrDataURL(e)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	noStore(c)
	h.d.Render.HTML(c, status, views.TOTPEnrol(views.TOTPEnrolPage{
		Chrome: h.chrome(c, "Set up two-factor sign-in", securityCrumbs("Two-factor sign-in")...),
		QRCode: qr, Secret: groupSecret(e.Secret), Errors: errs,
	}))
}

// TOTPConfirm is POST /account/security/totp/confirm: a code from the app
// turns two-factor sign-in on. The recovery codes are shown on this one
// response and never again, and the viewer's other sessions end: each was
// opened with the password alone.
func (h *Handlers) TOTPConfirm(c *gin.Context) {
	ctx := c.Request.Context()
	v := viewerOf(c)
	codes, err := h.d.TwoFactor.Confirm(ctx, actor(c), c.PostForm("code"))
	switch {
	case err == nil:
	case apperr.Is(err, apperr.Invalid):
		e, perr := h.d.TwoFactor.Pending(ctx, v.staff.ID)
		if perr != nil {
			h.d.Render.Error(c, perr)
			return
		}
		errs, status, _ := formError(err)
		h.renderEnrol(c, status, e, errs)
		return
	case apperr.Is(err, apperr.Conflict):
		h.renderSecurity(c, http.StatusConflict, nil, web.PublicMessage(err))
		return
	default:
		h.d.Render.Error(c, err)
		return
	}
	if err := h.d.Sessions.RevokeAll(ctx, sessions.Staff, uuid.Nil, v.staff.ID, v.token); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	noStore(c)
	h.d.Render.HTML(c, http.StatusOK, views.RecoveryCodes(views.RecoveryCodesPage{
		Chrome: h.chrome(c, "Recovery codes", securityCrumbs("Recovery codes")...),
		Codes:  codes,
	}))
}

// TOTPDisable is POST /account/security/totp/disable, with a current code
// or the password. Wrong ones count against the same throttle as wrong
// codes at sign-in, so an open session cannot be used to guess either.
func (h *Handlers) TOTPDisable(c *gin.Context) {
	ctx := c.Request.Context()
	key := codeThrottleKey(viewerOf(c).staff.ID)
	if err := h.d.Limiter.Blocked(ctx, key); err != nil {
		var tm *ratelimit.TooMany
		if errors.As(err, &tm) {
			c.Header("Retry-After", strconv.Itoa(tm.RetryAfterSeconds()))
			h.renderSecurity(c, http.StatusTooManyRequests, nil, "Too many attempts. Please wait a moment and try again.")
			return
		}
		h.d.Render.Error(c, err)
		return
	}
	err := h.d.TwoFactor.Disable(ctx, actor(c), c.PostForm("code"), c.PostForm("password"))
	if errors.Is(err, access.ErrWrongCode) || errors.Is(err, access.ErrWrongPassword) {
		_ = h.d.Limiter.Fail(ctx, key, codePerStaff)
	}
	switch {
	case err == nil:
		_ = h.d.Limiter.Reset(ctx, key)
		h.done(c, "Two-factor sign-in is off. Your password alone now signs you in.", "/account/security")
	case apperr.Is(err, apperr.Conflict):
		h.renderSecurity(c, http.StatusConflict, nil, web.PublicMessage(err))
	default:
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderSecurity(c, status, errs, "")
	}
}

// qrDataURL draws the enrolment's QR code as a PNG data: URL, which the
// CSP allows for images, so the secret never sits at a URL of its own.
func qrDataURL(e access.Enrolment) (templ.SafeURL, error) {
	img, err := e.QRCode(qrSize)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", apperr.Wrap(err, "encode QR code")
	}
	return templ.SafeURL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// groupSecret writes a base32 secret in groups of four, easier to type;
// apps ignore the spaces.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
