package ratelimit_test

import (
	"context"
	"testing"
	"time"

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
	return ratelimit.New(rdb, "test:")
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

// TestAllowAll: several budgets counted in one round trip behave as
// separate Allow calls: each is counted every time, the smallest one
// refuses first, and the other keeps its own count.
func TestAllowAll(t *testing.T) {
	ctx := context.Background()
	l := limiter(t)
	small := ratelimit.Budget{Key: "all:ip:x", Limit: 2, Window: time.Hour}
	large := ratelimit.Budget{Key: "all:client:x", Limit: 5, Window: time.Minute}
	for i := 0; i < 2; i++ {
		if err := l.AllowAll(ctx, small, large); err != nil {
			t.Fatalf("use %d refused: %v", i+1, err)
		}
	}
	err := l.AllowAll(ctx, small, large)
	var tm *ratelimit.TooMany
	if !asTooMany(err, &tm) || tm.RetryAfterSeconds() <= 60 {
		t.Fatalf("third use: %v, want TooMany with the small budget's hour-long wait", err)
	}
	if n, err := l.Peek(ctx, large.Key); err != nil || n != 3 {
		t.Fatalf("large budget counted %d (%v), want 3", n, err)
	}
	for i := 4; i <= 5; i++ {
		if err := l.Allow(ctx, large.Key, 5, time.Minute); err != nil {
			t.Fatalf("large budget alone, use %d: %v", i, err)
		}
	}
	if err := l.AllowAll(ctx, large); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("large budget past its limit: %v", err)
	}
}
