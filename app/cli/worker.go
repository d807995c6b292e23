package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/config"
)

// workerCmd runs only the background worker; any number may run beside any
// number of `serve` nodes.
func (r *runner) workerCmd() *cobra.Command {
	var concurrency int
	c := &cobra.Command{
		Use:   "worker",
		Short: "Run background jobs (mail, imports, campaigns)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := r.cfg.Validate(config.NeedDatabase, config.NeedRedis, config.NeedSecret); err != nil {
				return Usage(err)
			}
			return r.w.Worker(c.Context(), r.cfg, r.env.Stdout, r.logger(), concurrency)
		},
	}
	c.Flags().IntVar(&concurrency, "concurrency", 10, "tasks run at once")
	return c
}
