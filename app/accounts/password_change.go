package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// ChangePassword is POST /account/password. The current session stays;
// every other one ends.
func (h *Handlers) ChangePassword(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	err := h.svc.ChangePassword(c.Request.Context(), t, cust, c.PostForm("current_password"), c.PostForm("new_password"), sessionToken(c), h.request(c))
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/account?notice=password")
		return
	}
	if err == errNoPasswords {
		// The password section is hidden in this mode, so the refusal is
		// said at the top of the page rather than lost with it.
		v, perr := h.accountPage(c, t, cust)
		if perr != nil {
			h.render.Error(c, perr)
			return
		}
		v.Notice = views.Notice{Kind: "warning", Message: web.PublicMessage(err)}
		noStore(c)
		h.render.HTML(c, http.StatusForbidden, views.Account(v))
		return
	}
	errs, formErr, ok := fieldErrors(err)
	if !ok {
		h.render.Error(c, err)
		return
	}
	v, perr := h.accountPage(c, t, cust)
	if perr != nil {
		h.render.Error(c, perr)
		return
	}
	v.Password.CurrentError = errs["current_password"]
	v.Password.NewError = errs["new_password"]
	v.Password.Error = formErr
	status := http.StatusUnprocessableEntity
	if apperr.Is(err, apperr.Unavailable) || apperr.Is(err, apperr.TooMany) {
		web.SetRetryAfter(c, err)
		status = web.StatusOf(err)
	}
	noStore(c)
	h.render.HTML(c, status, views.Account(v))
}
