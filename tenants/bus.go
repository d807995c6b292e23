package tenants

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Bus carries "tenant changed" messages between nodes over Redis pub/sub.
type Bus struct {
	rdb     redis.UniversalClient
	channel string
	log     *slog.Logger
	local   *Resolver // this node's resolver, told at once; nil: none
}

var _ Publisher = (*Bus)(nil)

// NewBus returns a bus on channel. Pub/sub ignores Redis database numbers, so
// the channel name must carry whatever separates one deployment from another.
func NewBus(rdb redis.UniversalClient, channel string, log *slog.Logger) *Bus {
	return &Bus{rdb: rdb, channel: channel, log: log}
}

// Local makes TenantChanged apply each change to r at once, before it is
// published: the node that made a change (a domain verified in the console)
// serves it on the next request, without waiting for its own message to come
// back from Redis.
func (b *Bus) Local(r *Resolver) { b.local = r }

// TenantChanged publishes id.
func (b *Bus) TenantChanged(ctx context.Context, id uuid.UUID) error {
	if b.local != nil {
		if err := b.local.Changed(ctx, id); err != nil {
			b.log.Warn("tenant_hosts_refresh_failed", "tenant_id", id, "error", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return b.rdb.Publish(ctx, b.channel, id.String()).Err()
}

// busRetry is how long Listen waits after a failed receive, and
// busLogEvery how often an outage that lasts is logged again.
var (
	busRetry    = time.Second
	busLogEvery = time.Minute
)

// Listen applies every message to r until ctx ends: the tenant's hosts are
// read again and its cached snapshot dropped. Each time the subscription is
// (re)established it empties r's cache and reloads the known hosts, because
// messages published while the connection was down are gone for good.
//
// While Redis is unreachable it retries every second, but logs the outage
// once when it starts, again once a minute while it lasts, and once more
// when the subscription is back, with how long it was down.
func (b *Bus) Listen(ctx context.Context, r *Resolver) {
	sub := b.rdb.Subscribe(ctx, b.channel)
	defer sub.Close()
	var down, logged time.Time
	for {
		msg, err := sub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			switch now := time.Now(); {
			case down.IsZero():
				down, logged = now, now
				b.log.Warn("tenant_bus_receive_failed", "error", err, "retry_every_s", busRetry.Seconds())
			case now.Sub(logged) >= busLogEvery:
				logged = now
				b.log.Warn("tenant_bus_still_down", "error", err, "down_for_s", int(now.Sub(down).Seconds()))
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(busRetry):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if !down.IsZero() {
					b.log.Info("tenant_bus_recovered", "down_for_s", int(time.Since(down).Seconds()))
					down = time.Time{}
				}
				b.reload(ctx, r)
			}
		case *redis.Message:
			id, err := uuid.Parse(m.Payload)
			if err != nil {
				b.log.Warn("tenant_bus_bad_message", "payload_len", len(m.Payload))
				b.reload(ctx, r)
				continue
			}
			if err := r.Changed(ctx, id); err != nil && ctx.Err() == nil {
				b.log.Warn("tenant_hosts_refresh_failed", "tenant_id", id, "error", err)
			}
		}
	}
}

// reload empties r's cache and reads the known hosts again. A failed load
// is logged and leaves r asking the store on every miss until
// KeepHostsCurrent succeeds.
func (b *Bus) reload(ctx context.Context, r *Resolver) {
	r.ForgetAll()
	if err := r.LoadHosts(ctx); err != nil && ctx.Err() == nil {
		b.log.Warn("tenant_hosts_load_failed", "error", err)
	}
}
