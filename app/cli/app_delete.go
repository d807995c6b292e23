package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/apperr"
)

func (r *runner) appDeleteCmd() *cobra.Command {
	var slug, clientID string
	c := &cobra.Command{
		Use:   "delete --tenant S --client-id C",
		Short: "Delete an app and every token issued to it",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if slug != "" && clientID == "" {
				return apperr.Field("client-id", "is required")
			}
			a, err := r.tenantApps(c.Context(), slug)
			if err != nil {
				return err
			}
			defer a.close()
			if err := a.apps.Delete(c.Context(), clientID); err != nil {
				return err
			}
			a.record(c.Context(), "app.deleted", clientID, nil)
			r.printf("deleted app %s and every token issued to it\n", clientID)
			return nil
		},
	}
	c.Flags().StringVar(&slug, "tenant", "", "the tenant's slug")
	c.Flags().StringVar(&clientID, "client-id", "", "the app's client id")
	return c
}
