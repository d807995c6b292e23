package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/tenants"
)

// tenantStatusCmd is `tenant suspend` or `tenant resume`.
func (r *runner) tenantStatusCmd(name string, status tenants.Status, short string) *cobra.Command {
	var slug string
	c := &cobra.Command{
		Use:   name + " --slug S",
		Short: short,
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			svc, t, done, err := r.existingTenant(c.Context(), slug)
			if err != nil {
				return err
			}
			defer done()
			if err := svc.SetStatus(c.Context(), t.ID, status); err != nil {
				return err
			}
			r.printf("tenant %s is now %s\n", t.Slug, status)
			return nil
		},
	}
	c.Flags().StringVar(&slug, "slug", "", "the tenant's slug")
	return c
}
