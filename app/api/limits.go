package api

import (
	"net/netip"

	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
)

// limitIP counts every API request against its address, before the token
// is looked at, so a flood of bad tokens is throttled too. IPv6 addresses
// count by their /64, which one customer or host usually holds whole.
func (f *framework) limitIP(c *gin.Context) {
	t, _ := tenants.FromContext(c.Request.Context())
	key := "api:ip:" + t.ID.String() + ":" + addressKey(c.ClientIP())
	if err := f.d.Limiter.Allow(c.Request.Context(), key, f.d.Limits.PerIP, f.d.Limits.Window); err != nil {
		Problem(c, err)
		return
	}
	c.Next()
}

// limitClient counts requests made with one app's tokens, wherever they
// come from: the app's whole fleet shares one budget.
func (f *framework) limitClient(c *gin.Context) {
	p, ok := c.Get(principalKey)
	if !ok {
		c.Next()
		return
	}
	pr := p.(Principal)
	key := "api:client:" + pr.TenantID.String() + ":" + pr.ClientID
	if err := f.d.Limiter.Allow(c.Request.Context(), key, f.d.Limits.PerClient, f.d.Limits.Window); err != nil {
		Problem(c, err)
		return
	}
	c.Next()
}

func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is4() || a.Is4In6() {
		return a.Unmap().String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
