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
}

var _ Publisher = (*Bus)(nil)

// NewBus returns a bus on channel. Pub/sub ignores Redis database numbers, so
// the channel name must carry whatever separates one deployment from another.
func NewBus(rdb redis.UniversalClient, channel string, log *slog.Logger) *Bus {
	return &Bus{rdb: rdb, channel: channel, log: log}
}

// TenantChanged publishes id.
func (b *Bus) TenantChanged(ctx context.Context, id uuid.UUID) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return b.rdb.Publish(ctx, b.channel, id.String()).Err()
}

// Listen applies every message to r until ctx ends. Each time the
// subscription is (re)established it empties r's cache, because messages
// published while the connection was down are gone for good.
func (b *Bus) Listen(ctx context.Context, r *Resolver) {
	sub := b.rdb.Subscribe(ctx, b.channel)
	defer sub.Close()
	for {
		msg, err := sub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Warn("tenant_bus_receive_failed", "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				r.ForgetAll()
			}
		case *redis.Message:
			id, err := uuid.Parse(m.Payload)
			if err != nil {
				b.log.Warn("tenant_bus_bad_message", "payload_len", len(m.Payload))
				r.ForgetAll()
				continue
			}
			r.Forget(id)
		}
	}
}
