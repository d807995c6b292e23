package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// ShowForgot is GET /password/forgot.
func (h *Handlers) ShowForgot(c *gin.Context) {
	t := tenants.FromGin(c)
	h.render.HTML(c, http.StatusOK, views.Forgot(views.ForgotPage{Page: h.pages.Page(t, "Reset your password"), Brand: h.pages.Brand(c.Request.Context(), t)}))
}

// Forgot is POST /password/forgot. Known and unknown addresses get the same
// page; the mail, if any, is sent by a job.
func (h *Handlers) Forgot(c *gin.Context) {
	t := tenants.FromGin(c)
	email := c.PostForm("email")
	v := views.ForgotPage{Page: h.pages.Page(t, "Reset your password"), Brand: h.pages.Brand(c.Request.Context(), t), Email: email}
	err := h.svc.ForgotPassword(c.Request.Context(), t, email, h.request(c))
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Field == "email" {
			v.EmailError = e.Message
			h.render.HTML(c, http.StatusUnprocessableEntity, views.Forgot(v))
			return
		}
		h.render.Error(c, err)
		return
	}
	v.Sent = true
	h.render.HTML(c, http.StatusOK, views.Forgot(v))
}
