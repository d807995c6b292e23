package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"gatehouse/app/cli"
	"gatehouse/app/db"
	"gatehouse/app/devshop"
	"gatehouse/app/mail"
	"gatehouse/app/yield"
	"gatehouse/apperr"
	"gatehouse/config"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// demoSlug is the tenant `serve --dev` seeds, so a first run has something
// to click.
const demoSlug = "demo"

// Serve runs `gatehouse serve`: with --dev it fills the embedded defaults
// first, and without it every production setting must be present.
func (w wiring) Serve(ctx context.Context, cfg *config.Config, out io.Writer, log *slog.Logger) error {
	if cfg.Dev {
		if err := prepareDev(cfg, log); err != nil {
			return err
		}
	}
	if err := cfg.Validate(config.NeedDatabase, config.NeedSecret); err != nil {
		return cli.Usage(err)
	}
	if !cfg.Dev {
		if err := cfg.Validate(config.NeedRedis); err != nil {
			return cli.Usage(err)
		}
	}
	return serve(ctx, cfg, out, log, w.opts)
}

// serve wires the whole server and runs it until ctx ends.
func serve(ctx context.Context, cfg *config.Config, out io.Writer, log *slog.Logger, opts Options) error {
	database, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer database.Close()
	if cfg.Dev {
		if _, err := database.MigrateUp(ctx); err != nil {
			return err
		}
	} else if err := database.CheckSchema(ctx); err != nil {
		return err
	}

	var dev *devRedis
	if cfg.Dev && cfg.RedisURL == "" {
		if dev, err = startDevRedis(cfg.DataDir); err != nil {
			return err
		}
		defer dev.Close()
		cfg.RedisURL = dev.URL()
	}
	rc, err := openRedis(ctx, cfg.RedisURL, log)
	if err != nil {
		return err
	}
	defer rc.client.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerPoolGauges(reg, database, rc)
	svc, err := newServicesWith(cfg, log, database, rc, reg, opts)
	if err != nil {
		return err
	}
	defer svc.close()
	// Import workers give way while sign-ins keep the hashers busy.
	pressureCtx, stopPressure := context.WithCancel(ctx)
	defer stopPressure()
	go yield.NewPublisher(rc.client, yield.Key(rc.prefix), svc.hasher.Occupancy, 0, log).Run(pressureCtx)

	var worker *jobs.Server
	var demo *tenants.Tenant
	var consoleLogin bytes.Buffer
	if cfg.Dev {
		if demo, err = seedDemo(ctx, svc.tenants); err != nil {
			return err
		}
		svc.shop = devshop.New() // configured once the port is known
		// The one-time console login is printed after the banner, so the
		// shop's URL is the first thing a newcomer reads.
		if err := seedConsole(ctx, svc, &consoleLogin); err != nil {
			return err
		}
		deliverer, err := newDeliverer(cfg, log)
		if err != nil {
			return err
		}
		worker = jobs.NewServer(rc.asynq, jobs.ServerOptions{Concurrency: 4}, jobs.Handlers{Mail: deliverer, PasswordResets: svc.accounts, Imports: svc.imports, Campaigns: svc.campaigns, Sweeper: svc.sweeps(), Webhooks: svc.webhooks, Backchannel: svc.oidc, Stats: svc.stats, StaffPasswordResets: svc.staffRecovery(nil), DB: database.Gorm}, log)
		if err := worker.Start(); err != nil {
			return err
		}
	}

	handler, err := newHandler(svc)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("GATEHOUSE_ADDR: cannot listen on %s: %v", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	var metricsSrv *http.Server
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("GATEHOUSE_METRICS_ADDR: cannot listen on %s: %v", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}

	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && (cfg.PublicPort == "auto" || cfg.Dev && cfg.PublicPort == "") {
		cfg.PublicPort = fmt.Sprint(tcp.Port)
	}
	// Before the port file: once it exists, the server is up (tools and tests wait for it).
	if svc.shop != nil {
		shopCfg, err := seedShop(ctx, cfg, svc.tenants, svc.apps, demo)
		if err != nil {
			ln.Close()
			if metricsLn != nil {
				metricsLn.Close()
			}
			return err
		}
		svc.shop.Configure(shopCfg)
	}
	if cfg.Dev {
		portFile := filepath.Join(cfg.DataDir, devPortFile)
		if err := os.WriteFile(portFile, []byte(cfg.PublicPort+"\n"), 0o600); err == nil {
			defer os.Remove(portFile)
		}
	}
	printBanner(out, cfg, ln.Addr(), metricsLn)
	_, _ = consoleLogin.WriteTo(out)

	// The known hosts, so that an unknown Host costs no query; the bus
	// keeps them current and reloads them whenever it resubscribes.
	if err := svc.resolver.LoadHosts(ctx); err != nil {
		log.Warn("tenant_hosts_load_failed", "error", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if metricsSrv != nil {
		g.Go(func() error {
			if err := metricsSrv.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	listenCtx, stopListening := context.WithCancel(context.Background())
	defer stopListening()
	go svc.bus.Listen(listenCtx, svc.resolver)
	go svc.resolver.KeepHostsCurrent(listenCtx, time.Minute, log)
	go svc.relay().Run(listenCtx)

	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting_down")
		// In-flight requests get up to 20 seconds to finish; new ones are refused.
		shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := srv.Shutdown(shutCtx)
		if metricsSrv != nil {
			_ = metricsSrv.Shutdown(shutCtx)
		}
		if worker != nil {
			worker.Shutdown()
		}
		return err
	})
	err = g.Wait()
	log.Info("stopped")
	return err
}

// newDeliverer picks how the worker sends mail: SMTP when configured, else
// files in the outbox folder of the data dir.
func newDeliverer(cfg *config.Config, log *slog.Logger) (jobs.MailDeliverer, error) {
	if cfg.SMTPURL != "" {
		smtp, err := mail.NewSMTP(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		return smtp, nil
	}
	if !cfg.Dev {
		log.Warn("smtp_not_configured", "detail", "GATEHOUSE_SMTP_URL is not set; mail is written to the outbox folder instead of being sent")
	}
	return mail.NewOutbox(outboxDir(cfg)), nil
}

func outboxDir(cfg *config.Config) string { return cfg.DataDir + "/outbox" }

// seedDemo makes sure the demo tenant exists, with a few registration
// fields that show each capture mode.
func seedDemo(ctx context.Context, svc *tenants.Service) (*tenants.Tenant, error) {
	t, err := svc.BySlug(ctx, demoSlug)
	if err == nil {
		return t, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	if t, err = svc.Create(ctx, tenants.NewTenant{Slug: demoSlug, Name: "Demo Coffee Co."}); err != nil {
		return nil, err
	}
	return svc.SaveFields(ctx, t.ID, []tenants.Field{
		{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired, Validation: tenants.Validation{MaxLength: 60}},
		{Key: "favourite_drink", Label: "Favourite drink", Type: tenants.TypeSelect, Capture: tenants.CaptureOptional,
			HelpText: "So we can suggest something you will like.",
			Options:  []tenants.Option{{Value: "espresso", Label: "Espresso"}, {Value: "flat_white", Label: "Flat white"}, {Value: "filter", Label: "Filter coffee"}, {Value: "tea", Label: "Tea"}}},
		{Key: "birthday", Label: "Birthday", Type: tenants.TypeDate, Capture: tenants.CaptureLater, HelpText: "We send a treat on your birthday."},
	})
}

// printBanner tells a person what to open. The first line is also what the
// test harness waits for.
func printBanner(out io.Writer, cfg *config.Config, addr net.Addr, metrics net.Listener) {
	if cfg.Dev {
		fmt.Fprintf(out, "Demo Coffee Shop, a brand's app signing in with Gatehouse (start here): %s/\n", cfg.PublicURL(devshop.Host+"."+cfg.BaseDomain))
	}
	fmt.Fprintf(out, "gatehouse: listening on http://%s\n", addr.String())
	if metrics != nil {
		fmt.Fprintf(out, "gatehouse: metrics on http://%s/metrics\n", metrics.Addr().String())
	}
	if !cfg.Dev {
		return
	}
	base := cfg.PublicURL
	fmt.Fprintln(out)
	fmt.Fprintln(out, "  Gatehouse is running in development mode.")
	fmt.Fprintf(out, "  Demo Coffee Shop:         %s/\n", base(devshop.Host+"."+cfg.BaseDomain))
	fmt.Fprintf(out, "  Demo brand's login page:  %s/login\n", base(demoSlug+"."+cfg.BaseDomain))
	fmt.Fprintf(out, "  Admin console:            %s/\n", base("console."+cfg.BaseDomain))
	fmt.Fprintf(out, "  Health:                   %s/healthz\n", base(demoSlug+"."+cfg.BaseDomain))
	fmt.Fprintf(out, "  Data (database, key, mail outbox): %s\n", cfg.DataDir)
	fmt.Fprintln(out, "  Add a brand:  go run . tenant create --slug acme --name \"Acme Coffee\"")
	fmt.Fprintln(out)
}

// registerPoolGauges puts the database's and Redis's connection pools on
// /metrics: how many connections each holds, and how many are in use, so
// an operator sees a pool run dry, and the soak tells a pool's regrowth
// after a fault from a leak.
func registerPoolGauges(reg prometheus.Registerer, database *db.DB, rc *redisConn) {
	gauge := func(name, help string, f func() float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(
		gauge("gatehouse_db_open_connections", "Connections the database pool holds, in use or idle.",
			func() float64 { return float64(database.Stats().OpenConnections) }),
		gauge("gatehouse_db_in_use_connections", "Database connections in use.",
			func() float64 { return float64(database.Stats().InUse) }),
		gauge("gatehouse_redis_open_connections", "Connections the Redis pool holds, in use or idle.",
			func() float64 { return float64(rc.client.PoolStats().TotalConns) }),
		gauge("gatehouse_redis_idle_connections", "Idle connections in the Redis pool.",
			func() float64 { return float64(rc.client.PoolStats().IdleConns) }),
	)
}
