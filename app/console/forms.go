package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/views/components"
	views "gatehouse/views/console"
)

// formError turns an error naming a form field into the field's message,
// to show next to the input, and the status to answer with. ok is false
// for anything else, which the caller hands to Render.Error.
func formError(err error) (views.Errors, int, bool) {
	e, isApp := apperr.As(err)
	if !isApp || e.Field == "" || e.Code == apperr.Internal || e.Code == apperr.Unavailable {
		return nil, 0, false
	}
	return views.Errors{e.Field: e.Message}, web.StatusOf(err), true
}

// confirmed reports whether a destructive form was confirmed. Without
// confirm=yes the handler shows a confirmation page that posts the same
// fields again, so confirmation needs no JavaScript.
func confirmed(c *gin.Context) bool { return c.PostForm("confirm") == "yes" }

// askConfirm renders the confirmation page of a destructive action.
func (h *Handlers) askConfirm(c *gin.Context, title, message, button, cancel string, fields ...views.Hidden) {
	ch := h.chrome(c, title, tenantCrumbs(c, views.Crumb{Label: title})...)
	h.d.Render.HTML(c, http.StatusOK, views.Confirm(views.ConfirmPage{
		Chrome: ch, Title: title, Message: message, Action: c.Request.URL.Path,
		Fields: fields, Button: button, Cancel: cancel,
	}))
}

// done ends a successful change: a flash message and a redirect to the
// page that shows its effect (POST, redirect, GET).
func (h *Handlers) done(c *gin.Context, msg, to string) {
	h.flash(c, components.AlertSuccess, msg)
	seeOther(c, to)
}
