package app

import (
	"context"
	"fmt"
	"text/tabwriter"

	"gatehouse/config"
)

// runMigrate applies (`up`) or lists (`status`) the embedded migrations.
func runMigrate(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		fmt.Fprintln(env.Stderr, "usage: gatehouse migrate up|status")
		return exitUsage
	}
	sub := args[0]
	cfg, _, ok := loadConfig(env, "migrate "+sub, args[1:], nil)
	if !ok {
		return exitUsage
	}
	cliFallbacks(cfg, env)
	if err := cfg.Validate(config.NeedDatabase); err != nil {
		return fail(env, fmt.Errorf("%w: %v", errUsage, err))
	}
	log := newLogger(cfg, env.Stderr)
	database, err := openDB(ctx, cfg, log)
	if err != nil {
		return fail(env, err)
	}
	defer database.Close()

	if sub == "up" {
		n, err := database.MigrateUp(ctx)
		if err != nil {
			return fail(env, err)
		}
		if n == 0 {
			fmt.Fprintln(env.Stdout, "gatehouse: the schema is up to date")
		} else {
			fmt.Fprintf(env.Stdout, "gatehouse: applied %d migration(s)\n", n)
		}
		return exitOK
	}

	p, err := database.Migrations()
	if err != nil {
		return fail(env, err)
	}
	statuses, err := p.Status(ctx)
	if err != nil {
		return fail(env, err)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tFILE")
	for _, s := range statuses {
		applied := "-"
		if !s.AppliedAt.IsZero() {
			applied = s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, applied, s.Source.Path)
	}
	w.Flush()
	return exitOK
}
