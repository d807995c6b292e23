package accounts

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// PasswordSetter sets the first password of an imported customer from a
// "set your password" campaign link; app wires the campaigns in.
type PasswordSetter interface {
	CheckSetPasswordToken(ctx context.Context, t *tenants.Tenant, token string) error
	SetPassword(ctx context.Context, t *tenants.Tenant, token, password, ip string) error
}

// ShowSetPassword is GET /password/set?token=…, the campaign link.
func (h *Handlers) ShowSetPassword(setter PasswordSetter) gin.HandlerFunc {
	return func(c *gin.Context) {
		t := tenants.FromGin(c)
		c.Header("Referrer-Policy", "no-referrer")
		noStore(c)
		token := c.Query("token")
		v := h.resetPage(c, t, token)
		v.Action = "/password/set"
		if err := setter.CheckSetPasswordToken(c.Request.Context(), t, token); err != nil {
			if !apperr.Is(err, apperr.Invalid) && !apperr.Is(err, apperr.NotFound) {
				h.render.Error(c, err)
				return
			}
			v.Invalid, v.Token = true, ""
		}
		h.render.HTML(c, http.StatusOK, views.Reset(v))
	}
}

// SetPassword is POST /password/set. Like a reset, it signs nobody in.
func (h *Handlers) SetPassword(setter PasswordSetter) gin.HandlerFunc {
	return func(c *gin.Context) {
		t := tenants.FromGin(c)
		c.Header("Referrer-Policy", "no-referrer")
		noStore(c)
		token := c.PostForm("token")
		err := setter.SetPassword(c.Request.Context(), t, token, c.PostForm("password"), c.ClientIP())
		if err == nil {
			c.Redirect(http.StatusSeeOther, "/login?notice=reset")
			return
		}
		v := h.resetPage(c, t, token)
		v.Action = "/password/set"
		switch {
		case isFieldErr(err):
			v.PasswordError = apperrMessage(err)
			h.render.HTML(c, http.StatusUnprocessableEntity, views.Reset(v))
		case apperr.Is(err, apperr.Invalid), apperr.Is(err, apperr.NotFound):
			v.Invalid, v.Token = true, ""
			h.render.HTML(c, http.StatusGone, views.Reset(v))
		case apperr.Is(err, apperr.Unavailable):
			web.SetRetryAfter(c, err)
			v.Error = web.PublicMessage(err)
			h.render.HTML(c, http.StatusServiceUnavailable, views.Reset(v))
		default:
			h.render.Error(c, err)
		}
	}
}

// isFieldErr reports whether err is about a form field (a weak password)
// rather than the link itself.
func isFieldErr(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Field != ""
}
