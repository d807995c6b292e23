package console

import (
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"gatehouse/app/access"
	views "gatehouse/views/console"
)

// Home is GET /: the tenants the viewer works in. Someone in exactly one
// tenant, and no platform admin, goes straight to it.
func (h *Handlers) Home(c *gin.Context) {
	ch := h.chrome(c, "Console", views.Crumb{Label: "Console"})
	if len(ch.Tenants) == 1 && !ch.PlatformAdmin && ch.Flash.Message == "" {
		seeOther(c, ch.Tenants[0].Href())
		return
	}
	h.d.Render.HTML(c, http.StatusOK, views.Home(views.HomePage{Chrome: ch, Tenants: ch.Tenants}))
}

// Overview is GET /t/:slug: the tenant's sections the viewer may open.
func (h *Handlers) Overview(c *gin.Context) {
	t := tenantOf(c)
	ch := h.chrome(c, t.Name, tenantCrumbs(c)[:1]...)
	ch.Crumbs = append(ch.Crumbs, views.Crumb{Label: t.Name})
	v := views.OverviewPage{Chrome: ch, Name: t.Name, Slug: t.Slug, Status: string(t.Status),
		LoginURL: h.d.PublicURL(t.Host(h.d.BaseDomain)) + "/login"}
	for _, n := range ch.Nav {
		if n.Hint != "" {
			v.Sections = append(v.Sections, n)
		}
	}
	h.d.Render.HTML(c, http.StatusOK, views.Overview(v))
}

// roleOptions are the tenant roles as select options, selected marked.
func roleOptions(selected access.Role) []views.Option {
	out := make([]views.Option, 0, len(access.TenantRoles))
	for _, r := range access.TenantRoles {
		out = append(out, views.Option{Value: string(r), Label: r.Label(), Selected: r == selected})
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
