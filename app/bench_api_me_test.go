package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"gatehouse/app/accounts"
	"gatehouse/app/api"
	"gatehouse/app/apps"
	"gatehouse/app/db"
	"gatehouse/config"
	"gatehouse/tenants"
)

// benchAPIServer is the real handler on SQLite and miniredis with one
// tenant, a first-party spa app and a customer signed in through the
// headless endpoints; it returns the customer's access token. The API's
// request budgets are lifted, so the benchmark measures work, not 429s.
func benchAPIServer(b *testing.B) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.MigrateUp(ctx); err != nil {
		b.Fatal(err)
	}
	m := miniredis.RunT(b)
	rc, err := openRedis(ctx, "redis://"+m.Addr()+"/0", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rc.client.Close() })
	cfg := &config.Config{BaseDomain: "localhost", PublicScheme: "https", SecretKey: strings.Repeat("ab", 32), MailFrom: "Gatehouse <no-reply@example.com>", SMTPURL: "smtp://unused:1"}
	s, err := newServices(cfg, quiet, d, rc, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.close)
	s.apiLimits = api.Limits{PerIP: 1 << 30, PerClient: 1 << 30, Window: time.Minute}
	t, err := s.tenants.Create(ctx, tenants.NewTenant{Slug: "demo", Name: "Demo Coffee Co."})
	if err != nil {
		b.Fatal(err)
	}
	a, _, err := s.apps.For(t.ID).Create(ctx, apps.New{Name: "Bench app", Type: apps.SPA, RedirectURIs: []string{"https://app.example/cb"}, FirstParty: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.accounts.Register(ctx, t, accounts.Registration{Email: "bench@example.com", Password: "bench passphrase"}, accounts.Request{Host: "demo.localhost"}); err != nil {
		b.Fatal(err)
	}
	h, err := newHandler(s)
	if err != nil {
		b.Fatal(err)
	}
	verifier := oauth2.GenerateVerifier()
	body, _ := json.Marshal(map[string]string{"client_id": a.ClientID, "email": "bench@example.com", "password": "bench passphrase", "code_challenge": oauth2.S256ChallengeFromVerifier(verifier)})
	var granted struct {
		Code string `json:"authorization_code"`
	}
	benchPost(b, h, "/api/v1/authorize-challenge", "application/json", string(body), &granted)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {granted.Code}, "client_id": {a.ClientID}, "code_verifier": {verifier}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	benchPost(b, h, "/oauth/token", "application/x-www-form-urlencoded", form.Encode(), &tok)
	return h, tok.AccessToken
}

func benchPost(b *testing.B, h http.Handler, path, contentType, body string, out any) {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "https://demo.localhost"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("POST %s: %d %s", path, w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAPIMe is GET /api/v1/me with a customer's access token through
// the whole stack: the engine's middleware, tenant resolution, the API's
// CORS, per-address and per-client budgets (in Redis), the token check
// (ES256 signature, the jti's row, the app and the customer's status) and
// the customer's row. Compare with BenchmarkBareGinJSON; the goal is at
// least 3,000 requests/s on 2 cores.
func BenchmarkAPIMe(b *testing.B) {
	h, token := benchAPIServer(b)
	benchGetJSON(b, h, "/api/v1/me", token)
}

// BenchmarkBareGinJSON is the floor: gin with no middleware writing a
// fixed JSON object of /me's size.
func BenchmarkBareGinJSON(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/api/v1/me", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"id": "0190c8a0-0000-7000-8000-000000000001", "email": "bench@example.com", "email_verified": false,
			"status": "active", "has_password": true, "profile": gin.H{}, "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z", "last_login_at": nil})
	})
	benchGetJSON(b, e, "/api/v1/me", "token")
}

func benchGetJSON(b *testing.B, h http.Handler, path, token string) {
	get := func() int {
		req := httptest.NewRequest(http.MethodGet, "https://demo.localhost"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Errorf("GET %s: %d %s", path, w.Code, w.Body)
		}
		return w.Code
	}
	get()
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if get() != http.StatusOK {
				return
			}
		}
	})
	reportCPU(b, before)
}

// reportCPU adds the process's CPU time per request (every goroutine:
// the handler, the embedded Redis, the SQLite driver) and the requests per
// second that makes on 2 idle cores. The machine running benchmarks is
// shared, so wall-clock ns/op says more about the neighbours than about
// the code; CPU time per request does not depend on them.
func reportCPU(b *testing.B, before time.Duration) {
	used := cpuTime() - before
	perOp := float64(used.Microseconds()) / float64(b.N)
	b.ReportMetric(perOp, "cpu-µs/op")
	if perOp > 0 {
		b.ReportMetric(2e6/perOp, "req/s@2cpu")
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
