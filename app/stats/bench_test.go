package stats_test

import (
	"context"
	"os"
	"testing"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/stats"
	"gatehouse/tenants"
)

// BenchmarkOverviewMillion loads the console overview's figures (the
// queries GET /t/:slug runs: the stats row, a bounded rollup check, 30
// days of counters and the live audit events past the watermark) for a
// tenant of 1,000,000 customers, 300,000 audit events over the last 30
// days and 50 events not yet rolled up, on PostgreSQL. "select-1" is the
// baseline of the same run: one round trip of SELECT 1. The log
// gives, for scale, the first rollup and the background count of
// customers and filled fields that the worker runs every RecountEvery at
// most.
func BenchmarkOverviewMillion(b *testing.B) {
	admin := os.Getenv(apptest.EnvDatabase)
	if admin == "" {
		b.Skip("needs PostgreSQL: set " + apptest.EnvDatabase)
	}
	ctx := context.Background()
	d := apptest.MigratedDBAt(b, apptest.PostgresDatabase(b, admin))
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, err := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "A"})
	if err != nil {
		b.Fatal(err)
	}
	other, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "B"})
	g := d.Gorm
	if err := g.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at)
		SELECT gen_random_uuid(), ?, 'user' || lpad(n::text, 7, '0') || '@example.com', true, 'active',
		       CASE WHEN n % 2 = 0 THEN jsonb_build_object('company', 'Co ' || n, 'city', 'Town') ELSE jsonb_build_object('city', '') END,
		       now(), now()
		FROM generate_series(1, 1000000) n`, a.ID).Error; err != nil {
		b.Fatal(err)
	}
	// 300,000 sign-ins and failures over 30 days, with UUIDv7 ids made
	// from their times, as audit.Recorder writes them; a tenth as many
	// for another tenant in between.
	events := `INSERT INTO audit_events (id, tenant_id, actor, action, target, detail, at)
		SELECT (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7' || lpad(to_hex(n % 4096), 3, '0') || '8' || lpad(to_hex(n), 15, '0'))::uuid,
		       ?, 'anonymous', CASE WHEN n % 10 = 0 THEN 'customer.login.failed' WHEN n % 25 = 0 THEN 'customer.signup' ELSE 'customer.login' END,
		       'someone@example.com', CASE n % 3 WHEN 0 THEN '{"method": "google"}' WHEN 1 THEN '{"method": "password"}' ELSE '{"method": "oidc"}' END::jsonb, t
		FROM (SELECT n, now() - interval '29 days' + (n * (interval '29 days' - interval '5 minutes') / ?) AS t FROM generate_series(1, ?) n) s`
	if err := g.Exec(events, a.ID, 300000, 300000).Error; err != nil {
		b.Fatal(err)
	}
	if err := g.Exec(events, other.ID, 30000, 30000).Error; err != nil {
		b.Fatal(err)
	}
	g.Exec("ANALYZE")
	s := stats.New(g, quiet)
	// The worker has caught up and counted the customers...
	start := time.Now()
	n, err := s.Rollup(ctx, a.ID)
	if err != nil || n < 290000 {
		b.Fatalf("rollup folded %d events (%v)", n, err)
	}
	b.Logf("first rollup of %d events: %s", n, time.Since(start))
	fields := []string{"company", "city"}
	start = time.Now()
	if _, err := s.Recount(ctx, a.ID, fields); err != nil {
		b.Fatal(err)
	}
	b.Logf("background recount of 1,000,000 customers and 2 fields: %s", time.Since(start))
	// ...and 50 sign-ins happened since.
	rec := audit.NewRecorder(g, quiet)
	for range 50 {
		if err := rec.Record(ctx, audit.Event{TenantID: a.ID, Actor: "anonymous", Action: "customer.login", Detail: map[string]any{"method": "password"}}); err != nil {
			b.Fatal(err)
		}
	}
	o, err := s.Load(ctx, a.ID, fields)
	if err != nil || o.Customers != 1000000 || o.Completed["company"] != 500000 || stats.Total(o.SignIns) < 200000 {
		b.Fatalf("load: %v customers %d completed %v sign-ins %d", err, o.Customers, o.Completed, stats.Total(o.SignIns))
	}
	b.ResetTimer()
	// Interleaved rounds, so the baseline and the overview see the same
	// machine; docs/benchmarks.md takes the median of each.
	for range apptest.BenchRounds() {
		b.Run("select-1", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var one int
				if err := g.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil || one != 1 {
					b.Fatal(err)
				}
			}
		})
		b.Run("overview", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				o, err := s.Load(ctx, a.ID, fields)
				if err != nil || o.Customers != 1000000 {
					b.Fatal(err)
				}
			}
		})
	}
}
