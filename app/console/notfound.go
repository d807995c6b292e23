package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	views "gatehouse/views/console"
)

// NotFound answers a path no console route serves with the console's own
// 404 page.
func (h *Handlers) NotFound(c *gin.Context) {
	h.d.Render.HTML(c, http.StatusNotFound, views.NotFound(h.page("Page not found")))
	c.Abort()
}
