package tenants_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"gatehouse/app/apptest"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// countQueries counts every statement gorm sends on db (queries, raw
// reads, writes), through its callbacks.
func countQueries(t testing.TB, db *gorm.DB) *atomic.Int64 {
	t.Helper()
	n := &atomic.Int64{}
	inc := func(*gorm.DB) { n.Add(1) }
	for name, cb := range map[string]interface {
		Register(string, func(*gorm.DB)) error
	}{
		"query": db.Callback().Query().After("gorm:query"), "row": db.Callback().Row().After("gorm:row"),
		"raw": db.Callback().Raw().After("gorm:raw"), "create": db.Callback().Create().After("gorm:create"),
		"update": db.Callback().Update().After("gorm:update"), "delete": db.Callback().Delete().After("gorm:delete"),
	} {
		if err := cb.Register("test:count_"+name, inc); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestUnknownHostsCostNoQuery loads the known hosts and then resolves
// hosts nobody serves: random slugs under the base domain, random custom
// domains, another tenant's unverified domain. None of them reaches the
// database, while known hosts still resolve to their own tenant.
func TestUnknownHostsCostNoQuery(t *testing.T) {
	ctx := context.Background()
	gdb := apptest.MigratedDB(t).Gorm
	store := tenants.NewStore(gdb)
	svc := mustService(t, store)
	acme := mustCreate(t, svc, "acme", "login.acme.test")
	bravo := mustCreate(t, svc, "bravo")
	if err := svc.AddDomain(ctx, bravo.ID, "pending.bravo.test", false); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetStatus(ctx, bravo.ID, tenants.Suspended); err != nil {
		t.Fatal(err)
	}
	r := tenants.NewResolver(store, "localhost", tenants.ResolverOptions{})
	if err := r.LoadHosts(ctx); err != nil {
		t.Fatal(err)
	}
	if n, loaded := r.KnownHosts(); !loaded || n != 3 {
		t.Fatalf("known hosts: %d (loaded %v), want acme, its domain and bravo", n, loaded)
	}

	queries := countQueries(t, gdb)
	for i := 0; i < 500; i++ {
		for _, host := range []string{
			"nobody" + strconv.Itoa(i) + ".localhost", "x" + strconv.Itoa(i) + ".example.com:8443",
			"pending.bravo.test", "acme.localhost.evil.test",
		} {
			if _, err := r.Resolve(ctx, host); !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("Resolve(%q) = %v, want NotFound", host, err)
			}
		}
	}
	if n := queries.Load(); n != 0 {
		t.Fatalf("2,000 unknown hosts made %d queries, want 0", n)
	}

	for host, want := range map[string]*tenants.Tenant{"acme.localhost": acme, "login.acme.test": acme, "bravo.localhost": bravo} {
		got, err := r.Resolve(ctx, host)
		if err != nil || got.ID != want.ID {
			t.Fatalf("Resolve(%q) = %v, %v; want %s", host, got, err, want.Slug)
		}
	}
	if got, _ := r.Resolve(ctx, "bravo.localhost"); got.Status != tenants.Suspended {
		t.Fatal("a suspended tenant must stay known, so its hosts show the unavailable page")
	}
}

// TestKnownHostsFollowChanges applies changes to the known set the way the
// bus does (Changed), and checks that a domain only ever serves the tenant
// that holds it: moved from one tenant to another, it resolves to the new
// one and never again to the old.
func TestKnownHostsFollowChanges(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t)
	svc := mustService(t, store)
	acme := mustCreate(t, svc, "acme", "login.shared.test")
	bravo := mustCreate(t, svc, "bravo")
	r := tenants.NewResolver(store, "localhost", tenants.ResolverOptions{TTL: time.Hour})
	if err := r.LoadHosts(ctx); err != nil {
		t.Fatal(err)
	}
	resolves := func(host string) *tenants.Tenant {
		t.Helper()
		got, err := r.Resolve(ctx, host)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := resolves("login.shared.test"); got == nil || got.ID != acme.ID {
		t.Fatalf("login.shared.test serves %v, want acme", got)
	}

	t.Run("new tenant", func(t *testing.T) {
		late := mustCreate(t, svc, "late")
		if resolves("late.localhost") != nil {
			t.Fatal("late is served before any news of it")
		}
		if err := r.Changed(ctx, late.ID); err != nil {
			t.Fatal(err)
		}
		if got := resolves("late.localhost"); got == nil || got.ID != late.ID {
			t.Fatalf("after the news, late.localhost serves %v", got)
		}
	})

	t.Run("domain moves to another tenant", func(t *testing.T) {
		if err := svc.RemoveDomain(ctx, acme.ID, "login.shared.test"); err != nil {
			t.Fatal(err)
		}
		if err := r.Changed(ctx, acme.ID); err != nil {
			t.Fatal(err)
		}
		if got := resolves("login.shared.test"); got != nil {
			t.Fatalf("a removed domain still serves %s", got.Slug)
		}
		if err := svc.AddDomain(ctx, bravo.ID, "login.shared.test", false); err != nil {
			t.Fatal(err)
		}
		if err := r.Changed(ctx, bravo.ID); err != nil {
			t.Fatal(err)
		}
		if got := resolves("login.shared.test"); got != nil {
			t.Fatalf("an unverified domain serves %s", got.Slug)
		}
		// Verified the console's way: removed and added again as verified.
		if err := svc.RemoveDomain(ctx, bravo.ID, "login.shared.test"); err != nil {
			t.Fatal(err)
		}
		if err := svc.AddDomain(ctx, bravo.ID, "login.shared.test", true); err != nil {
			t.Fatal(err)
		}
		if err := r.Changed(ctx, bravo.ID); err != nil {
			t.Fatal(err)
		}
		got := resolves("login.shared.test")
		if got == nil || got.ID != bravo.ID {
			t.Fatalf("the verified domain serves %v, want bravo", got)
		}
		if got := resolves("acme.localhost"); got == nil || got.ID != acme.ID {
			t.Fatalf("acme's own host lost: %v", got)
		}
		// News of the other tenant must not take bravo's domain away.
		if err := r.Changed(ctx, acme.ID); err != nil {
			t.Fatal(err)
		}
		if got := resolves("login.shared.test"); got == nil || got.ID != bravo.ID {
			t.Fatalf("after news of acme, login.shared.test serves %v, want bravo", got)
		}
	})
}

// TestTenantCreatedOnOneNodeIsServedOnAnother runs two nodes on one
// database and one Redis, each with its resolver, bus listener and known
// hosts. A tenant and a verified domain created through node one's service
// become reachable on node two through the bus alone (no TTL could expire
// in the test), and a removed domain stops being served there.
func TestTenantCreatedOnOneNodeIsServedOnAnother(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := mustStore(t)
	rdb := mustRedis(t)
	const channel = "gatehouse:test:known-hosts"
	mustCreate(t, mustService(t, store), "acme")

	var nodes [2]*tenants.Resolver
	var services [2]*tenants.Service
	for i := range nodes {
		bus := tenants.NewBus(rdb, channel, quiet)
		nodes[i] = tenants.NewResolver(store, "localhost", tenants.ResolverOptions{TTL: time.Hour, NegativeTTL: time.Hour})
		bus.Local(nodes[i])
		services[i] = tenants.NewService(store, bus, "localhost", quiet)
		go bus.Listen(ctx, nodes[i])
	}
	apptest.Eventually(t, 5*time.Second, func() error {
		n, err := rdb.PubSubNumSub(ctx, channel).Result()
		if err != nil || n[channel] < 2 {
			return apperr.New(apperr.Unavailable, "not subscribed yet")
		}
		for _, node := range nodes {
			if _, loaded := node.KnownHosts(); !loaded {
				return apperr.New(apperr.Unavailable, "hosts not loaded yet")
			}
		}
		return nil
	})
	if _, err := nodes[1].Resolve(ctx, "newco.localhost"); !apperr.Is(err, apperr.NotFound) {
		t.Fatal(err)
	}

	newco, err := services[0].Create(ctx, tenants.NewTenant{Slug: "newco", Name: "New Co", Domains: []string{"login.newco.test"}})
	if err != nil {
		t.Fatal(err)
	}
	// The node that made the change serves it at once.
	if _, err := nodes[0].Resolve(ctx, "login.newco.test"); err != nil {
		t.Fatalf("node one, right after creating: %v", err)
	}
	apptest.Eventually(t, 5*time.Second, func() error {
		for _, host := range []string{"newco.localhost", "login.newco.test"} {
			got, err := nodes[1].Resolve(ctx, host)
			if err != nil {
				return err
			}
			if got.ID != newco.ID {
				return apperr.New(apperr.Conflict, "%s serves another tenant", host)
			}
		}
		return nil
	})

	if err := services[0].RemoveDomain(ctx, newco.ID, "login.newco.test"); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 5*time.Second, func() error {
		if _, err := nodes[1].Resolve(ctx, "login.newco.test"); !apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.Conflict, "the removed domain is still served on node two")
		}
		return nil
	})
}

// mustRedis is a client on an empty Redis database of t's own.
func mustRedis(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}
