package tenants_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/apptest"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// countingLookup passes through to the real store and counts the calls,
// to tell cache hits from misses.
type countingLookup struct {
	store *tenants.Store
	calls atomic.Int64
}

func (c *countingLookup) BySlug(ctx context.Context, slug string) (*tenants.Tenant, error) {
	c.calls.Add(1)
	return c.store.BySlug(ctx, slug)
}

func (c *countingLookup) ByDomain(ctx context.Context, host string) (*tenants.Tenant, error) {
	c.calls.Add(1)
	return c.store.ByDomain(ctx, host)
}

func (c *countingLookup) EachHost(ctx context.Context, id uuid.UUID, fn func(uuid.UUID, string, string)) error {
	return c.store.EachHost(ctx, id, fn)
}

func (c *countingLookup) HostsVersion(ctx context.Context) (string, error) {
	return c.store.HostsVersion(ctx)
}

// unreachableLookup answers like the store until down is set, then with
// a network error, as a database that went away does.
type unreachableLookup struct {
	countingLookup
	down atomic.Bool
}

type netDown struct{}

func (netDown) Error() string   { return "dial tcp 127.0.0.1:5432: connect: connection refused" }
func (netDown) Timeout() bool   { return false }
func (netDown) Temporary() bool { return true }

func (u *unreachableLookup) BySlug(ctx context.Context, slug string) (*tenants.Tenant, error) {
	if u.down.Load() {
		return nil, netDown{}
	}
	return u.countingLookup.BySlug(ctx, slug)
}

// TestResolverKeepsTheBrandWhileTheDatabaseIsAway: after the cache is
// emptied (a bus reconnect), a host whose tenant was found before still
// resolves to it while the database cannot be reached, so its pages can
// say "briefly unavailable" in the brand's colours. Another tenant's host
// never gets it, a host never seen gets the error, and a tenant that
// changed (Forget) is not served stale.
func TestResolverKeepsTheBrandWhileTheDatabaseIsAway(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t)
	svc := mustService(t, store)
	acme := mustCreate(t, svc, "acme", "login.acme.test")
	mustCreate(t, svc, "globex", "login.globex.test")
	lookup := &unreachableLookup{countingLookup: countingLookup{store: store}}
	r := tenants.NewResolver(lookup, "localhost", tenants.ResolverOptions{})
	if got, err := r.Resolve(ctx, "acme.localhost"); err != nil || got.ID != acme.ID {
		t.Fatalf("before: %v, %v", got, err)
	}
	r.ForgetAll()
	lookup.down.Store(true)
	if got, err := r.Resolve(ctx, "acme.localhost"); err != nil || got.ID != acme.ID {
		t.Fatalf("database away: %v, %v; want the last acme seen", got, err)
	}
	if got, err := r.Resolve(ctx, "globex.localhost"); err == nil || !apperr.Unreachable(err) {
		t.Fatalf("a host never resolved: %v, %v; want the database's error", got, err)
	}
	r.Forget(acme.ID)
	if got, err := r.Resolve(ctx, "acme.localhost"); err == nil {
		t.Fatalf("a changed tenant served stale: %v", got)
	}
}

func TestResolver(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t)
	svc := mustService(t, store)
	acme := mustCreate(t, svc, "acme", "login.acme.test")
	lookup := &countingLookup{store: store}
	r := tenants.NewResolver(lookup, "localhost", tenants.ResolverOptions{NegativeTTL: 200 * time.Millisecond})

	t.Run("slug host, port ignored, cached", func(t *testing.T) {
		for _, host := range []string{"acme.localhost", "ACME.localhost:8080", "acme.localhost."} {
			got, err := r.Resolve(ctx, host)
			if err != nil || got.ID != acme.ID {
				t.Fatalf("Resolve(%q) = %v, %v", host, got, err)
			}
		}
		if n := lookup.calls.Load(); n != 1 {
			t.Fatalf("store asked %d times, want 1 (then cached)", n)
		}
	})

	t.Run("custom domain", func(t *testing.T) {
		got, err := r.Resolve(ctx, "login.acme.test:443")
		if err != nil || got.ID != acme.ID {
			t.Fatalf("got %v, %v", got, err)
		}
	})

	t.Run("unknown hosts", func(t *testing.T) {
		for _, host := range []string{"nobody.localhost", "a.b.localhost", "console.localhost", "evil.test", "", "bad host"} {
			if _, err := r.Resolve(ctx, host); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("Resolve(%q) = %v, want NotFound", host, err)
			}
		}
	})

	t.Run("new tenant appears once the negative entry expires", func(t *testing.T) {
		if _, err := r.Resolve(ctx, "late.localhost"); !apperr.Is(err, apperr.NotFound) {
			t.Fatal(err)
		}
		mustCreate(t, svc, "late")
		apptest.Eventually(t, 2*time.Second, func() error {
			_, err := r.Resolve(ctx, "late.localhost")
			return err
		})
	})

	t.Run("forget drops a changed tenant", func(t *testing.T) {
		th := tenants.DefaultTheme()
		th.DisplayName = "Acme Roasters"
		if _, err := svc.UpdateTheme(ctx, acme.ID, th); err != nil {
			t.Fatal(err)
		}
		got, _ := r.Resolve(ctx, "acme.localhost")
		if got.Theme.DisplayName == "Acme Roasters" {
			t.Fatal("expected the stale cached copy before Forget")
		}
		r.Forget(acme.ID)
		got, _ = r.Resolve(ctx, "acme.localhost")
		if got.Theme.DisplayName != "Acme Roasters" {
			t.Fatalf("after Forget got %q", got.Theme.DisplayName)
		}
	})

	t.Run("unknown hosts are bounded", func(t *testing.T) {
		small := tenants.NewResolver(lookup, "localhost", tenants.ResolverOptions{MaxNegative: 10, NegativeTTL: time.Hour})
		for i := 0; i < 100; i++ {
			small.Resolve(ctx, "x"+strconv.Itoa(i)+".localhost")
		}
		before := lookup.calls.Load()
		small.Resolve(ctx, "x0.localhost") // evicted long ago: must ask again
		if lookup.calls.Load() == before {
			t.Fatal("x0 is still cached; the negative cache is not bounded")
		}
	})
}

// TestBusInvalidatesOtherNodes runs two resolvers, as two nodes, on one
// database and one Redis: a change announced by one is seen by the other at
// once, long before its cache entry would expire.
func TestBusInvalidatesOtherNodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := mustStore(t)
	rdb := mustRedis(t)

	bus := tenants.NewBus(rdb, "gatehouse:test:tenants", quiet)
	svc := tenants.NewService(store, bus, "localhost", quiet)
	acme := mustCreate(t, svc, "acme")

	node := tenants.NewResolver(store, "localhost", tenants.ResolverOptions{TTL: time.Hour, NegativeTTL: time.Hour})
	go bus.Listen(ctx, node)
	// Wait until the listener is subscribed.
	apptest.Eventually(t, 5*time.Second, func() error {
		n, err := rdb.PubSubNumSub(ctx, "gatehouse:test:tenants").Result()
		if err != nil || n["gatehouse:test:tenants"] < 1 {
			return apperr.New(apperr.Unavailable, "not subscribed yet")
		}
		return nil
	})
	if _, err := node.Resolve(ctx, "acme.localhost"); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Resolve(ctx, "newco.localhost"); !apperr.Is(err, apperr.NotFound) {
		t.Fatal(err)
	}

	th := tenants.DefaultTheme()
	th.PrimaryColor = "#00aa00"
	if _, err := svc.UpdateTheme(ctx, acme.ID, th); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, svc, "newco")
	apptest.Eventually(t, time.Second, func() error {
		got, err := node.Resolve(ctx, "acme.localhost")
		if err != nil {
			return err
		}
		if got.Theme.PrimaryColor != "#00aa00" {
			return apperr.New(apperr.Conflict, "still the old theme")
		}
		_, err = node.Resolve(ctx, "newco.localhost")
		return err
	})
}
