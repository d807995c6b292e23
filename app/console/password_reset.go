package console

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/tokens"
	"gatehouse/apperr"
	views "gatehouse/views/console"
)

// ForgotShow is GET /login/forgot.
func (h *Handlers) ForgotShow(c *gin.Context) {
	h.d.Render.HTML(c, http.StatusOK, views.Forgot(views.ForgotPage{Page: h.page("Reset your password"), Email: c.Query("email")}))
}

// ForgotSubmit is POST /login/forgot. Every well-formed address gets the
// same answer after the same work, one enqueue: the worker decides
// whether a mail goes out (access.Recovery).
func (h *Handlers) ForgotSubmit(c *gin.Context) {
	v := views.ForgotPage{Page: h.page("Reset your password"), Email: c.PostForm("email")}
	err := h.d.Recovery.Forgot(c.Request.Context(), v.Email, c.ClientIP(), c.Request.UserAgent())
	if e, ok := apperr.As(err); ok && e.Field == "email" {
		v.EmailError = "Email " + e.Message
		h.d.Render.HTML(c, http.StatusUnprocessableEntity, views.Forgot(v))
		return
	}
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v.Sent = true
	h.d.Render.HTML(c, http.StatusOK, views.Forgot(v))
}

// ResetShow is GET /login/reset?token=: the new-password form, or a dead
// link's message before anyone types a password.
func (h *Handlers) ResetShow(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	token := c.Query("token")
	if err := h.d.Recovery.CheckReset(c.Request.Context(), token); err != nil {
		h.resetBroken(c, err)
		return
	}
	h.d.Render.HTML(c, http.StatusOK, views.Reset(views.ResetPage{Page: h.page("Choose a new password"), Token: token}))
}

// ResetSubmit is POST /login/reset: the new password. It ends every
// session of the staff member and signs nobody in; the next sign-in asks
// for the second factor as before.
func (h *Handlers) ResetSubmit(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	token := c.PostForm("token")
	_, err := h.d.Recovery.Reset(c.Request.Context(), token, c.PostForm("password"), c.ClientIP())
	if err == nil {
		// This browser's own session, if it had one, ended with the rest.
		h.clearSessionCookie(c)
		seeOther(c, "/login?reset=1")
		return
	}
	if e, ok := apperr.As(err); ok && e.Field == "password" {
		h.d.Render.HTML(c, http.StatusUnprocessableEntity, views.Reset(views.ResetPage{Page: h.page("Choose a new password"), Token: token, Error: "Password " + e.Message}))
		return
	}
	h.resetBroken(c, err)
}

// resetBroken answers an unknown, used or expired link, or passes any
// other error on.
func (h *Handlers) resetBroken(c *gin.Context, err error) {
	if errors.Is(err, tokens.ErrInvalid) {
		h.d.Render.HTML(c, http.StatusNotFound, views.Reset(views.ResetPage{Page: h.page("Choose a new password"), Broken: true}))
		return
	}
	h.d.Render.Error(c, err)
}
