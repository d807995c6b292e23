package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/app/access"
)

func (r *runner) staffCreateCmd() *cobra.Command {
	var email, role, slug string
	c := &cobra.Command{
		Use:   "create --email E --role platform-admin|owner|admin|support [--tenant S]",
		Short: "Create a staff member, with the password on stdin",
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
			password, err := readPassword(r.env.Stdin)
			if err != nil {
				return err
			}
			st, err := s.svc.Create(ctx, operator, access.NewStaff{Email: email, Password: password, Role: role, Domain: domain})
			if err != nil {
				return err
			}
			r.printf("created staff %s (%s)\n", st.Email, role.Label())
			r.printf("  console: %s/login\n", r.cfg.PublicURL("console."+r.cfg.BaseDomain))
			return nil
		},
	}
	c.Flags().StringVar(&email, "email", "", "the staff member's email address")
	c.Flags().StringVar(&role, "role", "", "platform-admin, owner, admin or support")
	c.Flags().StringVar(&slug, "tenant", "", "the tenant's slug (for owner, admin and support)")
	return c
}
