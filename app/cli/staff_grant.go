package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/app/access"
	"gatehouse/apperr"
)

func (r *runner) staffGrantCmd() *cobra.Command {
	var email, role, slug string
	c := &cobra.Command{
		Use:   "grant --email E --role owner|admin|support --tenant S",
		Short: "Give a staff member a role on a tenant",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			s, done, err := r.staffService(ctx)
			if err != nil {
				return err
			}
			defer done()
			role, err := access.ParseRole(role)
			if err != nil {
				return err
			}
			domain, err := s.domain(ctx, role, slug)
			if err != nil {
				return err
			}
			st, err := s.svc.ByEmail(ctx, email)
			if err != nil {
				return apperr.Field("email", "no staff member has the email %q", email)
			}
			if err := s.svc.Grant(ctx, operator, st.ID, role, domain); err != nil {
				return err
			}
			r.printf("%s is now %s\n", st.Email, role.Label())
			return nil
		},
	}
	c.Flags().StringVar(&email, "email", "", "the staff member's email address")
	c.Flags().StringVar(&role, "role", "", "platform-admin, owner, admin or support")
	c.Flags().StringVar(&slug, "tenant", "", "the tenant's slug (for owner, admin and support)")
	return c
}
