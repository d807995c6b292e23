package cli

import (
	"github.com/spf13/cobra"
)

func (r *runner) serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve [--dev]",
		Short: "Serve hosted pages, the console and the APIs",
		Long: "Serve hosted pages, the console and the APIs. --dev needs nothing installed: SQLite and a\n" +
			"secret key in the data dir, an in-process Redis and worker, and mail written to files.",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return r.w.Serve(c.Context(), r.cfg, r.env.Stdout, r.logger())
		},
	}
}
