package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gatehouse/app/access"
	"gatehouse/app/accounts"
	"gatehouse/app/audit"
	"gatehouse/app/cli"
	"gatehouse/app/db"
	"gatehouse/app/imports"
	"gatehouse/app/passwords"
	"gatehouse/app/tokens"
	"gatehouse/app/webhooks"
	"gatehouse/app/yield"
	"gatehouse/config"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// wiring is what the commands in app/cli run on: the parts that need this
// package's plumbing (Redis, the server, the worker). It holds nothing;
// every method opens what it returns. opts are the embedding program's.
type wiring struct{ opts Options }

var _ cli.Wiring = wiring{}

// Fallbacks lets an operator command run against a dev data dir.
func (wiring) Fallbacks(cfg *config.Config, getenv func(string) string, note io.Writer) {
	cliFallbacks(cfg, getenv, note)
}

// OpenDB opens the database, checked to be current when current is set.
func (wiring) OpenDB(ctx context.Context, cfg *config.Config, log *slog.Logger, current bool) (*db.DB, error) {
	if current {
		return openCurrentDB(ctx, cfg, log)
	}
	return openDB(ctx, cfg, log)
}

// Publisher returns a publisher on the configured Redis, or nil (with a
// note) when none is reachable: servers then see the change when their
// cache entry expires, within a minute.
func (wiring) Publisher(ctx context.Context, cfg *config.Config, log *slog.Logger, note io.Writer) (tenants.Publisher, func()) {
	if cfg.RedisURL == "" {
		return nil, func() {}
	}
	rc, err := openRedis(ctx, cfg.RedisURL, log)
	if err != nil {
		fmt.Fprintf(note, "gatehouse: note: %v; running servers will see this change within a minute\n", err)
		return nil, func() {}
	}
	return tenants.NewBus(rc.client, rc.tenantChannel(), log), func() { rc.client.Close() }
}

// PolicyClock is the shared policy clock in Redis when it is reachable, so
// running servers apply role changes at once; otherwise within 30 seconds.
func (wiring) PolicyClock(ctx context.Context, cfg *config.Config, note io.Writer) (access.Clock, func()) {
	if cfg.RedisURL == "" {
		return &access.LocalClock{}, func() {}
	}
	rc, err := openRedis(ctx, cfg.RedisURL, nil)
	if err != nil {
		fmt.Fprintf(note, "gatehouse: note: %v; running servers will see role changes within 30 seconds\n", err)
		return &access.LocalClock{}, func() {}
	}
	return policyClock(rc), func() { rc.client.Close() }
}

// Queue is a job client on the configured Redis.
func (wiring) Queue(ctx context.Context, cfg *config.Config) (*jobs.Client, func(), error) {
	rc, err := openRedis(ctx, cfg.RedisURL, nil)
	if err != nil {
		return nil, nil, err
	}
	queue := jobs.NewClient(rc.asynq)
	return queue, func() { queue.Close(); rc.client.Close() }, nil
}

// Imports is the import service of a CLI run, with whatever runs its
// steps: an asynq server on the bulk queue when Redis is configured (other
// workers then share the work), else a queue in this process. A dedicated
// worker (withCampaigns) also sends "set your password" campaign mail.
func (wiring) Imports(ctx context.Context, cfg *config.Config, log *slog.Logger, database *db.DB, note io.Writer, workers int, withCampaigns bool) (*cli.ImportRunner, error) {
	store, err := imports.NewStore(database.Gorm)
	if err != nil {
		return nil, err
	}
	svc := imports.NewService(imports.Deps{
		// The events only: import.completed goes into the outbox in the
		// job's own transaction, and the serving nodes deliver it.
		Store: store.WithEvents(webhooks.NewService(webhooks.Deps{DB: database.Gorm, Log: log})), Tenants: tenants.NewStore(database.Gorm), Audit: audit.NewRecorder(database.Gorm, log), Log: log, Window: workers,
	})
	if cfg.RedisURL == "" {
		qctx, cancel := context.WithCancel(ctx)
		local := imports.NewLocalQueue(qctx, svc, workers)
		svc.SetQueue(local)
		fmt.Fprintln(note, "gatehouse: GATEHOUSE_REDIS_URL is not set; the import runs in this process only")
		return &cli.ImportRunner{Service: svc, Local: true, Close: func() { cancel(); local.Wait() }}, nil
	}
	rc, err := openRedis(ctx, cfg.RedisURL, log)
	if err != nil {
		return nil, err
	}
	client, relay := importQueue(database, rc, log)
	svc.SetQueue(client)
	svc.SetPacer(yield.NewPacer(rc.client, yield.Key(rc.prefix), yield.Default, log))
	var campaigns jobs.CampaignWorker
	if withCampaigns {
		campaigns = importCampaigns(cfg, log, database, client)
	}
	srv, mux := jobs.ImportServer(rc.asynq, workers, svc, campaigns, log)
	if err := srv.Start(mux); err != nil {
		client.Close()
		rc.client.Close()
		return nil, err
	}
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	relayed := make(chan struct{})
	go func() { relay.Run(relayCtx); close(relayed) }()
	return &cli.ImportRunner{Service: svc, Close: func() {
		// The steps stop first, so what they wrote to the outbox is
		// relayed by this process or, if it stops first, by any other.
		srv.Shutdown()
		stopRelay()
		<-relayed
		client.Close()
		rc.client.Close()
	}}, nil
}

// importQueue is the job client of an import-only process, and the relay
// that moves what it writes to asynq. Like every serving node's and
// worker's, the client writes a job (a campaign's mail, its next tick) to
// the outbox in the transaction the job is about, so the job exists if
// and only if that commits, and no Redis round trip runs while the
// transaction holds SQLite's write lock. The import steps themselves go
// to asynq at once, under their ids (jobs.Client.EnqueueImport).
func importQueue(database *db.DB, rc *redisConn, log *slog.Logger) (*jobs.Client, *jobs.Relay) {
	relay := jobs.NewRelay(database.Gorm, rc.asynq, jobs.RelayOptions{}, log)
	return jobs.NewClient(rc.asynq).WithOutbox(database.Gorm, relay.Kick), relay
}

// importCampaigns sends the campaign mail of an import-only worker.
func importCampaigns(cfg *config.Config, log *slog.Logger, database *db.DB, queue *jobs.Client) *imports.Campaigns {
	return imports.NewCampaigns(imports.CampaignDeps{
		DB: database.Gorm, Tokens: tokens.NewStore(database.Gorm), Accounts: accounts.NewStore(database.Gorm),
		Hasher: passwords.NewHasher(passwords.Default, 0, 2*time.Second), Policy: passwords.NewPolicy(),
		Queue: queue, Tenants: tenants.NewStore(database.Gorm), MailFrom: cfg.MailFrom, Audit: audit.NewRecorder(database.Gorm, log),
		Links: func(t *tenants.Tenant, p string) string { return cfg.PublicURL(t.Host(cfg.BaseDomain)) + p },
	})
}
