package tenants

import (
	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
)

// Middleware resolves the tenant from the Host header, once per request, and
// puts it in the request context. A host that serves no tenant, or a
// suspended tenant, is handed to fail with a NotFound or Unavailable error,
// and the chain stops there.
func Middleware(r *Resolver, fail func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		t, err := r.Resolve(c.Request.Context(), c.Request.Host)
		if err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		if t.Status != Active {
			fail(c, ErrSuspended)
			c.Abort()
			return
		}
		c.Request = c.Request.WithContext(WithTenant(c.Request.Context(), t))
		c.Set(ginKey, t)
		c.Next()
	}
}

const ginKey = "gatehouse.tenant"

// ErrSuspended is what a suspended tenant's hosts answer. It is expected
// (an operator chose it), so the access log records it at INFO, not ERROR.
var ErrSuspended = apperr.New(apperr.Unavailable, "this service is temporarily unavailable")

// FromGin returns the tenant the middleware resolved, without a context
// lookup; handlers that only need the tenant use it.
func FromGin(c *gin.Context) *Tenant {
	t, _ := c.Get(ginKey)
	tenant, _ := t.(*Tenant)
	return tenant
}
