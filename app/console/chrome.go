package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/app/access"
	"gatehouse/tenants"
	views "gatehouse/views/console"
)

// Section is one part of a tenant's console, shown in the navigation and
// on the overview to those whose role allows Perm. Path is relative to
// /t/:slug.
type Section struct {
	Label, Path, Hint string
	Perm              access.Perm
}

// DefaultSections are a tenant's console pages, in navigation order; a
// feature that adds pages passes its own list in Deps.Sections.
var DefaultSections = []Section{
	{"Overview", "", "", access.Perm{Object: access.Overview, Action: access.Read}},
	{"Theme", "/theme", "Colours, logo, font and copy of the sign-in pages, with a live preview.", access.Perm{Object: access.Settings, Action: access.Read}},
	{"Registration fields", "/fields", "What the sign-up form asks for, and when.", access.Perm{Object: access.Settings, Action: access.Read}},
	{"Emails", "/emails", "The subject and opening text of the mails customers get, with a preview.", access.Perm{Object: access.Settings, Action: access.Read}},
	{"Customer settings", "/settings", "Email verification, password length and how long customers stay signed in.", access.Perm{Object: access.Settings, Action: access.Read}},
	{"Customers", "/customers", "Find customers, fix profiles, disable accounts and send resets.", access.Perm{Object: access.Users, Action: access.Read}},
	{"Imports", "/imports", "Bring in existing customers from CSV or JSON Lines, and invite them to set a password.", access.Perm{Object: access.Imports, Action: access.Read}},
	{"Social apps", "/social", "Sign in with Google, Apple, GitHub and others.", access.Perm{Object: access.Settings, Action: access.Read}},
	{"Apps", "/apps", "The brand's web sites, mobile apps and services that sign customers in (OpenID Connect).", access.Perm{Object: access.Settings, Action: access.Read}},
	{"Webhooks", "/webhooks", "Signed events posted to the brand's systems when customers change.", access.Perm{Object: access.Settings, Action: access.Read}},
	{"Staff", "/staff", "Who works on this tenant, and in which role.", access.Perm{Object: access.Team, Action: access.Read}},
	{"Audit log", "/audit", "Every sign-in and change, with who made it.", access.Perm{Object: access.Audit, Action: access.Read}},
}

// chrome builds the frame of a full page: the viewer, the switcher, the
// navigation their role allows, breadcrumbs and the flash message. It is
// only built for full pages; htmx fragments skip it.
func (h *Handlers) chrome(c *gin.Context, title string, crumbs ...views.Crumb) views.Chrome {
	ctx := c.Request.Context()
	v := viewerOf(c)
	ch := views.Chrome{Page: h.page(title), Crumbs: crumbs, Flash: h.takeFlash(c)}
	if v == nil {
		return ch
	}
	ch.StaffEmail = v.staff.Email
	rbac := h.d.Staff.RBAC()
	ch.PlatformAdmin, _ = rbac.Allowed(ctx, v.staff.ID, access.PlatformDomain, access.Perm{Object: access.Platform, Action: access.Read})

	current := tenantOf(c)
	ch.Switch, _ = h.switchList(c, ch.PlatformAdmin, "", switchLimit)
	ch.Switch.Show = ch.PlatformAdmin || current != nil || len(ch.Switch.Items) > 0

	path := c.Request.URL.Path
	if current != nil {
		ref := views.TenantRef{Slug: current.Slug, Name: current.Name, Role: roleOf(c).Label(), Suspended: current.Status != "active", Current: true}
		ch.Tenant = &ref
		base := "/t/" + current.Slug
		for _, s := range h.d.Sections {
			ok, _ := rbac.Allowed(ctx, v.staff.ID, access.TenantDomain(current.ID), s.Perm)
			if !ok {
				continue
			}
			href := base + s.Path
			active := path == href || s.Path != "" && strings.HasPrefix(path, href+"/")
			ch.Nav = append(ch.Nav, views.NavItem{Label: s.Label, Href: href, Active: active, Hint: s.Hint})
		}
	}
	if ch.PlatformAdmin {
		ch.PlatformNav = append(ch.PlatformNav, views.NavItem{Label: "Tenants", Href: "/tenants", Active: strings.HasPrefix(path, "/tenants")})
		if h.d.Outbox != nil {
			ch.PlatformNav = append(ch.PlatformNav, views.NavItem{Label: "Dev outbox", Href: "/outbox", Active: strings.HasPrefix(path, "/outbox")})
		}
	}
	return ch
}

// tenantCrumbs starts the breadcrumbs of a tenant page.
func tenantCrumbs(c *gin.Context, more ...views.Crumb) []views.Crumb {
	t := tenantOf(c)
	out := []views.Crumb{{Label: "Console", Href: "/"}}
	if t != nil {
		out = append(out, views.Crumb{Label: t.Name, Href: "/t/" + t.Slug})
	}
	return append(out, more...)
}

// switchLimit is how many tenants the header's switcher lists before it
// asks for a more precise search.
const switchLimit = 8

// switchList finds the tenants the viewer may open whose name or slug
// contains q: every tenant for a platform admin's search, their own
// otherwise. The query is scoped in the store, so another tenant's name never
// reaches the page.
func (h *Handlers) switchList(c *gin.Context, platformAdmin bool, q string, limit int) (views.SwitchList, error) {
	ctx := c.Request.Context()
	v := viewerOf(c)
	out := views.SwitchList{Query: q, AllTenants: platformAdmin}
	roles, err := h.d.Staff.Tenants(ctx, v.staff.ID)
	if err != nil {
		return out, err
	}
	// A platform admin's search covers every tenant; unsearched, the
	// list is the tenants they work in, like anyone's.
	among := tenants.Among{All: platformAdmin && q != ""}
	for id := range roles {
		among.IDs = append(among.IDs, id)
	}
	found, err := h.d.Tenants.Find(ctx, among, q, limit)
	if err != nil {
		return out, err
	}
	current := tenantOf(c)
	for _, t := range found.Tenants {
		ref := views.TenantRef{Slug: t.Slug, Name: t.Name, Suspended: t.Status != tenants.Active,
			Current: current != nil && current.ID == t.ID}
		if r, ok := roles[t.ID]; ok {
			ref.Role = r.Label()
		}
		out.Items = append(out.Items, ref)
	}
	out.Total = found.Total
	if more := found.Total - len(found.Tenants); more > 0 {
		n := strconv.Itoa(more)
		if found.Capped {
			n += "+"
		}
		out.More = n + " more — refine your search"
	}
	return out, nil
}

// Switch is GET /switch?q=: the tenants the viewer may open matching q.
// The header's switcher asks for it with htmx as one types and gets the
// list alone; without JavaScript its form lands here as a page.
func (h *Handlers) Switch(c *gin.Context) {
	admin, _ := h.d.Staff.IsPlatformAdmin(c.Request.Context(), viewerOf(c).staff.ID)
	q := strings.TrimSpace(c.Query("q"))
	if len([]rune(q)) > 100 {
		q = string([]rune(q)[:100])
	}
	limit := switchLimit
	if !isHTMX(c) {
		limit = 50
	}
	list, err := h.switchList(c, admin, q, limit)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	if isHTMX(c) {
		h.d.Render.HTML(c, http.StatusOK, views.SwitchResults(list))
		return
	}
	ch := h.chrome(c, "Switch tenant", views.Crumb{Label: "Console", Href: "/"}, views.Crumb{Label: "Switch tenant"})
	h.d.Render.HTML(c, http.StatusOK, views.SwitchPage(views.SwitchPageView{Chrome: ch, List: list}))
}
