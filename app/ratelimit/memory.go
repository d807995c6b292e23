package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// fallback tracks whether Redis answers and holds the in-memory counters
// used while it does not. The switch is logged once each way:
// ratelimit_degraded when a Redis call fails, ratelimit_recovered when one
// works again. While degraded, Redis is tried again at most once a second,
// so an outage costs each request nothing but a map lookup.
type fallback struct {
	log *slog.Logger
	mem *memCounters

	mu      sync.Mutex
	down    bool
	probeAt time.Time
}

// probeEvery is how often a degraded limiter tries Redis again.
const probeEvery = time.Second

func newFallback(log *slog.Logger) *fallback {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &fallback{log: log, mem: newMemCounters()}
}

func (f *fallback) degraded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

// tryRedis says whether this call should go to Redis: always while it
// works, and once per probeEvery while it does not.
func (f *fallback) tryRedis() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		return true
	}
	if now := time.Now(); now.After(f.probeAt) {
		f.probeAt = now.Add(probeEvery)
		return true
	}
	return false
}

func (f *fallback) failed(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probeAt = time.Now().Add(probeEvery)
	if !f.down {
		f.down = true
		f.log.Warn("ratelimit_degraded", "error", err, "fallback", "per-node memory")
	}
}

func (f *fallback) ok() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.down = false
		f.mem.reset()
		f.log.Info("ratelimit_recovered")
	}
}

// memCounters is the per-node stand-in for Redis: the same counts,
// windows and blocks, kept in a map with their expiry times.
type memCounters struct {
	mu      sync.Mutex
	entries map[string]memEntry
	now     func() time.Time
}

type memEntry struct {
	n   int
	exp time.Time
}

// memSweepAt is the size past which expired entries are swept on write,
// so a long outage under attack cannot grow the map without bound.
const memSweepAt = 10000

func newMemCounters() *memCounters {
	return &memCounters{entries: map[string]memEntry{}, now: time.Now}
}

func (m *memCounters) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = map[string]memEntry{}
}

// live returns k's entry if it has not expired. Callers hold mu.
func (m *memCounters) live(k string, now time.Time) (memEntry, bool) {
	e, ok := m.entries[k]
	if !ok || !now.Before(e.exp) {
		delete(m.entries, k)
		return memEntry{}, false
	}
	return e, true
}

func (m *memCounters) put(k string, e memEntry, now time.Time) {
	if len(m.entries) >= memSweepAt {
		for key, old := range m.entries {
			if !now.Before(old.exp) {
				delete(m.entries, key)
			}
		}
	}
	m.entries[k] = e
}

func (m *memCounters) incr(_ context.Context, k string, window time.Duration) (int, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.live(k, now)
	if !ok {
		e = memEntry{exp: now.Add(window)}
	}
	e.n++
	m.put(k, e, now)
	return e.n, e.exp.Sub(now), nil
}

func (m *memCounters) pttl(_ context.Context, k string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if e, ok := m.live(k, now); ok {
		return e.exp.Sub(now), nil
	}
	return -2 * time.Millisecond, nil // as Redis answers for a missing key
}

func (m *memCounters) set(_ context.Context, k string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.put(k, memEntry{n: 1, exp: now.Add(ttl)}, now)
	return nil
}

func (m *memCounters) del(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}

func (m *memCounters) get(_ context.Context, k string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, _ := m.live(k, m.now())
	return e.n, nil
}
