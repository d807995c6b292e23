package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/apperr"
)

func (r *runner) staffPasswordCmd() *cobra.Command {
	var email string
	c := &cobra.Command{
		Use:   "password --email E",
		Short: "Set a staff member's password, read from stdin",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, done, err := r.staffService(c.Context())
			if err != nil {
				return err
			}
			defer done()
			password, err := readPassword(r.env.Stdin)
			if err != nil {
				return err
			}
			st, err := s.svc.SetPassword(c.Context(), operator, email, password)
			if apperr.Is(err, apperr.NotFound) {
				return apperr.Field("email", "no staff member has the email %q", email)
			} else if err != nil {
				return err
			}
			r.printf("password of %s changed\n", st.Email)
			return nil
		},
	}
	c.Flags().StringVar(&email, "email", "", "the staff member's email address")
	return c
}
