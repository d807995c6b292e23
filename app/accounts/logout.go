package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
)

// Logout is POST /logout: the session ends on the server, not just in the
// browser.
func (h *Handlers) Logout(c *gin.Context) {
	if token := sessionToken(c); token != "" {
		if err := h.svc.Logout(c.Request.Context(), tenants.FromGin(c), customerOf(c), token, h.request(c)); err != nil {
			h.render.Error(c, err)
			return
		}
	}
	h.clearSession(c)
	c.Redirect(http.StatusSeeOther, "/login?notice=logout")
}
