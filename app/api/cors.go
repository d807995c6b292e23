package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/apps"
	"gatehouse/tenants"
)

// CORS: a browser page may call the API only from an origin that one of
// the tenant's spa apps registered. The API takes no cookies, so this is
// about which pages may read the answers, not about CSRF.
const (
	corsMethods = "GET, POST, PATCH, PUT, DELETE"
	corsHeaders = "Authorization, Content-Type, Accept, Idempotency-Key, If-Match, If-None-Match"
	corsExpose  = "ETag, Location, Retry-After, Link"
)

func (f *framework) cors(c *gin.Context) {
	c.Writer.Header().Add("Vary", "Origin")
	origin := c.GetHeader("Origin")
	if origin != "" && f.originAllowed(c, origin) {
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExpose)
	}
	c.Next()
}

// preflight answers OPTIONS for any API path: the allowed methods and
// headers for an allowed origin, and nothing a browser would accept for
// any other.
func (f *framework) preflight(c *gin.Context) {
	if c.Writer.Header().Get("Access-Control-Allow-Origin") != "" {
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", "600")
	}
	c.Status(http.StatusNoContent)
}

func (f *framework) originAllowed(c *gin.Context, origin string) bool {
	if f.d.Apps == nil {
		return false
	}
	t := tenants.FromGin(c)
	list, err := f.d.Apps.For(t.ID).List(c.Request.Context())
	if err != nil {
		return false
	}
	for _, a := range list {
		if a.Type == apps.SPA && a.OriginAllowed(origin) {
			return true
		}
	}
	return false
}
