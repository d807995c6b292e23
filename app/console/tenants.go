package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/console"
)

// tenantForm is what POST /tenants takes.
type tenantForm struct {
	Slug string
	Name string
}

func bindTenant(c *gin.Context) tenantForm {
	return tenantForm{Slug: strings.TrimSpace(c.PostForm("slug")), Name: strings.TrimSpace(c.PostForm("name"))}
}

// TenantsList is GET /tenants: every tenant, filtered by ?q= on slug, name
// and domains. An htmx search gets the table alone.
func (h *Handlers) TenantsList(c *gin.Context) {
	h.renderTenants(c, http.StatusOK, views.TenantForm{})
}

func (h *Handlers) renderTenants(c *gin.Context, status int, form views.TenantForm) {
	q := strings.TrimSpace(c.Query("q"))
	all, err := h.d.Tenants.List(c.Request.Context())
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v := views.TenantsPage{Query: q, Total: len(all), Form: form, BaseDomain: h.d.BaseDomain}
	needle := strings.ToLower(q)
	for _, t := range all {
		row := views.TenantRow{Slug: t.Slug, Name: t.Name, Status: string(t.Status), Created: t.CreatedAt.Format("2006-01-02")}
		hay := t.Slug + " " + strings.ToLower(t.Name)
		for _, d := range t.Domains {
			label := d.Hostname
			if !d.Verified {
				label += " (not verified)"
			}
			row.Domains = append(row.Domains, label)
			hay += " " + d.Hostname
		}
		if needle == "" || strings.Contains(hay, needle) {
			v.Rows = append(v.Rows, row)
		}
	}
	if isHTMX(c) && c.Request.Method == http.MethodGet {
		h.d.Render.HTML(c, status, views.TenantRows(v))
		return
	}
	v.Chrome = h.chrome(c, "Tenants", views.Crumb{Label: "Console", Href: "/"}, views.Crumb{Label: "Tenants"})
	h.d.Render.HTML(c, status, views.Tenants(v))
}

// TenantCreate is POST /tenants.
func (h *Handlers) TenantCreate(c *gin.Context) {
	f := bindTenant(c)
	t, err := h.changes.createTenant(c.Request.Context(), actor(c), f.Slug, f.Name)
	if err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		for field, msg := range errs {
			errs[field] = tenantSentence(field, msg)
		}
		h.renderTenants(c, status, views.TenantForm{Slug: f.Slug, Name: f.Name, Errors: errs})
		return
	}
	h.done(c, "Tenant "+t.Slug+" created. Invite its owner from its Staff page.", "/tenants/"+t.Slug)
}

// platformTenant loads the :slug tenant of a platform page.
func (h *Handlers) platformTenant(c *gin.Context) (*tenants.Tenant, bool) {
	t, err := h.d.Tenants.BySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		h.d.Render.Error(c, notFound(err))
		return nil, false
	}
	return t, true
}

// TenantShow is GET /tenants/:slug.
func (h *Handlers) TenantShow(c *gin.Context) {
	t, ok := h.platformTenant(c)
	if !ok {
		return
	}
	h.renderTenant(c, http.StatusOK, t, "", nil)
}

func (h *Handlers) renderTenant(c *gin.Context, status int, t *tenants.Tenant, newDomain string, errs views.Errors) {
	v := views.TenantPage{
		Slug: t.Slug, Name: t.Name, Status: string(t.Status), Created: t.CreatedAt.Format("2006-01-02"),
		LoginURL: h.d.PublicURL(t.Host(h.d.BaseDomain)) + "/login", NewDomain: newDomain, Errors: errs,
	}
	for _, d := range t.Domains {
		row := views.DomainRow{Hostname: d.Hostname, Verified: d.Verified, RecordName: RecordName(d.Hostname), RecordValue: h.d.Domains.Token(t.ID, d.Hostname)}
		if errs != nil && errs["verify:"+d.Hostname] != "" {
			row.Error = errs["verify:"+d.Hostname]
		}
		v.Domains = append(v.Domains, row)
	}
	v.Chrome = h.chrome(c, t.Name, views.Crumb{Label: "Console", Href: "/"}, views.Crumb{Label: "Tenants", Href: "/tenants"}, views.Crumb{Label: t.Name})
	h.d.Render.HTML(c, status, views.TenantDetail(v))
}

// TenantStatus is POST /tenants/:slug/status: suspend (after confirming)
// or resume.
func (h *Handlers) TenantStatus(c *gin.Context) {
	t, ok := h.platformTenant(c)
	if !ok {
		return
	}
	status := tenants.Status(c.PostForm("status"))
	if status != tenants.Active && status != tenants.Suspended {
		h.renderTenant(c, http.StatusUnprocessableEntity, t, "", views.Errors{"status": "choose active or suspended"})
		return
	}
	if status == tenants.Suspended && t.Status != tenants.Suspended && !confirmed(c) {
		h.askConfirm(c, "Suspend "+t.Name+"?",
			"Its customers will see an “unavailable” page instead of the sign-in page until you resume it.",
			"Suspend tenant", "/tenants/"+t.Slug, views.Hidden{Name: "status", Value: string(status)})
		return
	}
	if err := h.changes.setStatus(c.Request.Context(), actor(c), t, status); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.done(c, t.Name+" is now "+string(status)+".", "/tenants/"+t.Slug)
}

// DomainAdd is POST /tenants/:slug/domains: the domain is added unverified.
func (h *Handlers) DomainAdd(c *gin.Context) {
	t, ok := h.platformTenant(c)
	if !ok {
		return
	}
	raw := strings.TrimSpace(c.PostForm("domain"))
	host, err := h.changes.addDomain(c.Request.Context(), actor(c), t, raw)
	if err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderTenant(c, status, t, raw, errs)
		return
	}
	h.done(c, host+" added. It serves the tenant once verified: publish the TXT record below, then check DNS.", "/tenants/"+t.Slug)
}

// DomainVerify is POST /tenants/:slug/domains/verify: a DNS check of the
// domain's TXT record.
func (h *Handlers) DomainVerify(c *gin.Context) {
	h.verifyDomain(c, "dns")
}

// DomainMarkVerified is POST /tenants/:slug/domains/mark-verified: a
// platform admin vouches for the domain (after confirming); audited.
func (h *Handlers) DomainMarkVerified(c *gin.Context) {
	h.verifyDomain(c, "manual")
}

func (h *Handlers) verifyDomain(c *gin.Context, method string) {
	t, ok := h.platformTenant(c)
	if !ok {
		return
	}
	raw := c.PostForm("domain")
	if _, err := domainOf(t, raw); err != nil {
		h.renderTenant(c, http.StatusUnprocessableEntity, t, "", views.Errors{"domain": "choose one of this tenant's domains"})
		return
	}
	if method == "manual" && !confirmed(c) {
		host := tenants.NormalizeHost(raw)
		h.askConfirm(c, "Mark "+host+" verified?",
			"Only do this if you know the tenant controls "+host+": it starts serving their sign-in pages at once. Your name is recorded in the audit log.",
			"Mark verified", "/tenants/"+t.Slug, views.Hidden{Name: "domain", Value: host})
		return
	}
	err := h.changes.verifyDomain(c.Request.Context(), actor(c), t, raw, method)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid && e.Field == "domain" {
			h.renderTenant(c, http.StatusUnprocessableEntity, t, "", views.Errors{"verify:" + tenants.NormalizeHost(raw): e.Message})
			return
		}
		h.d.Render.Error(c, err)
		return
	}
	h.done(c, tenants.NormalizeHost(raw)+" is verified and serves the tenant now.", "/tenants/"+t.Slug)
}

// DomainRemove is POST /tenants/:slug/domains/remove, after confirming.
func (h *Handlers) DomainRemove(c *gin.Context) {
	t, ok := h.platformTenant(c)
	if !ok {
		return
	}
	raw := c.PostForm("domain")
	d, err := domainOf(t, raw)
	if err != nil {
		h.renderTenant(c, http.StatusUnprocessableEntity, t, "", views.Errors{"domain": "choose one of this tenant's domains"})
		return
	}
	if !confirmed(c) {
		h.askConfirm(c, "Remove "+d.Hostname+"?", "It stops serving "+t.Name+"'s sign-in pages at once.",
			"Remove domain", "/tenants/"+t.Slug, views.Hidden{Name: "domain", Value: d.Hostname})
		return
	}
	if err := h.changes.removeDomain(c.Request.Context(), actor(c), t, d.Hostname); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.done(c, d.Hostname+" removed.", "/tenants/"+t.Slug)
}

// tenantSentence turns the tenants package's field message ("must not be
// empty", `a tenant with slug "demo" already exists`) into a sentence for
// the form, shown next to its field.
func tenantSentence(field, msg string) string {
	label := map[string]string{"slug": "slug", "name": "brand name"}[field]
	if label == "" {
		label = field
	}
	switch {
	case msg == "must not be empty":
		return "Enter a " + label + "."
	case strings.HasPrefix(msg, "a tenant with"):
		return "A" + strings.TrimPrefix(msg, "a") + ". Choose another slug."
	case strings.HasPrefix(msg, `"`):
		return "The " + label + " " + msg + "."
	}
	return "The " + label + " " + strings.TrimSuffix(msg, ".") + "."
}
