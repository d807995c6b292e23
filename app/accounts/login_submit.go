package accounts

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// Login is POST /login. The hosted sign-up form posts here too, with
// intent=signup, so a failed sign-up leaves the address bar at /login (the
// one URL of both forms) rather than at /register, which has no page.
func (h *Handlers) Login(c *gin.Context) {
	if c.PostForm("intent") == "signup" {
		h.Register(c)
		return
	}
	t := tenants.FromGin(c)
	email, password := c.PostForm("email"), c.PostForm("password")
	returnTo := web.SafeReturnTo(c.PostForm("return_to"))
	cust, token, err := h.svc.SignIn(c.Request.Context(), t, email, password, h.request(c), sessionToken(c))
	if err == nil {
		h.setSession(c, token)
		h.rememberDevice(c, t, cust)
		c.Redirect(http.StatusSeeOther, h.next(t, cust, returnTo))
		return
	}
	v := h.loginPage(c, t, "login", returnTo)
	v.Login.Email = email
	status := web.StatusOf(err)
	switch {
	case errors.Is(err, ErrVerifyFirst):
		v.Login.Error = ErrVerifyFirst.Message
		v.Login.NeedsVerification = true
	case apperr.Is(err, apperr.TooMany), apperr.Is(err, apperr.Unavailable):
		web.SetRetryAfter(c, err)
		v.Login.Error = web.PublicMessage(err)
	case apperr.Is(err, apperr.Unauthorized), apperr.Is(err, apperr.Forbidden):
		v.Login.Error = web.PublicMessage(err)
	default:
		h.render.Error(c, err)
		return
	}
	if status == http.StatusOK {
		status = http.StatusUnauthorized
	}
	h.renderLogin(c, status, v)
}
