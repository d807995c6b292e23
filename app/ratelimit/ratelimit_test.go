package ratelimit_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/app/ratelimit"
	"gatehouse/apperr"
)

func limiter(t *testing.T) *ratelimit.Limiter {
	t.Helper()
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return ratelimit.New(rdb, "test:", nil)
}

func TestBackoff(t *testing.T) {
	ctx := context.Background()
	l := limiter(t)
	b := ratelimit.Backoff{Free: 3, Window: time.Minute, MaxDelay: 4 * time.Second}
	for i := 0; i < 3; i++ {
		if err := l.Fail(ctx, "acme:ann", b); err != nil {
			t.Fatal(err)
		}
		if err := l.Blocked(ctx, "acme:ann"); err != nil {
			t.Fatalf("blocked after %d free failures: %v", i+1, err)
		}
	}
	delays := []int{1, 2, 4, 4} // doubling, capped
	for _, want := range delays {
		_ = l.Fail(ctx, "acme:ann", b)
		err := l.Blocked(ctx, "acme:ann")
		var tm *ratelimit.TooMany
		if !apperr.Is(err, apperr.TooMany) || !asTooMany(err, &tm) || tm.RetryAfterSeconds() != want {
			t.Fatalf("want a %ds delay, got %v", want, err)
		}
	}
	t.Run("other key", func(t *testing.T) {
		if err := l.Blocked(ctx, "bravo:ann"); err != nil {
			t.Fatalf("another tenant's key is blocked: %v", err)
		}
	})
	if err := l.Reset(ctx, "acme:ann"); err != nil {
		t.Fatal(err)
	}
	if err := l.Blocked(ctx, "acme:ann"); err != nil {
		t.Fatalf("still blocked after a success: %v", err)
	}
}

func TestAllow(t *testing.T) {
	ctx := context.Background()
	l := limiter(t)
	for i := 0; i < 3; i++ {
		if err := l.Allow(ctx, "resend:x", 3, time.Hour); err != nil {
			t.Fatalf("use %d refused: %v", i+1, err)
		}
	}
	if err := l.Allow(ctx, "resend:x", 3, time.Hour); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("fourth use: %v", err)
	}
}

func asTooMany(err error, out **ratelimit.TooMany) bool {
	tm, ok := err.(*ratelimit.TooMany)
	*out = tm
	return ok
}

// TestCountOncePerWindow: Count hands each number out once, so "act when
// the count reaches n" acts once per window; Peek reads without counting.
func TestCountOncePerWindow(t *testing.T) {
	ctx := context.Background()
	l := limiter(t)
	hits := 0
	for i := 0; i < 30; i++ {
		n, ttl, err := l.Count(ctx, "acme:all:ann", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > time.Hour {
			t.Fatalf("ttl %v", ttl)
		}
		if n == 20 {
			hits++
		}
	}
	if hits != 1 {
		t.Fatalf("reached 20 %d times", hits)
	}
	if n, err := l.Peek(ctx, "acme:all:ann"); err != nil || n != 30 {
		t.Fatalf("peek = %d, %v", n, err)
	}
	if n, err := l.Peek(ctx, "bravo:all:ann"); err != nil || n != 0 {
		t.Fatalf("another tenant's count = %d, %v", n, err)
	}
}

// TestRedisAwayCountsInMemory: with Redis unreachable the limiter applies
// the same rules in the node's memory (a stranger is still slowed down),
// says it is degraded, and goes back to Redis once it answers again.
func TestRedisAwayCountsInMemory(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	var logs strings.Builder
	l := ratelimit.New(rdb, "test:", slog.New(slog.NewTextHandler(&logs, nil)))

	b := ratelimit.Backoff{Free: 2, Window: time.Minute, MaxDelay: time.Minute}
	for i := 0; i < 3; i++ {
		if err := l.Fail(ctx, "acme:ann", b); err != nil {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	var tm *ratelimit.TooMany
	if err := l.Blocked(ctx, "acme:ann"); !asTooMany(err, &tm) {
		t.Fatalf("not blocked after 3 failures with 2 free, Redis away: %v", err)
	}
	if err := l.Blocked(ctx, "acme:bob"); err != nil {
		t.Fatalf("another key is blocked: %v", err)
	}
	if err := l.Allow(ctx, "resend", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := l.Allow(ctx, "resend", 1, time.Minute); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("second use allowed: %v", err)
	}
	if !l.Degraded() || strings.Count(logs.String(), "ratelimit_degraded") != 1 {
		t.Fatalf("degraded=%v; logs:\n%s", l.Degraded(), logs.String())
	}

	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(addr); err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	t.Cleanup(m.Close)
	apptest.Eventually(t, 5*time.Second, func() error {
		if err := l.Blocked(ctx, "acme:ann"); err != nil || l.Degraded() {
			return fmt.Errorf("still degraded (%v)", err)
		}
		return nil
	})
	if err := l.Fail(ctx, "acme:carl", b); err != nil || !m.Exists("test:rl:fail:acme:carl") {
		t.Fatalf("counts do not reach Redis again: %v", err)
	}
	if strings.Count(logs.String(), "ratelimit_recovered") != 1 {
		t.Fatalf("logs:\n%s", logs.String())
	}
}
