package cli

import (
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gatehouse/apperr"
)

func (r *runner) staffListCmd() *cobra.Command {
	var slug string
	c := &cobra.Command{
		Use:   "list --tenant S",
		Short: "List a tenant's staff with their roles",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, done, err := r.staffService(c.Context())
			if err != nil {
				return err
			}
			defer done()
			if slug == "" {
				r.note("staff list needs --tenant S")
				return exit(exitUsage)
			}
			t, err := s.tenant(c.Context(), "tenant", slug)
			if err != nil {
				return apperr.Field("tenant", "no tenant has the slug %q", slug)
			}
			members, err := s.svc.Members(c.Context(), t.ID)
			if err != nil {
				return err
			}
			if len(members) == 0 {
				r.printf("tenant %s has no staff yet\n", slug)
				return nil
			}
			w := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
			r.fprintf(w, "EMAIL\tROLE\tSTATUS\n")
			for _, m := range members {
				r.fprintf(w, "%s\t%s\t%s\n", m.Email, m.Role, m.Status)
			}
			return w.Flush()
		},
	}
	c.Flags().StringVar(&slug, "tenant", "", "the tenant's slug")
	return c
}
