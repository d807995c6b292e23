package cli

import (
	"strconv"

	"github.com/spf13/cobra"

	"gatehouse/apperr"
)

func (r *runner) tenantUpdateCmd() *cobra.Command {
	var slug, brandOnly string
	c := &cobra.Command{
		Use:   "update --slug S --brand-login-only=true|false",
		Short: "Turn \"brand login only\" on or off",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			svc, t, done, err := r.existingTenant(c.Context(), slug)
			if err != nil {
				return err
			}
			defer done()
			if brandOnly == "" {
				return apperr.Field("brand-login-only", "give --brand-login-only=true or --brand-login-only=false")
			}
			on, err := strconv.ParseBool(brandOnly)
			if err != nil {
				return apperr.Field("brand-login-only", "must be true or false, not %q", brandOnly)
			}
			settings := t.Settings
			settings.BrandLoginOnly = on
			if _, err := svc.UpdateSettings(c.Context(), t.ID, settings); err != nil {
				return err
			}
			r.printf("tenant %s: brand login only is %s\n", t.Slug, map[bool]string{true: "on", false: "off"}[on])
			return nil
		},
	}
	c.Flags().StringVar(&slug, "slug", "", "the tenant's slug")
	c.Flags().StringVar(&brandOnly, "brand-login-only", "", "true: customers sign in only through the brand's own OpenID Connect or OAuth 2.0 app; false: passwords too")
	return c
}
