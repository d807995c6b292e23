package console

import (
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/app/access"
	views "gatehouse/views/console"
)

// Home is GET /?q=: the tenants the viewer works in, searched by q. A
// platform admin's home is the tenants page; someone in exactly one
// tenant goes straight to it (unless a message waits to be shown).
func (h *Handlers) Home(c *gin.Context) {
	if admin, _ := h.d.Staff.IsPlatformAdmin(c.Request.Context(), viewerOf(c).staff.ID); admin {
		seeOther(c, "/tenants")
		return
	}
	q := strings.TrimSpace(c.Query("q"))
	list, err := h.switchList(c, false, q, homeLimit)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	ch := h.chrome(c, "Console", views.Crumb{Label: "Console"})
	if q == "" && list.Total == 1 && len(list.Items) == 1 && ch.Flash.Message == "" {
		seeOther(c, list.Items[0].Href())
		return
	}
	h.d.Render.HTML(c, http.StatusOK, views.Home(views.HomePage{Chrome: ch, Tenants: list}))
}

// homeLimit is how many tenants the home page lists before it asks for a
// search.
const homeLimit = 60

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
