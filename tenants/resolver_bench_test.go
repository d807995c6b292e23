package tenants_test

import (
	"context"
	"strconv"
	"testing"

	"gatehouse/tenants"
)

// BenchmarkResolve measures a cached Host→tenant lookup, the cost every
// request on a tenant host pays, with few and with many tenants. The hosts
// cycle through every tenant, so the whole cache is in play.
func BenchmarkResolve(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run("tenants="+strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			store := mustStore(b)
			svc := mustService(b, store)
			hosts := make([]string, n)
			for i := range hosts {
				slug := "brand-" + strconv.Itoa(i)
				mustCreate(b, svc, slug)
				hosts[i] = slug + ".localhost:8080"
			}
			r := tenants.NewResolver(store, "localhost", tenants.ResolverOptions{})
			for _, h := range hosts {
				if _, err := r.Resolve(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := r.Resolve(ctx, hosts[i%n]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
