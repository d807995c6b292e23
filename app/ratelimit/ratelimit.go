// Package ratelimit throttles abuse through Redis, so every node sees the
// same counts: growing delays after repeated failures (logins), and plain
// fixed-window limits (resend buttons). Keys always carry the tenant.
package ratelimit

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"gatehouse/apperr"
)

// Limiter counts in Redis under prefix.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a limiter.
func New(rdb redis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix + "rl:"}
}

// Backoff is a growing-delay policy: Free failures within Window cost
// nothing; each one after that blocks for twice as long as the last, from
// one second up to MaxDelay. A stranger can slow an account down but never
// lock it for longer than MaxDelay past their last try.
type Backoff struct {
	Free     int
	Window   time.Duration
	MaxDelay time.Duration
}

// TooMany is the error for a throttled caller; RetryAfter says when to come
// back.
type TooMany struct {
	err        *apperr.Error
	RetryAfter time.Duration
}

func (t *TooMany) Error() string { return t.err.Error() }

func tooMany(d time.Duration) error {
	if d < time.Second {
		d = time.Second
	}
	return &TooMany{err: apperr.New(apperr.TooMany, "Too many attempts. Please wait a moment and try again."), RetryAfter: d}
}

// RetryAfterSeconds is the Retry-After header value, rounded up.
func (t *TooMany) RetryAfterSeconds() int {
	return int((t.RetryAfter + time.Second - 1) / time.Second)
}

// Unwrap lets apperr find the code.
func (t *TooMany) Unwrap() error { return t.err }

// Blocked returns a TooMany error while key is in a delay.
func (l *Limiter) Blocked(ctx context.Context, key string) error {
	ttl, err := l.rdb.PTTL(ctx, l.prefix+"block:"+key).Result()
	if err != nil {
		return apperr.Wrap(err, "rate limit")
	}
	if ttl > 0 {
		return tooMany(ttl)
	}
	return nil
}

// Fail counts one failure for key and, past the free ones, starts a delay.
// The window is fixed from the first failure, so a trickle of failures
// (one customer in a thousand mistyping) still runs out, instead of every
// failure keeping the count alive for another window.
func (l *Limiter) Fail(ctx context.Context, key string, b Backoff) error {
	n, _, err := l.count(ctx, l.prefix+"fail:"+key, b.Window)
	if err != nil {
		return err
	}
	over := n - b.Free
	if over <= 0 {
		return nil
	}
	delay := time.Duration(math.Min(float64(b.MaxDelay), float64(time.Second)*math.Pow(2, float64(over-1))))
	if err := l.rdb.Set(ctx, l.prefix+"block:"+key, 1, delay).Err(); err != nil {
		return apperr.Wrap(err, "rate limit")
	}
	return nil
}

// Reset forgets key's failures, after a success.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.rdb.Del(ctx, l.prefix+"fail:"+key, l.prefix+"block:"+key).Err(); err != nil {
		return apperr.Wrap(err, "rate limit")
	}
	return nil
}

// Allow counts one use of key in a fixed window and returns a TooMany
// error once limit uses are spent.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) error {
	n, ttl, err := l.Count(ctx, key, window)
	if err != nil {
		return err
	}
	if n > limit {
		return tooMany(ttl)
	}
	return nil
}

// Budget is one fixed-window budget: limit uses of Key per Window.
type Budget struct {
	Key    string
	Limit  int
	Window time.Duration
}

// AllowAll counts one use against each budget in one round trip to Redis
// (two when a window starts), and returns a TooMany error, with the
// longest wait, when any of them is spent. Every budget is counted even
// when an earlier one is spent, as separate Allow calls would be.
func (l *Limiter) AllowAll(ctx context.Context, budgets ...Budget) error {
	keys := make([]string, len(budgets))
	windows := make([]time.Duration, len(budgets))
	for i, b := range budgets {
		keys[i], windows[i] = l.prefix+"win:"+b.Key, b.Window
	}
	counts, ttls, err := l.countAll(ctx, keys, windows)
	if err != nil {
		return err
	}
	var wait time.Duration
	spent := false
	for i, b := range budgets {
		if counts[i] > b.Limit {
			spent, wait = true, max(wait, ttls[i])
		}
	}
	if spent {
		return tooMany(wait)
	}
	return nil
}

// Count adds one use of key in a fixed window and returns the count so
// far and the time left in the window. A caller that acts when the count
// reaches exactly some n acts once per window, on every node, because
// Redis hands out each count once.
func (l *Limiter) Count(ctx context.Context, key string, window time.Duration) (int, time.Duration, error) {
	return l.count(ctx, l.prefix+"win:"+key, window)
}

// Peek returns key's count in its current window without adding to it.
func (l *Limiter) Peek(ctx context.Context, key string) (int, error) {
	n, err := l.rdb.Get(ctx, l.prefix+"win:"+key).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, apperr.Wrap(err, "rate limit")
	}
	return n, nil
}

// count increments k, starting its expiry clock when the window is new.
func (l *Limiter) count(ctx context.Context, k string, window time.Duration) (int, time.Duration, error) {
	counts, ttls, err := l.countAll(ctx, []string{k}, []time.Duration{window})
	if err != nil {
		return 0, 0, err
	}
	return counts[0], ttls[0], nil
}

// countAll increments every key in one transaction, starting the expiry
// clock of each key whose window is new.
func (l *Limiter) countAll(ctx context.Context, keys []string, windows []time.Duration) ([]int, []time.Duration, error) {
	pipe := l.rdb.TxPipeline()
	incrs := make([]*redis.IntCmd, len(keys))
	pttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		incrs[i] = pipe.Incr(ctx, k)
		pttls[i] = pipe.PTTL(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, apperr.Wrap(err, "rate limit")
	}
	counts := make([]int, len(keys))
	ttls := make([]time.Duration, len(keys))
	var expire redis.Pipeliner
	for i, k := range keys {
		counts[i], ttls[i] = int(incrs[i].Val()), pttls[i].Val()
		if ttls[i] < 0 {
			// A new window (or one whose expiry was lost): start its clock.
			if expire == nil {
				expire = l.rdb.Pipeline()
			}
			expire.PExpire(ctx, k, windows[i])
			ttls[i] = windows[i]
		}
	}
	if expire != nil {
		if _, err := expire.Exec(ctx); err != nil {
			return nil, nil, apperr.Wrap(err, "rate limit")
		}
	}
	return counts, ttls, nil
}
