package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"
)

// countStatements counts every statement gorm sends on db, through its
// callbacks (reads, raw queries, writes).
func countStatements(t testing.TB, db *gorm.DB) *atomic.Int64 {
	t.Helper()
	n := &atomic.Int64{}
	inc := func(*gorm.DB) { n.Add(1) }
	cb := db.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("test:count_query", inc),
		cb.Row().After("gorm:row").Register("test:count_row", inc),
		cb.Raw().After("gorm:raw").Register("test:count_raw", inc),
		cb.Create().After("gorm:create").Register("test:count_create", inc),
		cb.Update().After("gorm:update").Register("test:count_update", inc),
		cb.Delete().After("gorm:delete").Register("test:count_delete", inc),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func getHost(h http.Handler, host, path string) int {
	req := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// TestUnknownHostMakesNoQuery sends requests for hosts no tenant serves
// through the whole HTTP stack, once the known hosts are loaded as serve
// loads them: each gets the neutral 404, and the database sees not one
// statement. A known host is still served (and does query, the first time).
func TestUnknownHostMakesNoQuery(t *testing.T) {
	t.Parallel()
	s := benchServices(t)
	h, err := newHandler(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.resolver.LoadHosts(context.Background()); err != nil {
		t.Fatal(err)
	}
	statements := countStatements(t, s.db.Gorm)
	for i := 0; i < 300; i++ {
		for _, host := range []string{"brand-" + strconv.Itoa(i) + ".localhost", "login" + strconv.Itoa(i) + ".example.com"} {
			for _, path := range []string{"/login", "/", "/api/v1/me", "/.well-known/openid-configuration"} {
				if code := getHost(h, host, path); code != http.StatusNotFound {
					t.Fatalf("GET %s%s: %d, want 404", host, path, code)
				}
			}
		}
	}
	if n := statements.Load(); n != 0 {
		t.Fatalf("2,400 requests to unknown hosts made %d statements, want 0", n)
	}
	if code := getHost(h, "demo.localhost", "/login"); code != http.StatusOK {
		t.Fatalf("the known host: %d", code)
	}
	if statements.Load() == 0 {
		t.Fatal("the known host's first request made no statement; is the counter wired?")
	}
}

// BenchmarkUnknownHost compares GET /login on the known host demo.localhost
// (a cached tenant, the full page) with GET /login on hosts nobody serves,
// a new one on every request (the neutral 404). Both run the whole stack in
// process. The goal is unknown ≥ 0.9 × known in requests/s: an unknown host
// must not cost a query.
func BenchmarkUnknownHost(b *testing.B) {
	s := benchServices(b)
	h, err := newHandler(s)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.resolver.LoadHosts(context.Background()); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, host func(i int64) string, want int) {
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if code := getHost(h, host(next.Add(1)), "/login"); code != want {
					b.Errorf("status %d, want %d", code, want)
					return
				}
			}
		})
	}
	b.Run("host=known", func(b *testing.B) {
		run(b, func(int64) string { return "demo.localhost" }, http.StatusOK)
	})
	b.Run("host=unknown", func(b *testing.B) {
		run(b, func(i int64) string { return "x" + strconv.FormatInt(i, 36) + ".localhost" }, http.StatusNotFound)
	})
}
