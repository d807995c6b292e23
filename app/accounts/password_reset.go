package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/tokens"
	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// ShowReset is GET /password/reset?token=…: the new-password form, or a
// message that the link is dead. The page sends no Referer, so the token in
// its URL leaks nowhere.
func (h *Handlers) ShowReset(c *gin.Context) {
	t := tenants.FromGin(c)
	c.Header("Referrer-Policy", "no-referrer")
	noStore(c)
	token := c.Query("token")
	v := h.resetPage(c, t, token)
	if err := h.svc.CheckResetToken(c.Request.Context(), t, token); err != nil {
		if !apperr.Is(err, apperr.Invalid) {
			h.render.Error(c, err)
			return
		}
		v.Invalid, v.Token = true, ""
	}
	h.render.HTML(c, http.StatusOK, views.Reset(v))
}

func (h *Handlers) resetPage(c *gin.Context, t *tenants.Tenant, token string) views.ResetPage {
	return views.ResetPage{
		Page: h.pages.Page(t, "Choose a new password"), Brand: h.pages.Brand(c.Request.Context(), t),
		Token: token, MinPasswordLength: t.Settings.MinPasswordLength,
	}
}

// Reset is POST /password/reset. On success nobody is signed in: the
// customer logs in with the new password.
func (h *Handlers) Reset(c *gin.Context) {
	t := tenants.FromGin(c)
	c.Header("Referrer-Policy", "no-referrer")
	noStore(c)
	token := c.PostForm("token")
	cust, err := h.svc.ResetPassword(c.Request.Context(), t, token, c.PostForm("password"), h.request(c))
	if err == nil {
		h.clearSession(c)
		h.rememberDevice(c, t, cust)
		c.Redirect(http.StatusSeeOther, "/login?notice=reset")
		return
	}
	v := h.resetPage(c, t, token)
	switch {
	case err == tokens.ErrInvalid:
		v.Invalid, v.Token = true, ""
		h.render.HTML(c, http.StatusGone, views.Reset(v))
	case apperr.Is(err, apperr.Invalid):
		v.PasswordError = apperrMessage(err)
		h.render.HTML(c, http.StatusUnprocessableEntity, views.Reset(v))
	case apperr.Is(err, apperr.Unavailable):
		web.SetRetryAfter(c, err)
		v.Error = web.PublicMessage(err)
		h.render.HTML(c, http.StatusServiceUnavailable, views.Reset(v))
	default:
		h.render.Error(c, err)
	}
}
