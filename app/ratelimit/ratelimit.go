// Package ratelimit throttles abuse through Redis, so every node sees the
// same counts: growing delays after repeated failures (logins), and plain
// fixed-window limits (resend buttons). Keys always carry the tenant.
//
// While Redis cannot be reached the limiter counts in this node's memory
// with the same rules (memory.go), so password login keeps working and
// stays throttled; each node then counts on its own until Redis returns.
package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"gatehouse/apperr"
)

// Limiter counts in Redis under prefix, or in memory while Redis is away.
type Limiter struct {
	redis  counters
	prefix string
	health *fallback
}

// New returns a limiter. Its degraded and recovered lines go to log.
func New(rdb redis.UniversalClient, prefix string, log *slog.Logger) *Limiter {
	return &Limiter{redis: redisCounters{rdb}, prefix: prefix + "rl:", health: newFallback(log)}
}

// Degraded reports whether the limiter is counting in memory because
// Redis could not be reached.
func (l *Limiter) Degraded() bool { return l.health.degraded() }

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
	var ttl time.Duration
	err := l.do(ctx, func(c counters) (err error) {
		ttl, err = c.pttl(ctx, l.prefix+"block:"+key)
		return err
	})
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
	if err := l.do(ctx, func(c counters) error { return c.set(ctx, l.prefix+"block:"+key, delay) }); err != nil {
		return apperr.Wrap(err, "rate limit")
	}
	return nil
}

// Reset forgets key's failures, after a success.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.do(ctx, func(c counters) error { return c.del(ctx, l.prefix+"fail:"+key, l.prefix+"block:"+key) }); err != nil {
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

// Count adds one use of key in a fixed window and returns the count so
// far and the time left in the window. A caller that acts when the count
// reaches exactly some n acts once per window, on every node, because
// Redis hands out each count once.
func (l *Limiter) Count(ctx context.Context, key string, window time.Duration) (int, time.Duration, error) {
	return l.count(ctx, l.prefix+"win:"+key, window)
}

// Peek returns key's count in its current window without adding to it.
func (l *Limiter) Peek(ctx context.Context, key string) (int, error) {
	var n int
	err := l.do(ctx, func(c counters) (err error) {
		n, err = c.get(ctx, l.prefix+"win:"+key)
		return err
	})
	if err != nil {
		return 0, apperr.Wrap(err, "rate limit")
	}
	return n, nil
}

// count increments k, starting its expiry clock when the window is new.
func (l *Limiter) count(ctx context.Context, k string, window time.Duration) (int, time.Duration, error) {
	var n int
	var ttl time.Duration
	err := l.do(ctx, func(c counters) (err error) {
		n, ttl, err = c.incr(ctx, k, window)
		return err
	})
	if err != nil {
		return 0, 0, apperr.Wrap(err, "rate limit")
	}
	return n, ttl, nil
}

// do runs op on Redis, or on this node's memory while Redis is away.
func (l *Limiter) do(ctx context.Context, op func(counters) error) error {
	if l.health.tryRedis() {
		err := op(l.redis)
		if err == nil || ctx.Err() != nil {
			l.health.ok()
			return err
		}
		l.health.failed(err)
	}
	return op(l.health.mem)
}

// counters are the few operations the rules need, on Redis or in memory.
type counters interface {
	// incr adds one to k and returns the count and the time left in its
	// window, starting the window at the first count.
	incr(ctx context.Context, k string, window time.Duration) (int, time.Duration, error)
	pttl(ctx context.Context, k string) (time.Duration, error)
	set(ctx context.Context, k string, ttl time.Duration) error
	del(ctx context.Context, keys ...string) error
	get(ctx context.Context, k string) (int, error)
}

type redisCounters struct{ rdb redis.UniversalClient }

func (r redisCounters) incr(ctx context.Context, k string, window time.Duration) (int, time.Duration, error) {
	pipe := r.rdb.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pttl := pipe.PTTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, 0, err
	}
	ttl := pttl.Val()
	if ttl < 0 {
		// A new window (or one whose expiry was lost): start its clock.
		if err := r.rdb.PExpire(ctx, k, window).Err(); err != nil {
			return 0, 0, err
		}
		ttl = window
	}
	return int(incr.Val()), ttl, nil
}

func (r redisCounters) pttl(ctx context.Context, k string) (time.Duration, error) {
	return r.rdb.PTTL(ctx, k).Result()
}

func (r redisCounters) set(ctx context.Context, k string, ttl time.Duration) error {
	return r.rdb.Set(ctx, k, 1, ttl).Err()
}

// del deletes keys one by one: in a Redis Cluster they may live in
// different slots, and one DEL of several would be refused.
func (r redisCounters) del(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := r.rdb.Del(ctx, k).Err(); err != nil {
			return err
		}
	}
	return nil
}

func (r redisCounters) get(ctx context.Context, k string) (int, error) {
	n, err := r.rdb.Get(ctx, k).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}
