package hosted

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
	"gatehouse/views/hosted"
)

// HomePath is where the branded 404 sends a lost visitor: the bare host,
// which leads to the sign-in (or on to the account when signed in).
const HomePath = "/"

// NotFound answers a path that no route serves on a tenant host. On an
// active tenant's host it is the brand's themed "We can't find that page"
// with a link home. An unknown or suspended host, or a lookup that fails,
// gets fallback, the neutral 404: the resolver answers an unknown host from
// memory, so this costs the database nothing either way.
func (p *Pages) NotFound(resolver *tenants.Resolver, fallback gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		t, err := resolver.Resolve(c.Request.Context(), c.Request.Host)
		if err != nil || t.Status != tenants.Active {
			fallback(c)
			return
		}
		page := p.Page(t, "Page not found")
		page.NoIndex = true
		p.render.HTML(c, http.StatusNotFound, hosted.BrandNotFound(page, p.Brand(c.Request.Context(), t), HomePath))
		c.Abort()
	}
}
