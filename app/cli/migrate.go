package cli

import (
	"context"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gatehouse/app/db"
	"gatehouse/config"
)

func (r *runner) migrateCmd() *cobra.Command {
	return r.groupCmd("migrate", "Apply or show database migrations", r.migrateUpCmd(), r.migrateStatusCmd())
}

// migrations opens the database without the schema check, which is what
// migrate is there to fix.
func (r *runner) migrations(ctx context.Context) (*db.DB, error) {
	r.w.Fallbacks(r.cfg, r.env.Getenv, r.env.Stderr)
	if err := r.cfg.Validate(config.NeedDatabase); err != nil {
		return nil, Usage(err)
	}
	return r.w.OpenDB(ctx, r.cfg, r.logger(), false)
}

func (r *runner) migrateUpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "up",
		Short: "Apply the pending migrations",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			database, err := r.migrations(c.Context())
			if err != nil {
				return err
			}
			defer database.Close()
			n, err := database.MigrateUp(c.Context())
			if err != nil {
				return err
			}
			if n == 0 {
				r.printf("gatehouse: the schema is up to date\n")
			} else {
				r.printf("gatehouse: applied %d migration(s)\n", n)
			}
			return nil
		},
	}
}

func (r *runner) migrateStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "List the migrations and whether each is applied",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			database, err := r.migrations(c.Context())
			if err != nil {
				return err
			}
			defer database.Close()
			p, err := database.Migrations()
			if err != nil {
				return err
			}
			statuses, err := p.Status(c.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
			r.fprintf(w, "VERSION\tSTATE\tAPPLIED AT\tFILE\n")
			for _, s := range statuses {
				applied := "-"
				if !s.AppliedAt.IsZero() {
					applied = s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
				}
				r.fprintf(w, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, applied, s.Source.Path)
			}
			return w.Flush()
		},
	}
}
