// Package hosted serves what every page on a brand's host shares: the
// tenant's theme stylesheet and the brand view model. The customer-facing
// features (accounts, social login) build their pages on it.
package hosted

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/web"
	"gatehouse/tenants"
	"gatehouse/views/hosted"
	"gatehouse/views/layout"
)

// Pages builds themed pages for the tenant in the request.
type Pages struct {
	render *web.Renderer
	logos  Logos

	mu        sync.Mutex
	logoCache map[uuid.UUID]cachedLogo
}

// cachedLogo is a tenant's logo URL as of one version of its snapshot; the
// console touches the tenant when the logo changes, so the version moves.
type cachedLogo struct {
	version time.Time
	url     string
}

// Logos tells the URL of a tenant's logo ("" when it has none).
type Logos interface {
	URL(ctx context.Context, tenantID uuid.UUID) (string, error)
}

// NewPages returns the hosted-page helpers. logos may be nil.
func NewPages(render *web.Renderer, logos Logos) *Pages {
	return &Pages{render: render, logos: logos, logoCache: map[uuid.UUID]cachedLogo{}}
}

// Brand is the tenant's brand with its logo, for a page.
func (p *Pages) Brand(ctx context.Context, t *tenants.Tenant) hosted.Brand {
	b := Brand(t)
	if p.logos == nil {
		return b
	}
	p.mu.Lock()
	c, ok := p.logoCache[t.ID]
	p.mu.Unlock()
	if ok && c.version.Equal(t.UpdatedAt) {
		b.LogoURL = c.url
		return b
	}
	if u, err := p.logos.URL(ctx, t.ID); err == nil {
		b.LogoURL = u
		p.mu.Lock()
		p.logoCache[t.ID] = cachedLogo{version: t.UpdatedAt, url: u}
		p.mu.Unlock()
	}
	return b
}

// Page returns the layout of a page on t's host: the shared stylesheet plus
// t's theme stylesheet, whose URL changes whenever the theme does.
func (p *Pages) Page(t *tenants.Tenant, title string) layout.Page {
	page := p.render.Page(title + " · " + Brand(t).Title())
	page.ThemeCSSURL = "/theme.css?v=" + t.ThemeVersion()
	return page
}

// Unavailable is the themed 503 page of the tenant in the request, or nil
// when none was resolved (an unknown or suspended host keeps the neutral
// page). It reads nothing from the database, which may be the thing that
// is down: the tenant comes from the resolver's cache, the logo from this
// node's memory if it has it.
func (p *Pages) Unavailable(c *gin.Context) templ.Component {
	t := tenants.FromGin(c)
	if t == nil {
		return nil
	}
	b := Brand(t)
	p.mu.Lock()
	if l, ok := p.logoCache[t.ID]; ok && l.version.Equal(t.UpdatedAt) {
		b.LogoURL = l.url
	}
	p.mu.Unlock()
	page := p.Page(t, "Briefly unavailable")
	page.NoIndex = true
	return hosted.BrandUnavailable(page, b)
}

// Brand maps a tenant to the view model templates see: names and copy, no
// ids, settings or secrets.
func Brand(t *tenants.Tenant) hosted.Brand {
	return hosted.Brand{
		Name:        t.Name,
		DisplayName: t.Theme.DisplayName,
		Headline:    t.Theme.Headline,
		SignupCopy:  t.Theme.SignupCopy,
	}
}

// ThemeCSS serves the tenant's theme as CSS custom properties. The URL
// carries the theme's version, so the browser may keep it for a year; a
// request for an old version gets the current sheet, uncached.
func (p *Pages) ThemeCSS(c *gin.Context) {
	t := tenants.FromGin(c)
	if c.Query("v") == t.ThemeVersion() {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	c.Data(http.StatusOK, "text/css; charset=utf-8", []byte(t.ThemeCSS()))
}

// Home sends a visitor of the bare host to the login page.
func (p *Pages) Home(c *gin.Context) {
	c.Redirect(http.StatusSeeOther, "/login")
}
