package tenants_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// BenchmarkLoadKnownHosts loads the known hosts of 100,000 tenants (each
// with its slug host, one in ten with a verified custom domain too) in the
// one streaming query, and reports the heap the set holds per host
// (B/host, measured after a GC with the resolver alive) and the time of a
// full load (load, ns/op). changed is what the bus does with one tenant's
// news: its hosts read again and the set scanned for its old ones.
func BenchmarkLoadKnownHosts(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	gdb := apptest.MigratedDB(b).Gorm
	fillTenants(b, gdb, n)
	store := tenants.NewStore(gdb)
	hosts := n + n/10

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := tenants.NewResolver(store, "id.example.com", tenants.ResolverOptions{})
	if err := r.LoadHosts(ctx); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got, _ := r.KnownHosts(); got != hosts {
		b.Fatalf("loaded %d hosts, want %d", got, hosts)
	}
	perHost := float64(after.HeapAlloc-before.HeapAlloc) / float64(hosts)
	runtime.KeepAlive(r)

	b.Run("load", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := r.LoadHosts(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(perHost, "B/host")
	})
	some, err := store.BySlug(ctx, "brand-50000")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("changed", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := r.Changed(ctx, some.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fillTenants writes n tenants straight into the tables, in multi-row
// inserts (creating them one by one through the service would take
// minutes); one in ten gets a verified domain.
func fillTenants(b *testing.B, gdb *gorm.DB, n int) {
	b.Helper()
	now := time.Now().UTC()
	const batch = 500
	for start := 0; start < n; start += batch {
		var ts, ds []string
		var targs, dargs []any
		for i := start; i < min(start+batch, n); i++ {
			id := uuid.Must(uuid.NewV7())
			ts = append(ts, "(?, ?, ?, 'active', '{}', '{}', ?, ?)")
			targs = append(targs, id, "brand-"+strconv.Itoa(i), "Brand "+strconv.Itoa(i), now, now)
			if i%10 == 0 {
				ds = append(ds, "(?, ?, ?, ?, ?)")
				dargs = append(dargs, uuid.Must(uuid.NewV7()), id, "login.brand-"+strconv.Itoa(i)+".example", true, now)
			}
		}
		if err := gdb.Exec("INSERT INTO tenants (id, slug, name, status, theme, settings, created_at, updated_at) VALUES "+strings.Join(ts, ", "), targs...).Error; err != nil {
			b.Fatal(err)
		}
		if len(ds) > 0 {
			if err := gdb.Exec("INSERT INTO tenant_domains (id, tenant_id, hostname, verified, created_at) VALUES "+strings.Join(ds, ", "), dargs...).Error; err != nil {
				b.Fatal(err)
			}
		}
	}
}
