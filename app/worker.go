package app

import (
	"context"
	"flag"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/config"
	"gatehouse/jobs"
)

// runWorker runs only the background worker; any number may run beside any
// number of `serve` nodes.
func runWorker(ctx context.Context, env *Env, args []string) int {
	var concurrency int
	cfg, _, ok := loadConfig(env, "worker", args, func(fs *flag.FlagSet) {
		fs.IntVar(&concurrency, "concurrency", 10, "tasks run at once")
	})
	if !ok {
		return exitUsage
	}
	if err := cfg.Validate(config.NeedDatabase, config.NeedRedis, config.NeedSecret); err != nil {
		return fail(env, fmt.Errorf("%w: %v", errUsage, err))
	}
	log := newLogger(cfg, env.Stderr)
	database, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return fail(env, err)
	}
	defer database.Close()
	rc, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		return fail(env, err)
	}
	defer rc.client.Close()
	deliverer, err := newDeliverer(cfg, log)
	if err != nil {
		return fail(env, fmt.Errorf("%w: %v", errUsage, err))
	}
	svc, err := newServices(cfg, log, database, rc, prometheus.NewRegistry())
	if err != nil {
		return fail(env, err)
	}
	defer svc.close()
	srv := jobs.NewServer(rc.asynq, jobs.ServerOptions{Concurrency: concurrency}, jobs.Handlers{Mail: deliverer, PasswordResets: svc.accounts, Imports: svc.imports, Campaigns: svc.campaigns, Backchannel: svc.oidc}, log)
	if err := srv.Start(); err != nil {
		return fail(env, err)
	}
	fmt.Fprintln(env.Stdout, "gatehouse: worker running (queues critical, default, bulk)")
	<-ctx.Done()
	log.Info("worker_shutting_down")
	srv.Shutdown()
	log.Info("worker_stopped")
	return exitOK
}
