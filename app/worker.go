package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/app/cli"
	"gatehouse/config"
	"gatehouse/jobs"
)

// Worker runs only the background worker; any number may run beside any
// number of `serve` nodes.
func (w wiring) Worker(ctx context.Context, cfg *config.Config, out io.Writer, log *slog.Logger, concurrency int) error {
	database, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer database.Close()
	rc, err := openRedis(ctx, cfg.RedisURL, log)
	if err != nil {
		return err
	}
	defer rc.client.Close()
	deliverer, err := newDeliverer(cfg, log)
	if err != nil {
		return cli.Usage(err)
	}
	svc, err := newServicesWith(cfg, log, database, rc, prometheus.NewRegistry(), w.opts)
	if err != nil {
		return err
	}
	defer svc.close()
	srv := jobs.NewServer(rc.asynq, jobs.ServerOptions{Concurrency: concurrency}, jobs.Handlers{Mail: deliverer, PasswordResets: svc.accounts, Imports: svc.imports, Campaigns: svc.campaigns, Sweeper: svc.sweeps(), Webhooks: svc.webhooks, Backchannel: svc.oidc, Stats: svc.stats, StaffPasswordResets: svc.staffRecovery(nil), DB: database.Gorm}, log)
	if err := srv.Start(); err != nil {
		return err
	}
	// Every node relays the job outbox (see jobs.Relay).
	go svc.relay().Run(ctx)
	fmt.Fprintln(out, "gatehouse: worker running (queues critical, default, bulk)")
	<-ctx.Done()
	log.Info("worker_shutting_down")
	srv.Shutdown()
	log.Info("worker_stopped")
	return nil
}
