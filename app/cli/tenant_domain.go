package cli

import (
	"context"

	"github.com/spf13/cobra"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

func (r *runner) tenantDomainCmd() *cobra.Command {
	add := func(ctx context.Context, svc *tenants.Service, t *tenants.Tenant, d string) error {
		return svc.AddDomain(ctx, t.ID, d, true)
	}
	remove := func(ctx context.Context, svc *tenants.Service, t *tenants.Tenant, d string) error {
		return svc.RemoveDomain(ctx, t.ID, d)
	}
	return r.groupCmd("domain", "Attach or detach a tenant's custom domain",
		r.tenantDomainChangeCmd("add", "Attach a custom domain to a tenant", add),
		r.tenantDomainChangeCmd("remove", "Detach a custom domain from a tenant", remove))
}

// tenantDomainChangeCmd is `tenant domain add` or `tenant domain remove`.
func (r *runner) tenantDomainChangeCmd(name, short string, change func(context.Context, *tenants.Service, *tenants.Tenant, string) error) *cobra.Command {
	var slug string
	var domains []string
	c := &cobra.Command{
		Use:   name + " --slug S --domain D",
		Short: short,
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			svc, t, done, err := r.existingTenant(c.Context(), slug)
			if err != nil {
				return err
			}
			defer done()
			if len(domains) != 1 {
				return apperr.Field("domain", "give exactly one --domain")
			}
			if err := change(c.Context(), svc, t, domains[0]); err != nil {
				return err
			}
			r.printf("tenant %s: %s %s\n", t.Slug, name, domains[0])
			return nil
		},
	}
	c.Flags().StringVar(&slug, "slug", "", "the tenant's slug")
	c.Flags().StringArrayVar(&domains, "domain", nil, "the custom domain")
	return c
}
