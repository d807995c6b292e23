package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/apperr"
)

const requestIDKey = "gatehouse.request_id"

// RequestIDs gives every request an id, taken from a well-formed incoming
// X-Request-ID (set by a trusted proxy) or made fresh, and echoes it back.
func RequestIDs() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// RequestID returns the current request's id.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// expectedKey marks a request whose 5xx answer is expected, such as a
// suspended tenant's 503, so AccessLog keeps it at INFO.
const expectedKey = "web.expected_failure"

// AccessLog writes one structured line per request. It logs the path without
// the query string, because queries carry tokens (verify and reset links).
// Probes and static files (QuietRoutes) are logged at debug only: a load
// balancer's health checks and every page's CSS would otherwise fill the
// log, and the metrics count them anyway. A request whose client went away
// is logged at info as 499, not as the server's error.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := StatusOfRequest(c)
		level := slog.LevelInfo
		switch {
		case status >= 500 && !c.GetBool(expectedKey):
			level = slog.LevelError
		case quietRoutes[c.FullPath()]:
			level = slog.LevelDebug
		}
		if !log.Enabled(c.Request.Context(), level) {
			return
		}
		log.LogAttrs(c.Request.Context(), level, "http_request",
			slog.String("request_id", RequestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("host", c.Request.Host),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

// quietRoutes are the route templates whose successful requests the access
// log writes at debug only: liveness and readiness probes, the metrics
// endpoint, and static files (the content-hashed assets under /static, which
// hold the SDK too, the SDK's stable aliases, a tenant's theme.css and logo).
// An error on one of them is still logged at error.
var quietRoutes = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true,
	"/static/*file": true, "/theme.css": true, "/logo": true,
	// The web SDK's stable aliases of its files under /static (app.SDKPath).
	"/sdk/v1/gatehouse.js": true, "/sdk/v1/gatehouse.d.ts": true,
}

// StatusClientClosed is the status recorded for a request whose client
// disconnected before it was answered, after nginx's 499: nobody read the
// answer, and the failure it caused is not the server's.
const StatusClientClosed = 499

// ClientGone reports whether the client of c has disconnected: the server
// cancels a request's context when its connection closes.
func ClientGone(c *gin.Context) bool {
	return errors.Is(c.Request.Context().Err(), context.Canceled)
}

// StatusOfRequest is the status the access log and the metrics record: the
// written status, or 499 when the client went away before a successful
// answer was written (a handler then fails with "context canceled").
func StatusOfRequest(c *gin.Context) int {
	status := c.Writer.Status()
	if ClientGone(c) && (status >= 500 || !c.Writer.Written()) {
		return StatusClientClosed
	}
	return status
}

// Recover turns a panic into the neutral 500 page, and logs the stack with
// the request id so support can find it from the reference on the page.
func Recover(r *Renderer, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic", "request_id", RequestID(c), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					r.Error(c, apperr.New(apperr.Internal, "panic"))
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

// SecurityHeaders sets the headers of SECURITY.md on every response next
// writes: a CSP with no inline script, no framing, no MIME sniffing, and a
// strict referrer policy. It wraps the whole handler, outside the
// cross-origin check and the host switch, so the answers written before
// either gin engine runs (a cross-site refusal, a malformed Host) carry them
// too. A page that may be framed (the console's theme preview) overrides
// them itself. hsts adds Strict-Transport-Security for https deployments.
func SecurityHeaders(next http.Handler, hsts bool) http.Handler {
	const csp = cspCommon + "; form-action 'self'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

const cspCommon = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// FormsMayLeave is for the pages of a tenant's host, the login UI of its
// OpenID Provider: their CSP has no form-action. A sign-in form posts to
// the host, and the answer redirects on, through the provider's callback,
// to the app's redirect URI on another origin. Chromium applies
// form-action to every redirect a form submission follows, so
// "form-action 'self'" would stop every app's sign-in at the last hop
// (TestBrowserSPASignInAndSingleSignOn). The rest of the policy stands:
// no inline or foreign script, so there is no injected form to fear.
func FormsMayLeave(c *gin.Context) {
	c.Header("Content-Security-Policy", cspCommon)
	c.Next()
}

// Metrics counts requests and their latency by route template (never the
// raw path, whose cardinality a caller controls).
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// Middleware records each request.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(StatusOfRequest(c))).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
}
