package console

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/app/accounts"
	"gatehouse/app/stats"
	"gatehouse/tenants"
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

// Stats is the tenant overview's figures (stats.Store).
type Stats interface {
	Load(ctx context.Context, tenantID uuid.UUID, fields []string) (stats.Overview, error)
}

// Overview is GET /t/:slug: how the tenant is doing over the last 30 UTC
// days, from counters kept by app/stats (no scan of customers or of the
// audit log), and the tenant's sections the viewer may open.
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
		if n.Href == "/t/"+t.Slug+"/fields" {
			v.FieldsHref = n.Href
		}
	}
	var optional []tenants.Field
	var keys []string
	for _, f := range t.Fields {
		if f.Capture != tenants.CaptureRequired {
			optional = append(optional, f)
			keys = append(keys, f.Key)
		}
	}
	o, err := h.d.Stats.Load(c.Request.Context(), t.ID, keys)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	fillOverview(&v, t, o, optional)
	h.d.Render.HTML(c, http.StatusOK, views.Overview(v))
}

// fillOverview turns the figures into the page's charts and tables.
func fillOverview(v *views.OverviewPage, t *tenants.Tenant, o stats.Overview, optional []tenants.Field) {
	days := func(ds []stats.Day) []views.DayValue {
		out := make([]views.DayValue, 0, len(ds))
		for _, d := range ds {
			day, _ := time.Parse(time.DateOnly, d.Day)
			out = append(out, views.DayValue{Day: day, N: d.N})
		}
		return out
	}
	v.Window = o.From.Format("2 Jan") + " – " + o.To.Format("2 Jan 2006")
	v.Customers = views.FormatCount(o.Customers)
	v.CountedAt = o.CountedAt.Format("2 Jan 15:04") + " UTC"
	v.Behind = o.Behind
	v.SignUps = views.NewChart("chart-signups", "Sign-ups", "sign-ups", days(o.SignUps))
	v.SignIns = views.NewChart("chart-signins", "Sign-ins", "sign-ins", days(o.SignIns))
	v.Failed = views.NewChart("chart-failed", "Failed sign-ins", "failed sign-ins", days(o.Failed))
	var signIns int64
	for _, m := range o.Methods {
		signIns += m.N
	}
	for _, m := range o.Methods {
		label := "Password"
		if m.Method != stats.MethodPassword {
			label = accounts.MethodName(t, m.Method)
		}
		v.Methods = append(v.Methods, views.NewShare(label, m.N, signIns))
	}
	for _, f := range optional {
		v.Fields = append(v.Fields, views.NewShare(f.Label, o.Completed[f.Key], o.Customers))
	}
	v.Empty = o.Customers == 0 && v.SignUps.Zero && v.SignIns.Zero && v.Failed.Zero
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
