package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/app/db"
	"gatehouse/config"
	"gatehouse/tenants"
)

// BenchmarkLoginPage serves GET /login on a tenant host through the whole
// stack (cross-origin check, host switch, request id, access log, recovery,
// security headers, metrics, tenant resolution, templ render), in process.
// Compare with BenchmarkBareGin, a gin handler writing a fixed string.
func BenchmarkLoginPage(b *testing.B) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if _, err := d.MigrateUp(ctx); err != nil {
		b.Fatal(err)
	}
	store := tenants.NewStore(d.Gorm)
	if _, err := tenants.NewService(store, nil, "localhost", quiet).Create(ctx, tenants.NewTenant{Slug: "demo", Name: "Demo Coffee Co."}); err != nil {
		b.Fatal(err)
	}
	cfg := &config.Config{BaseDomain: "localhost", PublicScheme: "https"}
	h, err := newHandler(&services{
		cfg: cfg, log: quiet,
		resolver: tenants.NewResolver(store, "localhost", tenants.ResolverOptions{}),
		metrics:  prometheus.NewRegistry(),
	})
	if err != nil {
		b.Fatal(err)
	}
	benchServe(b, h, "demo.localhost")
}

// BenchmarkBareGin is the floor: gin with no middleware writing a short
// HTML string.
func BenchmarkBareGin(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/login", func(c *gin.Context) {
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte("<!doctype html><title>Log in</title><p>Demo Coffee Co.</p>"))
	})
	benchServe(b, e, "demo.localhost")
}

func benchServe(b *testing.B, h http.Handler, host string) {
	req := httptest.NewRequest(http.MethodGet, "http://"+host+"/login", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d", w.Code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "http://"+host+"/login", nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
}
