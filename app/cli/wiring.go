package cli

import (
	"context"
	"io"
	"log/slog"

	"gatehouse/app/access"
	"gatehouse/app/db"
	"gatehouse/app/imports"
	"gatehouse/apperr"
	"gatehouse/config"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// Wiring is what the commands need from the composition root, package app,
// which implements it. Each method opens one thing a command runs on; the
// func it returns releases it.
type Wiring interface {
	// Serve runs the server (and with --dev its embedded stores and
	// worker) until ctx ends. Configuration errors wrap ErrUsage.
	Serve(ctx context.Context, cfg *config.Config, out io.Writer, log *slog.Logger) error
	// Worker runs the background worker until ctx ends.
	Worker(ctx context.Context, cfg *config.Config, out io.Writer, log *slog.Logger, concurrency int) error
	// Fallbacks lets an operator command run against a dev data dir with
	// no settings: its database, and a running dev server's Redis.
	Fallbacks(cfg *config.Config, getenv func(string) string, note io.Writer)
	// OpenDB opens the database; current refuses it with migrations pending.
	OpenDB(ctx context.Context, cfg *config.Config, log *slog.Logger, current bool) (*db.DB, error)
	// Publisher announces tenant changes to running servers over Redis,
	// or is nil (with a note) when none is reachable.
	Publisher(ctx context.Context, cfg *config.Config, log *slog.Logger, note io.Writer) (tenants.Publisher, func())
	// PolicyClock tells running servers that roles changed.
	PolicyClock(ctx context.Context, cfg *config.Config, note io.Writer) (access.Clock, func())
	// Queue enqueues jobs on the configured Redis.
	Queue(ctx context.Context, cfg *config.Config) (*jobs.Client, func(), error)
	// Imports is the import service of a CLI run with whatever runs its
	// steps; withCampaigns also sends campaign mail (`import work`).
	Imports(ctx context.Context, cfg *config.Config, log *slog.Logger, database *db.DB, note io.Writer, workers int, withCampaigns bool) (*ImportRunner, error)
}

// ImportRunner is the import service of a CLI run. Local is true when its
// steps run only in this process (no Redis), so nothing carries on a job
// this process stops following.
type ImportRunner struct {
	Service *imports.Service
	Local   bool
	Close   func()
}

// store is what a data command runs on: the database, opened and checked
// to be current, with the logger.
type store struct {
	db  *db.DB
	log *slog.Logger
}

// openStore validates the settings of a command on stored data and opens
// the database. Call close when done.
func (r *runner) openStore(ctx context.Context, needs ...config.Need) (*store, error) {
	r.w.Fallbacks(r.cfg, r.env.Getenv, r.env.Stderr)
	if err := r.cfg.Validate(append([]config.Need{config.NeedDatabase}, needs...)...); err != nil {
		return nil, Usage(err)
	}
	log := r.logger()
	database, err := r.w.OpenDB(ctx, r.cfg, log, true)
	if err != nil {
		return nil, err
	}
	return &store{db: database, log: log}, nil
}

func (s *store) close() { s.db.Close() }

// tenant finds the tenant named by a --tenant (or --slug) flag.
func (s *store) tenant(ctx context.Context, flagName, slug string) (*tenants.Tenant, error) {
	t, err := tenants.NewStore(s.db.Gorm).BySlug(ctx, slug)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.Field(flagName, "no tenant has the slug %q", slug)
		}
		return nil, err
	}
	return t, nil
}
