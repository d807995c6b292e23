package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/argon2"

	"gatehouse/app/accounts"
	"gatehouse/app/db"
	"gatehouse/app/passwords"
	"gatehouse/config"
	"gatehouse/tenants"
)

// benchServer is the real handler on SQLite and miniredis with one tenant
// and one customer, for in-process benchmarks of the customer pages.
func benchServer(b *testing.B) http.Handler {
	b.Helper()
	h, err := newHandler(benchServices(b))
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// benchServices are the services behind benchServer: SQLite and miniredis,
// the tenant "demo" and its customer bench@example.com.
func benchServices(b testing.TB) *services {
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
	t, err := s.tenants.Create(ctx, tenants.NewTenant{Slug: "demo", Name: "Demo Coffee Co."})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.accounts.Register(ctx, t, accounts.Registration{Email: "bench@example.com", Password: "bench passphrase"}, accounts.Request{Host: "demo.localhost"}); err != nil {
		b.Fatal(err)
	}
	return s
}

func postLogin(h http.Handler) int {
	form := url.Values{"email": {"bench@example.com"}, "password": {"bench passphrase"}}
	req := httptest.NewRequest(http.MethodPost, "https://demo.localhost/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// BenchmarkPasswordLogin is a full POST /login with the right password:
// throttle checks in Redis, the customer lookup, argon2id (m=19 MiB, t=2,
// p=1), the login stamp, the audit event and a new session. Compare with
// BenchmarkRawArgon2id: the goal is at least 90% of its throughput.
func BenchmarkPasswordLogin(b *testing.B) {
	h := benchServer(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code := postLogin(h); code != http.StatusSeeOther {
				b.Errorf("status %d", code)
				return
			}
		}
	})
}

// BenchmarkRawArgon2id is the ceiling: argon2id with the same parameters
// and nothing else, on all cores.
func BenchmarkRawArgon2id(b *testing.B) {
	p := passwords.Default
	salt := []byte("0123456789abcdef")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			argon2.IDKey([]byte("bench passphrase"), salt, p.Time, p.Memory, p.Threads, 32)
		}
	})
}

// BenchmarkLoginOverload offers ten times as many concurrent logins as
// there are hashing slots and reports the peak heap: the semaphore must
// keep it near what the slots need (slots × 19 MiB) however many wait,
// answering the excess with 503 and Retry-After instead.
func BenchmarkLoginOverload(b *testing.B) {
	h := benchServer(b)
	slots := runtime.NumCPU()
	for _, load := range []int{1, 10} {
		b.Run(map[int]string{1: "1x", 10: "10x"}[load], func(b *testing.B) {
			runtime.GC()
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var ms runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}
			}()
			var busy atomic.Int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				for g := 0; g < slots*load; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if postLogin(h) == http.StatusServiceUnavailable {
							busy.Add(1)
						}
					}()
				}
				wg.Wait()
			}
			b.StopTimer()
			close(stop)
			<-sampled
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(busy.Load())/float64(b.N), "503s/op")
		})
	}
}
