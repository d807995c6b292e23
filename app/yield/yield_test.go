package yield_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/app/yield"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestControllerDelay(t *testing.T) {
	t.Parallel()
	c := yield.Controller{Low: 0.2, High: 0.7, Floor: 10000}
	// 5,000 units at the floor take 500 ms; the chunk itself took 100 ms.
	const units, worked = 5000, 100 * time.Millisecond
	for _, tc := range []struct {
		name     string
		pressure float64
		worked   time.Duration
		want     time.Duration
	}{
		{"idle", 0, worked, 0},
		{"below low", 0.2, worked, 0},
		{"halfway", 0.45, worked, 200 * time.Millisecond},
		{"at high: the floor", 0.7, worked, 400 * time.Millisecond},
		{"above high: still the floor", 1, worked, 400 * time.Millisecond},
		{"chunk already slower than the floor", 1, 600 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Delay(tc.pressure, units, tc.worked); got != tc.want {
				t.Fatalf("Delay(%v, %d, %v) = %v, want %v", tc.pressure, units, tc.worked, got, tc.want)
			}
		})
	}
	t.Run("never below the floor", func(t *testing.T) {
		for p := 0.0; p <= 1.5; p += 0.05 {
			for _, w := range []time.Duration{0, time.Millisecond, 250 * time.Millisecond, time.Second} {
				d := c.Delay(p, units, w)
				if d < 0 {
					t.Fatalf("negative delay %v", d)
				}
				if w < 500*time.Millisecond && units/(w+d).Seconds() < c.Floor*0.999 {
					t.Fatalf("pressure %v, worked %v: delay %v brings the rate to %.0f/s, under the floor", p, w, d, units/(w+d).Seconds())
				}
			}
		}
	})
	t.Run("no floor, no work", func(t *testing.T) {
		if d := (yield.Controller{Low: 0.2, High: 0.7}).Delay(1, units, 0); d != 0 {
			t.Fatalf("a controller without a floor waited %v", d)
		}
		if d := c.Delay(1, 0, 0); d != 0 {
			t.Fatalf("an empty chunk waited %v", d)
		}
	})
}

func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// The busiest node sets the figure, and a figure nobody renews expires:
// a worker then sees no pressure.
func TestPressureIsTheBusiestNodesAndExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redisClient(t)
	key := yield.Key("gatehouse:test:")
	pacer := yield.NewPacer(rdb, key, yield.Default, quiet)
	if p := pacer.Pressure(ctx); p != 0 {
		t.Fatalf("nothing published, pressure %v", p)
	}
	busy := yield.NewPublisher(rdb, key, nil, 50*time.Millisecond, quiet)
	calm := yield.NewPublisher(rdb, key, nil, 50*time.Millisecond, quiet)
	for _, step := range []struct {
		pub *yield.Publisher
		v   float64
	}{{calm, 0.3}, {busy, 0.9}, {calm, 0.3}} {
		if err := step.pub.Publish(ctx, step.v); err != nil {
			t.Fatal(err)
		}
	}
	if p := pacer.Pressure(ctx); p != 0.9 {
		t.Fatalf("pressure %v, want the busiest node's 0.9", p)
	}
	apptest.Eventually(t, 5*time.Second, func() error {
		if p := pacer.Pressure(ctx); p != 0 {
			return errors.New("the figure has not expired")
		}
		return nil
	})
}

// A running publisher publishes its sampled occupancy, and nothing when
// the node is idle.
func TestPublisherPublishesTheSampledOccupancy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rdb := redisClient(t)
	key := yield.Key("gatehouse:test:")
	occupancy := make(chan float64, 1)
	occupancy <- 0
	sample := func() float64 {
		v := <-occupancy
		occupancy <- v
		return v
	}
	go yield.NewPublisher(rdb, key, sample, 20*time.Millisecond, quiet).Run(ctx)
	pacer := yield.NewPacer(rdb, key, yield.Default, quiet)
	// Idle: ten periods of publishing nothing.
	time.Sleep(200 * time.Millisecond)
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("an idle node published (%d, %v)", n, err)
	}
	<-occupancy
	occupancy <- 1
	apptest.Eventually(t, 5*time.Second, func() error {
		if p := pacer.Pressure(ctx); p != 1 {
			return errors.New("the busy node's figure has not arrived")
		}
		return nil
	})
}

// While Redis is down a busy node fails to publish every window; it logs
// that once, not once a window, and says when publishing works again.
func TestPublisherLogsAnOutageOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	logs := apptest.NewOutput()
	log := slog.New(slog.NewJSONHandler(logs, nil))
	busy := func() float64 { return 1 }
	go yield.NewPublisher(rdb, yield.Key("gatehouse:test:"), busy, 20*time.Millisecond, log).Run(ctx)
	apptest.Eventually(t, 5*time.Second, func() error {
		if !m.Exists(yield.Key("gatehouse:test:")) {
			return errors.New("nothing published yet")
		}
		return nil
	})
	m.Close()
	time.Sleep(500 * time.Millisecond) // about 25 windows
	if n := logs.Count(`"msg":"pressure_publish_failed"`); n != 1 {
		t.Fatalf("%d pressure_publish_failed lines over 25 failed windows, want 1:\n%s", n, logs.String())
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 5*time.Second, func() error {
		if logs.Count(`"msg":"pressure_publish_recovered"`) != 1 {
			return errors.New("not recovered yet")
		}
		return nil
	})
}
