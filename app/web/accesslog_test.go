package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/assets"
)

// syncBuffer is a log sink the server's goroutines may write to while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns every JSON log line written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// newEngine is the engine's middleware as app/routes.go stacks it, with a
// real renderer, on a real HTTP server, logging JSON at level.
func newEngine(t *testing.T, level slog.Level) (*httptest.Server, *syncBuffer, *prometheus.Registry, *gin.Engine) {
	t.Helper()
	sink := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: level}))
	a, err := assets.New()
	if err != nil {
		t.Fatal(err)
	}
	render := web.NewRenderer(a, log)
	reg := prometheus.NewRegistry()
	metrics := web.NewMetrics(reg)
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(web.RequestIDs(), web.AccessLog(log), web.Recover(render, log), metrics.Middleware())
	e.GET("/healthz", web.Live)
	e.GET("/readyz", web.Ready())
	e.GET("/static/*file", gin.WrapH(a.Handler()))
	e.GET("/theme.css", func(c *gin.Context) { c.String(http.StatusOK, ":root{}") })
	e.GET("/sdk/v1/gatehouse.js", func(c *gin.Context) { c.String(http.StatusOK, "export {}") })
	e.GET("/login", func(c *gin.Context) { c.String(http.StatusOK, "login") })
	e.GET("/broken", func(c *gin.Context) { render.Error(c, apperr.New(apperr.Internal, "boom")) })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv, sink, reg, e
}

// TestCanceledRequestIs499AtInfo: a client that hangs up while its request
// is being worked on makes the handler fail with "context canceled". That
// is logged at info with status 499 and counted as 499, and no line at error
// says the server failed.
func TestCanceledRequestIs499AtInfo(t *testing.T) {
	srv, sink, reg, e := newEngine(t, slog.LevelInfo)
	a, _ := assets.New()
	render := web.NewRenderer(a, slog.New(slog.NewJSONHandler(sink, nil)))
	started, finished := make(chan struct{}), make(chan struct{})
	e.GET("/slow", func(c *gin.Context) {
		defer close(finished)
		close(started)
		<-c.Request.Context().Done() // a query or a render, cut short
		render.Error(c, apperr.Wrap(c.Request.Context().Err(), "find customer"))
	})

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("the request was answered; it should have been cut off")
	}
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler never saw the cancellation")
	}
	// The access log line is written after the handler returns.
	var access map[string]any
	for deadline := time.Now().Add(5 * time.Second); access == nil && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, l := range sink.lines(t) {
			if l["msg"] == "http_request" && l["path"] == "/slow" {
				access = l
			}
		}
	}
	if access == nil {
		t.Fatal("no access log line for /slow")
	}
	if access["level"] != "INFO" || access["status"] != float64(499) {
		t.Fatalf("access log: level %v status %v, want INFO 499", access["level"], access["status"])
	}
	for _, l := range sink.lines(t) {
		if l["level"] == "ERROR" {
			t.Errorf("an error was logged for a client that went away: %v", l)
		}
	}
	if n := count(t, reg, "/slow", "499"); n != 1 {
		t.Fatalf("gatehouse_http_requests_total{route=/slow,status=499} = %v, want 1", n)
	}
	if n := count(t, reg, "/slow", "500"); n != 0 {
		t.Fatalf("the request was also counted as a 500")
	}
}

// TestProbesAndStaticFilesAreNotLoggedAtInfo: health checks, readiness,
// static assets and theme.css write no access-log line at info, but are
// counted, and are logged at debug; an ordinary page and an error still
// are logged.
func TestProbesAndStaticFilesAreNotLoggedAtInfo(t *testing.T) {
	a, _ := assets.New()
	quiet := map[string]string{
		"/healthz":             "/healthz",
		"/readyz":              "/readyz",
		a.URL("app.css"):       "/static/*file",
		a.URL("htmx.min.js"):   "/static/*file",
		"/theme.css":           "/theme.css",
		"/sdk/v1/gatehouse.js": "/sdk/v1/gatehouse.js",
	}
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		srv, sink, reg, _ := newEngine(t, level)
		for path := range quiet {
			get(t, srv.URL+path, http.StatusOK)
		}
		get(t, srv.URL+"/login", http.StatusOK)
		get(t, srv.URL+"/broken", http.StatusInternalServerError)
		logged := map[string]string{}
		for _, l := range sink.lines(t) {
			if l["msg"] == "http_request" {
				logged[l["path"].(string)] = l["level"].(string)
			}
		}
		for path, route := range quiet {
			if level == slog.LevelInfo && logged[path] != "" {
				t.Errorf("%s was logged at %s", path, logged[path])
			}
			if level == slog.LevelDebug && logged[path] != "DEBUG" {
				t.Errorf("at debug, %s was logged at %q, want DEBUG", path, logged[path])
			}
			if n := count(t, reg, route, "200"); n < 1 {
				t.Errorf("%s was not counted in the metrics", path)
			}
		}
		if logged["/login"] != "INFO" || logged["/broken"] != "ERROR" {
			t.Errorf("ordinary requests: /login at %q, /broken at %q, want INFO and ERROR", logged["/login"], logged["/broken"])
		}
	}
}

func get(t *testing.T, url string, want int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	// Read to the end: the last chunk is sent after the middleware (and
	// its log line) has run.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, want)
	}
}

// count reads gatehouse_http_requests_total for route and status (0 when
// no such series exists).
func count(t *testing.T, reg *prometheus.Registry, route, status string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gatehouse_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["route"] == route && labels["status"] == status {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
