package tenants_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// While Redis is down the listener retries every second but logs the
// outage once, not once a retry, and says when it is over; the changes
// published after that reach the node again.
func TestBusLogsAnOutageOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := mustStore(t)
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	logs := apptest.NewOutput()
	log := slog.New(slog.NewJSONHandler(logs, nil))
	bus := tenants.NewBus(rdb, "gatehouse:test:tenants", log)
	svc := tenants.NewService(store, bus, "localhost", quiet)
	node := tenants.NewResolver(store, "localhost", tenants.ResolverOptions{TTL: time.Hour, NegativeTTL: time.Hour})
	go bus.Listen(ctx, node)
	subscribed := func() error {
		if n := m.PubSubNumSub("gatehouse:test:tenants")["gatehouse:test:tenants"]; n < 1 {
			return apperr.New(apperr.Unavailable, "not subscribed yet")
		}
		return nil
	}
	apptest.Eventually(t, 5*time.Second, subscribed)

	m.Close()
	// Three retries or so while Redis is away.
	time.Sleep(3500 * time.Millisecond)
	if n := logs.Count(`"msg":"tenant_bus_receive_failed"`); n != 1 {
		t.Fatalf("%d tenant_bus_receive_failed lines during a 3.5 s outage, want 1:\n%s", n, logs.String())
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 10*time.Second, func() error {
		if logs.Count(`"msg":"tenant_bus_recovered"`) != 1 {
			return apperr.New(apperr.Unavailable, "not recovered yet")
		}
		return subscribed()
	})
	if n := logs.Count(`"msg":"tenant_bus_receive_failed"`) + logs.Count(`"msg":"tenant_bus_still_down"`); n != 1 {
		t.Errorf("%d outage lines in all, want 1:\n%s", n, logs.String())
	}
	// Messages flow again: a tenant created now is served by the node.
	if _, err := node.Resolve(ctx, "later.localhost"); !apperr.Is(err, apperr.NotFound) {
		t.Fatal(err)
	}
	mustCreate(t, svc, "later")
	apptest.Eventually(t, 5*time.Second, func() error {
		_, err := node.Resolve(ctx, "later.localhost")
		return err
	})
}
