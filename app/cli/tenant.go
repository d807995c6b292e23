package cli

import (
	"context"

	"github.com/spf13/cobra"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

// tenantCmd manages tenants. Changes are announced over Redis when it is
// reachable, so running servers serve them at once.
func (r *runner) tenantCmd() *cobra.Command {
	return r.groupCmd("tenant", "Manage tenants (brands)",
		r.tenantCreateCmd(), r.tenantListCmd(), r.tenantUpdateCmd(),
		r.tenantStatusCmd("suspend", tenants.Suspended, "Take a tenant's hosts offline"),
		r.tenantStatusCmd("resume", tenants.Active, "Bring a suspended tenant's hosts back"),
		r.tenantDomainCmd())
}

// tenantService opens the tenants service, announcing on Redis.
func (r *runner) tenantService(ctx context.Context) (*tenants.Service, func(), error) {
	s, err := r.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	pub, closePub := r.w.Publisher(ctx, r.cfg, s.log, r.env.Stderr)
	svc := tenants.NewService(tenants.NewStore(s.db.Gorm), pub, r.cfg.BaseDomain, s.log)
	return svc, func() { closePub(); s.close() }, nil
}

// existingTenant opens the tenants service and finds the tenant --slug names.
func (r *runner) existingTenant(ctx context.Context, slug string) (*tenants.Service, *tenants.Tenant, func(), error) {
	if slug == "" {
		return nil, nil, nil, apperr.Field("slug", "is required")
	}
	svc, done, err := r.tenantService(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := svc.BySlug(ctx, slug)
	if err != nil {
		done()
		return nil, nil, nil, apperr.Field("slug", "no tenant has the slug %q", slug)
	}
	return svc, t, done, nil
}
