package console

import (
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/app/access"
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

	roles, err := h.d.Staff.Tenants(ctx, v.staff.ID)
	if err == nil {
		for id, role := range roles {
			t, err := h.d.Tenants.ByID(ctx, id)
			if err != nil {
				continue
			}
			ch.Tenants = append(ch.Tenants, views.TenantRef{
				Slug: t.Slug, Name: t.Name, Role: role.Label(), Suspended: t.Status != "active",
				Current: current != nil && current.ID == t.ID,
			})
		}
		sort.Slice(ch.Tenants, func(i, j int) bool { return ch.Tenants[i].Name < ch.Tenants[j].Name })
	}

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
