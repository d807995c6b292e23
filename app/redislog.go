package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLogEvery is how often go-redis's own messages reach the log.
const redisLogEvery = time.Minute

// redisLog carries go-redis's own messages (a failed dial, a pool that
// cannot refill) into the structured log at WARN, at most one a minute
// with a count of those left out. Without it go-redis prints a plain line
// to stderr for every failed dial, many a second while Redis is down, and
// the requests that needed Redis already log their own errors.
type redisLog struct {
	mu      sync.Mutex
	log     *slog.Logger
	now     func() time.Time
	last    time.Time
	dropped int
}

// theRedisLog is the process's: go-redis has one logger for all clients,
// so the last Gatehouse to open Redis in a process (one, outside tests)
// is the one its messages go to.
var theRedisLog = func() *redisLog {
	l := &redisLog{log: slog.Default(), now: time.Now}
	redis.SetLogger(l)
	return l
}()

// use sends go-redis's messages to log from now on; nil keeps the one in
// use (a one-shot command without a logger of its own).
func (l *redisLog) use(log *slog.Logger) {
	if log == nil {
		return
	}
	l.mu.Lock()
	l.log = log
	l.mu.Unlock()
}

// Printf is go-redis's internal.Logging.
func (l *redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < redisLogEvery {
		l.dropped++
		l.mu.Unlock()
		return
	}
	log, dropped := l.log, l.dropped
	l.last, l.dropped = now, 0
	l.mu.Unlock()
	log.WarnContext(ctx, "redis_client", "message", fmt.Sprintf(format, v...), "left_out_since_last", dropped)
}
