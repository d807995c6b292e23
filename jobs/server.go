package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// Handlers are what the worker runs, wired by app.
type Handlers struct {
	Mail           MailDeliverer
	PasswordResets PasswordResets
	Imports        ImportWorker
	Campaigns      CampaignWorker
	// Sweeper, when set, is run every ServerOptions.SweepEvery by the
	// worker's scheduler.
	Sweeper     Sweeper
	Webhooks    WebhookDeliverer
	Backchannel BackchannelLogouts
	// Stats, when set, folds the audit events of every tenant into the
	// console overview's counters every ServerOptions.StatsEvery.
	Stats StatsRollup
}

// StatsRollup keeps the console overview's counters (stats.Store).
type StatsRollup interface {
	RollupAll(ctx context.Context) error
}

// TypeStatsRollup is the periodic rollup of audit events into the console
// overview's counters. A platform task with no payload: the handler goes
// through the tenants one by one.
const TypeStatsRollup = "stats:rollup"

// DefaultStatsEvery is how often the overview's counters catch up; a page
// view reads what is younger itself.
const DefaultStatsEvery = time.Minute

// ServerOptions tune the worker.
type ServerOptions struct {
	Concurrency     int           // tasks at once (default 10)
	ShutdownTimeout time.Duration // how long in-flight tasks get to finish before they are handed back (default 10s)
	SweepEvery      time.Duration // how often the OpenID Provider's expired rows are swept (default 1h)
	StatsEvery      time.Duration // how often the overview's counters are rolled up (default 1m)
}

// DefaultSweepEvery is how often the sweep runs: expired rows are harmless
// (every lookup checks expiry), so this only bounds the tables' growth.
const DefaultSweepEvery = time.Hour

// Server runs task handlers. On Shutdown, tasks still running after the
// timeout are handed back to the queue for another worker.
type Server struct {
	srv      *asynq.Server
	mux      *asynq.ServeMux
	sched    *asynq.Scheduler // nil without periodic tasks
	schedErr error            // a periodic task that could not be registered, reported by Start
	log      *slog.Logger
}

// NewServer returns a worker on the given Redis connection.
func NewServer(opt asynq.RedisConnOpt, o ServerOptions, h Handlers, log *slog.Logger) *Server {
	if o.Concurrency <= 0 {
		o.Concurrency = 10
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	s := &Server{log: log, mux: asynq.NewServeMux()}
	s.srv = asynq.NewServer(opt, asynq.Config{
		Concurrency:     o.Concurrency,
		Queues:          map[string]int{QueueCritical: 6, QueueDefault: 3, QueueBulk: 1},
		ShutdownTimeout: o.ShutdownTimeout,
		Logger:          asynqLogger{log},
		// Import steps come back fast after a worker dies; everything else
		// keeps asynq's exponential backoff.
		RetryDelayFunc: ImportRetryDelay,
		LogLevel:       asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			log.Warn("task_failed", "task_type", t.Type(), "retry", retried, "max_retry", maxRetry, "error", err)
		}),
	})
	if h.Mail != nil {
		s.mux.HandleFunc(TypeSendMail, mailHandler(h.Mail))
	}
	if h.Imports != nil || h.Campaigns != nil {
		RegisterImports(s.mux, h.Imports, h.Campaigns)
	}
	if h.Sweeper != nil {
		s.mux.HandleFunc(TypeOIDCSweep, func(ctx context.Context, _ *asynq.Task) error {
			return h.Sweeper.SweepExpired(ctx)
		})
		s.sched, s.schedErr = newSweepScheduler(opt, o, log)
	}
	if h.Stats != nil && s.schedErr == nil {
		s.mux.HandleFunc(TypeStatsRollup, func(ctx context.Context, _ *asynq.Task) error {
			return h.Stats.RollupAll(ctx)
		})
		if s.sched == nil {
			s.sched = asynq.NewScheduler(opt, &asynq.SchedulerOpts{Logger: asynqLogger{log}, LogLevel: asynq.WarnLevel})
		}
		s.schedErr = schedule(s.sched, TypeStatsRollup, o.StatsEvery, DefaultStatsEvery, 5*time.Minute)
	}
	if h.Webhooks != nil {
		s.mux.HandleFunc(TypeWebhookDeliver, webhookHandler(h.Webhooks))
	}
	if h.Backchannel != nil {
		s.mux.HandleFunc(TypeBackchannelLogout, func(ctx context.Context, t *asynq.Task) error {
			var p BackchannelLogout
			if err := json.Unmarshal(t.Payload(), &p); err != nil {
				return Permanent(fmt.Errorf("decode back-channel logout payload: %w", err))
			}
			return h.Backchannel.SendBackchannelLogout(ctx, p)
		})
	}
	if h.PasswordResets != nil {
		s.mux.HandleFunc(TypeForgotPassword, func(ctx context.Context, t *asynq.Task) error {
			var p ForgotPassword
			if err := json.Unmarshal(t.Payload(), &p); err != nil {
				return Permanent(fmt.Errorf("decode forgot-password payload: %w", err))
			}
			return h.PasswordResets.SendPasswordReset(ctx, p)
		})
	}
	return s
}

// newSweepScheduler enqueues the sweep every o.SweepEvery. Every worker
// process runs a scheduler, so the task is unique for most of a period:
// however many workers there are, one sweep is queued per period.
func newSweepScheduler(opt asynq.RedisConnOpt, o ServerOptions, log *slog.Logger) (*asynq.Scheduler, error) {
	every := o.SweepEvery
	if every <= 0 {
		every = DefaultSweepEvery
	}
	sched := asynq.NewScheduler(opt, &asynq.SchedulerOpts{Logger: asynqLogger{log}, LogLevel: asynq.WarnLevel})
	if err := schedule(sched, TypeOIDCSweep, every, DefaultSweepEvery, 10*time.Minute); err != nil {
		return nil, err
	}
	return sched, nil
}

// schedule registers a payload-less platform task every every (def when
// unset), unique for most of a period, so however many workers schedule
// it one run is queued per period.
func schedule(sched *asynq.Scheduler, typ string, every, def, timeout time.Duration) error {
	if every <= 0 {
		every = def
	}
	unique := every * 9 / 10
	if unique < time.Second {
		unique = time.Second
	}
	if _, err := sched.Register(fmt.Sprintf("@every %s", every), asynq.NewTask(typ, nil),
		asynq.Queue(QueueDefault), asynq.Unique(unique), asynq.MaxRetry(3), asynq.Timeout(timeout)); err != nil {
		return fmt.Errorf("jobs: schedule %s every %s: %w", typ, every, err)
	}
	return nil
}

// Start begins processing, and scheduling periodic tasks, in the
// background.
func (s *Server) Start() error {
	if s.schedErr != nil {
		return s.schedErr
	}
	if err := s.srv.Start(s.mux); err != nil {
		return fmt.Errorf("jobs: start worker: %w", err)
	}
	if s.sched != nil {
		if err := s.sched.Start(); err != nil {
			s.srv.Shutdown()
			return fmt.Errorf("jobs: start scheduler: %w", err)
		}
	}
	return nil
}

// Shutdown stops scheduling and taking tasks, waits for running ones up to
// the timeout and hands the rest back.
func (s *Server) Shutdown() {
	if s.sched != nil {
		s.sched.Shutdown()
	}
	s.srv.Shutdown()
}

func mailHandler(d MailDeliverer) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var m SendMail
		if err := json.Unmarshal(t.Payload(), &m); err != nil {
			return Permanent(fmt.Errorf("decode mail payload: %w", err))
		}
		if err := d.DeliverMail(ctx, m); err != nil {
			return err
		}
		return nil
	}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool { return errors.Is(err, asynq.SkipRetry) }

// asynqLogger sends asynq's own log lines to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
