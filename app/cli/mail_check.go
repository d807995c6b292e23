package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/app/mail"
	"gatehouse/apperr"
)

// mailTestCmd queues a test message through the real path (queue, worker,
// SMTP or outbox), so an operator can check mail delivery end to end.
func (r *runner) mailTestCmd() *cobra.Command {
	var to, slug string
	c := &cobra.Command{
		Use:   "test --to EMAIL [--tenant S]",
		Short: "Queue a test mail, branded as the tenant, to check delivery",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if to == "" {
				return apperr.Field("to", "is required")
			}
			r.w.Fallbacks(r.cfg, r.env.Getenv, r.env.Stderr)
			if err := r.cfg.Validate(mailNeeds(slug)...); err != nil {
				return Usage(err)
			}
			brand, tenantID, err := r.mailBrand(c.Context(), slug)
			if err != nil {
				return err
			}
			msg, err := mail.TestMessage(c.Context(), brand, r.cfg.MailFrom, to)
			if err != nil {
				return err
			}
			msg.TenantID = tenantID
			queue, done, err := r.w.Queue(c.Context(), r.cfg)
			if err != nil {
				return err
			}
			defer done()
			if err := queue.EnqueueMail(c.Context(), msg); err != nil {
				return err
			}
			r.printf("queued a test message to %s; a worker delivers it\n", to)
			return nil
		},
	}
	c.Flags().StringVar(&to, "to", "", "recipient address")
	c.Flags().StringVar(&slug, "tenant", "", "brand the message as this tenant")
	return c
}
