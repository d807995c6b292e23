package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/config"
)

// importWorkCmd runs a worker that takes only import steps and campaign
// ticks (the bulk queue), for machines set aside for imports. It stops
// like `gatehouse worker`: running steps get 10 s, then go back to the
// queue, where any worker finishes them.
func (r *runner) importWorkCmd() *cobra.Command {
	var concurrency int
	c := &cobra.Command{
		Use:   "work [--concurrency N]",
		Short: "Run a worker for imports only (the bulk queue)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := r.cfg.Validate(config.NeedDatabase, config.NeedRedis); err != nil {
				return Usage(err)
			}
			log := r.logger()
			database, err := r.w.OpenDB(c.Context(), r.cfg, log, true)
			if err != nil {
				return err
			}
			defer database.Close()
			run, err := r.w.Imports(c.Context(), r.cfg, log, database, r.env.Stderr, concurrency, true)
			if err != nil {
				return err
			}
			r.printf("gatehouse: import worker running (queue bulk)\n")
			<-c.Context().Done()
			run.Close()
			return nil
		},
	}
	c.Flags().IntVar(&concurrency, "concurrency", 2, "import steps run at once")
	return c
}
