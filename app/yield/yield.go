// Package yield makes bulk work give way to interactive traffic. Serve
// nodes publish how busy their password hashing is (the share of the
// hashing semaphore's slots taken, averaged over a short window) into one
// Redis key with a short TTL; import workers read it after each chunk and
// sleep in proportion, never below a floor rate, so a login storm slows
// an import down and an idle system runs it at full speed. When the key
// is missing (no serve node busy, or none alive) there is no pressure.
package yield

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Controller turns interactive pressure into a pause after a chunk of
// bulk work. Pressure is a share in [0, 1]: below Low nothing waits; from
// Low to High the pause grows linearly to the most the floor allows; at
// High and above the work runs at the floor rate.
type Controller struct {
	Low, High float64
	// Floor is the slowest rate bulk work may be held to, in work units
	// per second (for an import, rows weighted as its progress bar weighs
	// them: a scan is a quarter of a row, an apply three quarters).
	Floor float64
}

// Default keeps an import's paced steps at 14,000 rows/s or more, a
// margin over the 10,000 it promises for the whole job, since staging and
// the dedup step are not paced.
var Default = Controller{Low: 0.2, High: 0.7, Floor: 14000}

// Delay is how long to wait after a chunk of units work that took worked,
// under pressure. The wait never brings the chunk's rate below Floor.
func (c Controller) Delay(pressure, units float64, worked time.Duration) time.Duration {
	if pressure <= c.Low || units <= 0 || c.Floor <= 0 {
		return 0
	}
	most := time.Duration(units/c.Floor*float64(time.Second)) - worked
	if most <= 0 {
		return 0
	}
	share := 1.0
	if c.High > c.Low && pressure < c.High {
		share = (pressure - c.Low) / (c.High - c.Low)
	}
	return time.Duration(share * float64(most))
}

// Key is the Redis key of the pressure figure under a deployment's prefix.
func Key(prefix string) string { return prefix + "interactive-pressure" }

// publishMax keeps the highest figure any node published within the TTL:
// one busy node is enough to slow the workers down.
var publishMax = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false or tonumber(ARGV[1]) >= tonumber(cur) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1`)

// Publisher samples a node's pressure and publishes it.
type Publisher struct {
	redis  redis.Scripter
	key    string
	sample func() float64
	every  time.Duration // publish period; samples are taken 10 times as often
	ttl    time.Duration
	log    *slog.Logger
}

// NewPublisher publishes the average of sample every period, under key,
// for 4 periods: a node that stops publishing stops counting soon after.
func NewPublisher(r redis.Scripter, key string, sample func() float64, every time.Duration, log *slog.Logger) *Publisher {
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	return &Publisher{redis: r, key: key, sample: sample, every: every, ttl: 4 * every, log: log}
}

// Run publishes until ctx ends. A node with no pressure publishes
// nothing, so an idle fleet costs Redis no writes.
func (p *Publisher) Run(ctx context.Context) {
	t := time.NewTicker(p.every / 10)
	defer t.Stop()
	var sum float64
	n := 0
	var failing, logged time.Time // the outage's start, its last log line
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sum += p.sample()
		n++
		if n < 10 {
			continue
		}
		avg := sum / float64(n)
		sum, n = 0, 0
		if avg <= 0 {
			continue
		}
		// While Redis is down this fails every window; say so once a minute.
		err := p.Publish(ctx, avg)
		switch now := time.Now(); {
		case err == nil && !failing.IsZero():
			p.log.Info("pressure_publish_recovered", "down_for_s", int(now.Sub(failing).Seconds()))
			failing = time.Time{}
		case err == nil || ctx.Err() != nil:
		case failing.IsZero():
			failing, logged = now, now
			p.log.Warn("pressure_publish_failed", "error", err)
		case now.Sub(logged) >= time.Minute:
			logged = now
			p.log.Warn("pressure_publish_failed", "error", err, "down_for_s", int(now.Sub(failing).Seconds()))
		}
	}
}

// Publish sets the figure to v unless a higher one is still live.
func (p *Publisher) Publish(ctx context.Context, v float64) error {
	return publishMax.Run(ctx, p.redis, []string{p.key}, strconv.FormatFloat(v, 'f', 3, 64), p.ttl.Milliseconds()).Err()
}

// Decision is one pause the pacer chose, kept for tests and metrics.
type Decision struct {
	Pressure float64
	Units    float64
	Worked   time.Duration
	Delay    time.Duration
}

// Pacer reads the pressure between chunks and waits as its controller
// says. It is safe for concurrent use.
type Pacer struct {
	redis redis.Cmdable
	key   string
	ctrl  Controller
	log   *slog.Logger

	mu        sync.Mutex
	decisions []Decision // the latest, at most keep
	keep      int
}

// NewPacer paces bulk work by the figure under key.
func NewPacer(r redis.Cmdable, key string, c Controller, log *slog.Logger) *Pacer {
	return &Pacer{redis: r, key: key, ctrl: c, log: log, keep: 1024}
}

// Pressure reads the published figure; a missing key is no pressure, and
// so is a Redis that cannot be read: bulk work is not stopped by it.
func (p *Pacer) Pressure(ctx context.Context) float64 {
	v, err := p.redis.Get(ctx, p.key).Float64()
	if err != nil {
		if err != redis.Nil && ctx.Err() == nil {
			p.log.Warn("pressure_read_failed", "error", err)
		}
		return 0
	}
	return v
}

// Pace waits after a chunk of units work that took worked, for as long as
// the current pressure calls for, or until ctx ends.
func (p *Pacer) Pace(ctx context.Context, units float64, worked time.Duration) {
	d := Decision{Pressure: p.Pressure(ctx), Units: units, Worked: worked}
	d.Delay = p.ctrl.Delay(d.Pressure, units, worked)
	p.mu.Lock()
	if len(p.decisions) == p.keep {
		p.decisions = append(p.decisions[:0], p.decisions[1:]...)
	}
	p.decisions = append(p.decisions, d)
	p.mu.Unlock()
	if d.Delay <= 0 {
		return
	}
	t := time.NewTimer(d.Delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Decisions returns the latest pauses, oldest first.
func (p *Pacer) Decisions() []Decision {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Decision(nil), p.decisions...)
}
