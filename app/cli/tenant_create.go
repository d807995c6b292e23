package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

func (r *runner) tenantCreateCmd() *cobra.Command {
	var in tenants.NewTenant
	c := &cobra.Command{
		Use:   "create --slug S --name N [--domain D]...",
		Short: "Create a tenant, served on <slug>.<base-domain>",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if in.Slug == "" {
				return apperr.Field("slug", "is required")
			}
			svc, done, err := r.tenantService(c.Context())
			if err != nil {
				return err
			}
			defer done()
			t, err := svc.Create(c.Context(), in)
			if err != nil {
				return err
			}
			r.printf("created tenant %s (%s)\n", t.Slug, t.Name)
			r.printf("  login page: %s/login\n", r.cfg.PublicURL(t.Slug+"."+r.cfg.BaseDomain))
			for _, d := range t.Domains {
				r.printf("  also on:    %s/login\n", r.cfg.PublicURL(d.Hostname))
			}
			return nil
		},
	}
	c.Flags().StringVar(&in.Slug, "slug", "", "the tenant's slug: its host is <slug>.<base-domain>")
	c.Flags().StringVar(&in.Name, "name", "", "the brand's name, as customers see it")
	c.Flags().StringArrayVar(&in.Domains, "domain", nil, "a custom domain that serves the tenant (repeatable)")
	return c
}
