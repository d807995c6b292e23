// Package tenants is the tenant aggregate: a brand with its slug, name,
// status, theme, settings and custom domains; the store that keeps them; the
// Host→tenant resolver with its in-process cache, invalidated across nodes over
// Redis pub/sub; and the middleware that puts the resolved tenant in the
// request context. A tenant id only ever comes from here, never from input.
package tenants

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Status says whether a tenant's hosts serve its pages.
type Status string

// The statuses.
const (
	Active    Status = "active"
	Suspended Status = "suspended"
)

// Tenant is one brand, as every other package sees it. It is a value
// snapshot: the resolver shares one between requests, so nobody mutates it.
type Tenant struct {
	ID        uuid.UUID
	Slug      string
	Name      string
	Status    Status
	Theme     Theme
	Settings  Settings
	Domains   []Domain
	Fields    []Field               // registration fields, in form order
	Mails     map[MailKind]MailText // the tenant's own mail wording; a kind not in it uses the default
	CreatedAt time.Time
	UpdatedAt time.Time

	themeCSS     string
	themeVersion string
}

// Domain is a custom hostname that serves a tenant once it is verified.
type Domain struct {
	Hostname string
	Verified bool
}

// ThemeCSS is the tenant's theme as CSS custom properties, built once when
// the tenant is loaded from validated values only.
func (t *Tenant) ThemeCSS() string { return t.themeCSS }

// ThemeVersion changes whenever the theme does, so its stylesheet URL can be
// cached for a year.
func (t *Tenant) ThemeVersion() string { return t.themeVersion }

// Host is the tenant's canonical hostname: its first verified custom domain,
// else <slug>.<base-domain>. Links in mail are built from it, never from the
// request's Host header.
func (t *Tenant) Host(baseDomain string) string {
	for _, d := range t.Domains {
		if d.Verified {
			return d.Hostname
		}
	}
	return t.Slug + "." + baseDomain
}

// finish derives the cached theme values; every constructor of a Tenant
// calls it.
func (t *Tenant) finish() {
	t.themeCSS = t.Theme.CSS()
	t.themeVersion = t.Theme.Version()
}

type ctxKey struct{}

// WithTenant returns a context carrying t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the tenant the middleware resolved for this request.
func FromContext(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Tenant)
	return t, ok
}
