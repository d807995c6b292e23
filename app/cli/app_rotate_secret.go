package cli

import (
	"time"

	"github.com/spf13/cobra"

	"gatehouse/apperr"
)

func (r *runner) appRotateSecretCmd() *cobra.Command {
	var slug, clientID string
	var grace time.Duration
	var asJSON bool
	c := &cobra.Command{
		Use:   "rotate-secret --tenant S --client-id C [--grace D] [--json]",
		Short: "Issue a new client secret; the old one works for the grace period",
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
			secret, err := a.apps.RotateSecret(c.Context(), clientID, grace)
			if err != nil {
				return err
			}
			a.record(c.Context(), "app.secret.rotated", clientID, map[string]any{"grace_seconds": int(grace.Seconds())})
			if asJSON {
				return r.printJSON(map[string]string{"client_id": clientID, "client_secret": secret})
			}
			r.printf("new client secret for %s: %s\n", clientID, secret)
			if grace > 0 {
				r.printf("  the previous secret keeps working for %s\n", grace)
			} else {
				r.printf("  the previous secret no longer works\n")
			}
			return nil
		},
	}
	c.Flags().StringVar(&slug, "tenant", "", "the tenant's slug")
	c.Flags().StringVar(&clientID, "client-id", "", "the app's client id")
	c.Flags().DurationVar(&grace, "grace", 0, "how long the current secret keeps working (for example 24h; default 0)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
