package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

// RevokeApp is POST /account/apps/:id/revoke: the customer takes an app's
// access away. Like every POST it is covered by the cross-origin check.
func (h *Handlers) RevokeApp(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	if err := h.svc.RevokeApp(c.Request.Context(), t, cust, c.Param("id"), h.request(c)); err != nil && !apperr.Is(err, apperr.NotFound) {
		h.render.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/account?notice=app-revoked")
}
