package console

import (
	"context"
	"io"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
	"gatehouse/views/components"
	views "gatehouse/views/console"
)

// Frame wraps another feature's page content in the console chrome
// (navigation, tenant switcher, breadcrumbs, flash), so features such as
// imports render their own views inside the console.
func (h *Handlers) Frame(c *gin.Context, title string, content templ.Component) templ.Component {
	t := tenantOf(c)
	crumbs := []views.Crumb{{Label: title}}
	if t != nil {
		crumbs = tenantCrumbs(c, views.Crumb{Label: title})
		title += " · " + t.Name
	}
	chrome := h.chrome(c, title, crumbs...)
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return views.Shell(chrome).Render(templ.WithChildren(ctx, content), w)
	})
}

// TenantOf is the tenant the guard resolved from :slug.
func TenantOf(c *gin.Context) *tenants.Tenant { return tenantOf(c) }

// ActorName and ActorIP name the signed-in staff member for another
// feature's audit trail.
func ActorName(c *gin.Context) string { return actor(c).Name() }

// ActorIP is the staff member's address.
func ActorIP(c *gin.Context) string { return actor(c).IP }

// Notify leaves a success message for the next console page, for
// another feature's pages that redirect after a change.
func (h *Handlers) Notify(c *gin.Context, msg string) { h.flash(c, components.AlertSuccess, msg) }
