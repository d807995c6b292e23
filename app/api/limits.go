package api

import (
	"net/netip"

	"github.com/gin-gonic/gin"

	"gatehouse/app/ratelimit"
	"gatehouse/tenants"
)

// limitIP counts every API request against its address, before the token
// is looked at, so a flood of bad tokens is throttled too. IPv6 addresses
// count by their /64, which one customer or host usually holds whole.
//
// A token this node has verified before (Tokens.KnownClient) names its
// client without any work, so both budgets are counted here at once, in
// one round trip to Redis, still before the token's row is read.
func (f *framework) limitIP(c *gin.Context) {
	t, _ := tenants.FromContext(c.Request.Context())
	budgets := []ratelimit.Budget{{Key: "api:ip:" + t.ID.String() + ":" + addressKey(c.ClientIP()), Limit: f.d.Limits.PerIP, Window: f.d.Limits.Window}}
	if raw, ok := bearerOf(c); ok {
		if clientID, ok := f.d.Tokens.KnownClient(t, raw); ok {
			budgets = append(budgets, f.clientBudget(t.ID.String(), clientID))
			c.Set(countedClientKey, clientID)
		}
	}
	if err := f.d.Limiter.AllowAll(c.Request.Context(), budgets...); err != nil {
		Problem(c, err)
		return
	}
	c.Next()
}

// countedClientKey notes the client whose budget limitIP already counted.
const countedClientKey = "api.counted_client"

func (f *framework) clientBudget(tenantID, clientID string) ratelimit.Budget {
	return ratelimit.Budget{Key: "api:client:" + tenantID + ":" + clientID, Limit: f.d.Limits.PerClient, Window: f.d.Limits.Window}
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
	if counted, _ := c.Get(countedClientKey); counted == pr.ClientID {
		c.Next()
		return
	}
	if err := f.d.Limiter.AllowAll(c.Request.Context(), f.clientBudget(pr.TenantID.String(), pr.ClientID)); err != nil {
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
