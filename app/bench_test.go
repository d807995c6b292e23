package app

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// BenchmarkLoginPage serves GET /login on a tenant host through the whole
// stack (cross-origin check, host switch, request id, access log, recovery,
// security headers, metrics, tenant resolution, the logo and provider
// lookups, and the templ render of the log-in and sign-up forms), in
// process. Compare with BenchmarkBareGin, a gin handler writing a fixed
// string.
func BenchmarkLoginPage(b *testing.B) {
	benchServe(b, benchServer(b), "demo.localhost")
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
