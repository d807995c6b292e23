package stats_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/app/stats"
	"gatehouse/jobs"
)

// TestRollupIsScheduled runs the real worker with its scheduler on Redis
// and waits for the periodic rollup to fold settled events of every
// tenant into the counters.
func TestRollupIsScheduled(t *testing.T) {
	w := setup(t)
	w.record(t, w.a, 1, 3, "customer.login", "ann@example.com", map[string]any{"method": "password"})
	w.record(t, w.b, 1, 2, "customer.signup", "bob@example.com", nil)
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	conn := asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB, Password: opt.Password}
	// An hour on, the events just written have settled.
	s := stats.New(w.d.Gorm, quiet).WithClock(func() time.Time { return time.Now().UTC().Add(time.Hour) })
	srv := jobs.NewServer(conn, jobs.ServerOptions{Concurrency: 1, ShutdownTimeout: time.Second, StatsEvery: time.Second},
		jobs.Handlers{Stats: s}, quiet)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	apptest.Eventually(t, 20*time.Second, func() error {
		if a, b := sumCounters(t, w, w.a), sumCounters(t, w, w.b); a != 3 || b != 2 {
			return fmt.Errorf("counters: acme %d, bravo %d", a, b)
		}
		return nil
	})
}
