package stats_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/db"
	"gatehouse/app/stats"
	"gatehouse/tenants"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type world struct {
	d     *db.DB
	rec   *audit.Recorder
	a, b  uuid.UUID
	today time.Time
}

func setup(t *testing.T) world {
	t.Helper()
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, err := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "Bravo"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	return world{d: d, rec: audit.NewRecorder(d.Gorm, quiet), a: a.ID, b: b.ID,
		today: time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, time.UTC)}
}

// record writes n audit events of action for tenant, daysAgo days before
// today at noon UTC.
func (w world) record(t *testing.T, tenant uuid.UUID, daysAgo, n int, action, target string, detail map[string]any) {
	t.Helper()
	for range n {
		if err := w.rec.Record(context.Background(), audit.Event{TenantID: tenant, Actor: "anonymous", Action: action,
			Target: target, Detail: detail, At: w.today.AddDate(0, 0, -daysAgo)}); err != nil {
			t.Fatal(err)
		}
	}
}

// seed is the known data of the tests: acme's week, and bravo's sign-ins
// that must never show on acme.
func (w world) seed(t *testing.T) {
	pw := map[string]any{"method": "password"}
	w.record(t, w.a, 2, 3, "customer.login", "ann@example.com", pw)
	w.record(t, w.a, 2, 1, "customer.login", "bob@example.com", map[string]any{"method": "google"})
	w.record(t, w.a, 1, 1, "customer.signup", "cleo@example.com", nil)
	w.record(t, w.a, 1, 1, "customer.signup", "dev@example.com", map[string]any{"method": "google"})
	w.record(t, w.a, 1, 4, "customer.login.failed", "ann@example.com", nil)
	w.record(t, w.a, 1, 1, "social.failed", "facebook", map[string]any{"reason": "token"})
	w.record(t, w.a, 0, 2, "customer.login", "eli@example.com", map[string]any{"method": "oidc"})
	w.record(t, w.a, 0, 5, "customer.logout", "eli@example.com", nil) // not counted
	w.record(t, w.a, 40, 6, "customer.login", "old@example.com", pw)  // before the window
	w.record(t, w.b, 2, 7, "customer.login", "ann@example.com", pw)
	w.record(t, w.b, 1, 9, "customer.signup", "ann@example.com", nil)
}

// day is the count of days ago in a series.
func day(t *testing.T, series []stats.Day, today time.Time, daysAgo int) int64 {
	t.Helper()
	want := today.AddDate(0, 0, -daysAgo).Format(time.DateOnly)
	for _, d := range series {
		if d.Day == want {
			return d.N
		}
	}
	t.Fatalf("no %s in the series", want)
	return 0
}

func checkAcme(t *testing.T, w world, o stats.Overview) {
	t.Helper()
	if len(o.SignIns) != stats.Days || len(o.SignUps) != stats.Days || len(o.Failed) != stats.Days {
		t.Fatalf("series of %d/%d/%d days, want %d", len(o.SignIns), len(o.SignUps), len(o.Failed), stats.Days)
	}
	checks := []struct {
		what   string
		got    int64
		expect int64
	}{
		{"sign-ins 2 days ago", day(t, o.SignIns, w.today, 2), 4},
		{"sign-ins yesterday", day(t, o.SignIns, w.today, 1), 0},
		{"sign-ins today", day(t, o.SignIns, w.today, 0), 2},
		{"sign-ups yesterday", day(t, o.SignUps, w.today, 1), 2},
		{"failed yesterday", day(t, o.Failed, w.today, 1), 5},
		{"sign-ins in all", stats.Total(o.SignIns), 6},
		{"sign-ups in all", stats.Total(o.SignUps), 2},
		{"failed in all", stats.Total(o.Failed), 5},
	}
	for _, c := range checks {
		if c.got != c.expect {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.expect)
		}
	}
	if got := fmt.Sprint(o.Methods); got != "[{password 3} {oidc 2} {google 1}]" {
		t.Errorf("methods %s", got)
	}
}

func sumCounters(t *testing.T, w world, tenant uuid.UUID) int64 {
	t.Helper()
	var n int64
	if err := w.d.Gorm.Raw("SELECT coalesce(sum(n), 0) FROM stats_daily WHERE tenant_id = ?", tenant).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOverview(t *testing.T) {
	ctx := context.Background()
	w := setup(t)
	w.seed(t)
	live := stats.New(w.d.Gorm, quiet)
	// An hour on, every event above has settled and the rollup takes it.
	later := live.WithClock(func() time.Time { return time.Now().UTC().Add(time.Hour) })

	t.Run("live, before any rollup", func(t *testing.T) {
		o, err := live.Load(ctx, w.a, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkAcme(t, w, o)
		if n := sumCounters(t, w, w.a); n != 0 {
			t.Fatalf("unsettled events were folded: %d", n)
		}
	})
	t.Run("rolled up", func(t *testing.T) {
		n, err := later.Rollup(ctx, w.a)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3+1+1+1+4+1+2+6 {
			t.Fatalf("folded %d events", n)
		}
		if got := sumCounters(t, w, w.a); got != int64(n) {
			t.Fatalf("counters sum to %d, want %d", got, n)
		}
		o, err := live.Load(ctx, w.a, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkAcme(t, w, o)
	})
	t.Run("idempotent", func(t *testing.T) {
		before := sumCounters(t, w, w.a)
		n, err := later.Rollup(ctx, w.a)
		if err != nil || n != 0 {
			t.Fatalf("second rollup folded %d (%v)", n, err)
		}
		if after := sumCounters(t, w, w.a); after != before {
			t.Fatalf("second rollup changed the counters: %d -> %d", before, after)
		}
	})
	t.Run("concurrent rollups count once", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := later.Rollup(ctx, w.b); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := sumCounters(t, w, w.b); n != 7+9 {
			t.Fatalf("bravo's counters sum to %d after four rollups at once, want 16", n)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		o, err := live.Load(ctx, w.b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Total(o.SignIns) != 7 || stats.Total(o.SignUps) != 9 || stats.Total(o.Failed) != 0 {
			t.Fatalf("bravo: %d sign-ins, %d sign-ups, %d failed", stats.Total(o.SignIns), stats.Total(o.SignUps), stats.Total(o.Failed))
		}
		a, err := live.Load(ctx, w.a, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkAcme(t, w, a)
	})
}

// TestRollupCrashSafe: a rollup that fails after reading the events
// leaves the watermark where it was, so the next run counts them once.
func TestRollupCrashSafe(t *testing.T) {
	ctx := context.Background()
	w := setup(t)
	w.record(t, w.a, 1, 3, "customer.login", "ann@example.com", map[string]any{"method": "password"})
	live := stats.New(w.d.Gorm, quiet)
	s := live.WithClock(func() time.Time { return time.Now().UTC().Add(time.Hour) })
	if _, err := live.Load(ctx, w.a, nil); err != nil { // makes the tenant's row; the events are not settled yet
		t.Fatal(err)
	}
	var before string
	w.d.Gorm.Raw("SELECT watermark FROM stats_tenants WHERE tenant_id = ?", w.a).Scan(&before)
	// The counters' table goes away under the rollup: adding fails after
	// the watermark was moved in the same transaction.
	if err := w.d.Gorm.Exec("ALTER TABLE stats_daily RENAME TO stats_daily_away").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rollup(ctx, w.a); err == nil {
		t.Fatal("the rollup succeeded without its counters table")
	}
	var after string
	w.d.Gorm.Raw("SELECT watermark FROM stats_tenants WHERE tenant_id = ?", w.a).Scan(&after)
	if after != before {
		t.Fatalf("a failed rollup moved the watermark from %s to %s", before, after)
	}
	if err := w.d.Gorm.Exec("ALTER TABLE stats_daily_away RENAME TO stats_daily").Error; err != nil {
		t.Fatal(err)
	}
	if n, err := s.Rollup(ctx, w.a); err != nil || n != 3 {
		t.Fatalf("the retry folded %d (%v), want 3", n, err)
	}
	if n := sumCounters(t, w, w.a); n != 3 {
		t.Fatalf("counters sum to %d, want 3", n)
	}
}

// TestRecount counts customers and filled fields per tenant, as
// tenants.Missing reads a profile.
func TestRecount(t *testing.T) {
	ctx := context.Background()
	w := setup(t)
	profiles := []string{
		`{"company": "Acme", "newsletter": true}`,
		`{"company": "", "newsletter": false}`,
		`{"company": null}`,
		`{"company": "Bean Co", "shoe_size": 42}`,
		`{}`,
	}
	insert := func(tenant uuid.UUID, i int, profile string) {
		now := time.Now().UTC()
		if err := w.d.Gorm.Exec(`INSERT INTO customers (id, tenant_id, email, status, profile, created_at, updated_at)
			VALUES (?, ?, ?, 'active', ?, ?, ?)`, uuid.Must(uuid.NewV7()), tenant, fmt.Sprintf("c%d@example.com", i), profile, now, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range profiles {
		insert(w.a, i, p)
	}
	for i := range 3 {
		insert(w.b, i, `{"company": "Other", "newsletter": true}`)
	}
	s := stats.New(w.d.Gorm, quiet)
	fields := []string{"company", "newsletter", "shoe_size", "missing"}
	o, err := s.Load(ctx, w.a, fields)
	if err != nil {
		t.Fatal(err)
	}
	if o.Customers != 5 {
		t.Fatalf("customers %d, want 5", o.Customers)
	}
	if got := fmt.Sprint(o.Completed); got != "map[company:2 missing:0 newsletter:1 shoe_size:1]" {
		t.Fatalf("completed %s", got)
	}
	if o.CountedAt.IsZero() {
		t.Fatal("no time of count")
	}
	// Stored: a new customer is not seen until the figures are recounted.
	insert(w.a, 9, `{"company": "Late"}`)
	if o, _ = s.Load(ctx, w.a, fields); o.Customers != 5 {
		t.Fatalf("the page view counted again: %d", o.Customers)
	}
	if _, err := s.Recount(ctx, w.a, fields); err != nil {
		t.Fatal(err)
	}
	if o, _ = s.Load(ctx, w.a, fields); o.Customers != 6 || o.Completed["company"] != 3 {
		t.Fatalf("after a recount: %d customers, %d with a company", o.Customers, o.Completed["company"])
	}
	t.Run("other tenant", func(t *testing.T) {
		o, err := s.Load(ctx, w.b, fields)
		if err != nil {
			t.Fatal(err)
		}
		if o.Customers != 3 || o.Completed["company"] != 3 || o.Completed["shoe_size"] != 0 {
			t.Fatalf("bravo: %d customers, %v", o.Customers, o.Completed)
		}
	})
	t.Run("the worker recounts stale figures", func(t *testing.T) {
		insert(w.a, 10, `{}`)
		if err := w.rec.Record(ctx, audit.Event{TenantID: w.a, Actor: "system", Action: "import.finished"}); err != nil {
			t.Fatal(err)
		}
		later := s.WithClock(func() time.Time { return time.Now().UTC().Add(stats.RecountEvery + time.Minute) })
		if err := later.RollupAll(ctx); err != nil {
			t.Fatal(err)
		}
		if o, _ = s.Load(ctx, w.a, nil); o.Customers != 7 {
			t.Fatalf("after the worker: %d customers, want 7", o.Customers)
		}
	})
}
