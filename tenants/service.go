package tenants

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"gatehouse/apperr"
)

// Publisher tells every node that a tenant changed, so each drops its cached
// copy. Bus implements it over Redis.
type Publisher interface {
	TenantChanged(ctx context.Context, id uuid.UUID) error
}

// Service applies the tenant rules (slug, name, domains, theme) on top of the
// store and announces each change to the other nodes.
type Service struct {
	store      *Store
	pub        Publisher
	baseDomain string
	log        *slog.Logger
}

// NewService returns a service. pub may be nil where no Redis is reachable
// (a CLI run against a dev data dir with no server up); nodes then pick the
// change up when their cache entry expires.
func NewService(store *Store, pub Publisher, baseDomain string, log *slog.Logger) *Service {
	return &Service{store: store, pub: pub, baseDomain: baseDomain, log: log}
}

// NewTenant is what it takes to create a tenant.
type NewTenant struct {
	Slug    string
	Name    string
	Domains []string // verified at once: the operator who runs the CLI vouches for them
}

// Create validates in and stores a new active tenant with the default theme.
func (s *Service) Create(ctx context.Context, in NewTenant) (*Tenant, error) {
	slug := strings.TrimSpace(in.Slug)
	if err := ValidateSlug(slug); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, apperr.Field("name", "must not be empty")
	}
	if n := utf8.RuneCountInString(name); n > 100 {
		return nil, apperr.Field("name", "is %d characters long; at most 100 are allowed", n)
	}
	now := time.Now().UTC()
	t := &Tenant{
		ID: uuid.Must(uuid.NewV7()), Slug: slug, Name: name, Status: Active,
		Theme: DefaultTheme(), Settings: DefaultSettings(), CreatedAt: now, UpdatedAt: now,
	}
	seen := map[string]bool{}
	for _, raw := range in.Domains {
		host, err := ValidateDomain(raw, s.baseDomain)
		if err != nil {
			return nil, err
		}
		if seen[host] {
			return nil, apperr.Field("domain", "%s is given twice", host)
		}
		seen[host] = true
		t.Domains = append(t.Domains, Domain{Hostname: host, Verified: true})
	}
	if err := s.store.insert(ctx, t); err != nil {
		return nil, err
	}
	t.finish()
	s.announce(ctx, t.ID)
	return t, nil
}

// UpdateTheme validates and saves a tenant's theme; every node serves it at
// once.
func (s *Service) UpdateTheme(ctx context.Context, id uuid.UUID, theme Theme) (*Tenant, error) {
	theme, err := theme.Normalize()
	if err != nil {
		return nil, err
	}
	row, err := toRow(&Tenant{Theme: theme})
	if err != nil {
		return nil, err
	}
	if err := s.store.update(ctx, id, map[string]any{"theme": row.Theme}); err != nil {
		return nil, err
	}
	s.announce(ctx, id)
	return s.store.ByID(ctx, id)
}

// UpdateSettings validates and saves a tenant's customer policies.
func (s *Service) UpdateSettings(ctx context.Context, id uuid.UUID, settings Settings) (*Tenant, error) {
	if err := settings.Validate(); err != nil {
		return nil, err
	}
	row, err := toRow(&Tenant{Settings: settings})
	if err != nil {
		return nil, err
	}
	if err := s.store.update(ctx, id, map[string]any{"settings": row.Settings}); err != nil {
		return nil, err
	}
	s.announce(ctx, id)
	return s.store.ByID(ctx, id)
}

// Touch marks a tenant changed and tells every node, for changes kept
// outside the tenant's own row (its logo, its social apps) that hosted
// pages cache with the tenant snapshot.
func (s *Service) Touch(ctx context.Context, id uuid.UUID) error {
	if err := s.store.update(ctx, id, map[string]any{}); err != nil {
		return err
	}
	s.announce(ctx, id)
	return nil
}

// SetStatus suspends or resumes a tenant. A suspended tenant's hosts show a
// neutral "unavailable" page.
func (s *Service) SetStatus(ctx context.Context, id uuid.UUID, status Status) error {
	if status != Active && status != Suspended {
		return apperr.Field("status", "must be active or suspended")
	}
	if err := s.store.update(ctx, id, map[string]any{"status": string(status)}); err != nil {
		return err
	}
	s.announce(ctx, id)
	return nil
}

// AddDomain attaches a custom domain to a tenant. Only a verified domain
// serves the tenant.
func (s *Service) AddDomain(ctx context.Context, id uuid.UUID, domain string, verified bool) error {
	host, err := ValidateDomain(domain, s.baseDomain)
	if err != nil {
		return err
	}
	if err := s.store.addDomain(ctx, id, Domain{Hostname: host, Verified: verified}); err != nil {
		return err
	}
	s.announce(ctx, id)
	return nil
}

// RemoveDomain detaches a custom domain; it stops serving the tenant at once.
func (s *Service) RemoveDomain(ctx context.Context, id uuid.UUID, domain string) error {
	host := NormalizeHost(domain)
	if host == "" {
		return apperr.Field("domain", "%q is not a valid host name", domain)
	}
	if err := s.store.removeDomain(ctx, id, host); err != nil {
		return err
	}
	s.announce(ctx, id)
	return nil
}

// BySlug returns one tenant.
func (s *Service) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	return s.store.BySlug(ctx, slug)
}

// List returns every tenant.
func (s *Service) List(ctx context.Context) ([]*Tenant, error) { return s.store.List(ctx) }

// announce publishes a change. A failure is logged, not returned: the change
// is saved, and nodes that miss the message still see it when their cache
// entry expires.
func (s *Service) announce(ctx context.Context, id uuid.UUID) {
	if s.pub == nil {
		return
	}
	if err := s.pub.TenantChanged(ctx, id); err != nil {
		s.log.Warn("tenant_change_not_announced", "tenant_id", id, "error", err)
	}
}
