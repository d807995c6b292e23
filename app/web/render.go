// Package web is Gatehouse's HTTP plumbing: rendering templ components, the
// one error mapper, request ids, access logs, panic recovery, security
// headers, metrics and health checks. Feature handlers use it; it knows no
// feature.
package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
	"gatehouse/assets"
	"gatehouse/tenants"
	"gatehouse/views/hosted"
	"gatehouse/views/layout"
)

// Renderer writes pages and error pages. It holds the asset URLs every page
// links to, resolved once.
type Renderer struct {
	log     *slog.Logger
	cssURL  string
	htmxURL string
	uiURL   string
}

// NewRenderer returns a renderer using a's content-hashed URLs.
func NewRenderer(a *assets.Assets, log *slog.Logger) *Renderer {
	return &Renderer{log: log, cssURL: a.URL("app.css"), htmxURL: a.URL("htmx.min.js"), uiURL: a.URL("ui.js")}
}

// Page returns the layout settings shared by every page, titled title.
func (r *Renderer) Page(title string) layout.Page {
	return layout.Page{Title: title, Lang: "en", CSSURL: r.cssURL, HTMXURL: r.htmxURL, UIURL: r.uiURL}
}

// HTML renders c with status. An error while rendering can only be logged:
// the status line is already sent.
func (r *Renderer) HTML(c *gin.Context, status int, comp templ.Component) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := comp.Render(c.Request.Context(), c.Writer); err != nil {
		if ClientGone(c) {
			r.log.Info("client_disconnected", "request_id", RequestID(c), "path", c.Request.URL.Path)
			return
		}
		r.log.Error("render_failed", "request_id", RequestID(c), "error", err)
	}
}

// Error is the one place a failed request becomes a response: the status
// from StatusOf, a neutral page (or JSON for API callers) with a safe
// message, and a log line carrying the request id for anything internal.
func (r *Renderer) Error(c *gin.Context, err error) {
	if ClientGone(c) {
		// The failure is most likely the cancellation itself, and nobody
		// will read the page: a 499 at info, not a 500 at error.
		r.log.Info("client_disconnected", "request_id", RequestID(c), "method", c.Request.Method, "path", c.Request.URL.Path)
		c.AbortWithStatus(StatusClientClosed)
		return
	}
	status := StatusOf(err)
	if status >= 500 && apperr.CodeOf(err) != apperr.Unavailable {
		r.log.Error("request_failed", "request_id", RequestID(c), "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
	} else if apperr.Unreachable(err) {
		r.log.Warn("dependency_unreachable", "request_id", RequestID(c), "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
	}
	if errors.Is(err, tenants.ErrSuspended) {
		// An operator took the tenant offline: not a fault to page anyone for.
		c.Set(expectedKey, true)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		SetRetryAfter(c, err)
	}
	if wantsJSON(c) {
		body := gin.H{"error": string(apperr.CodeOf(err)), "message": PublicMessage(err)}
		if e, ok := apperr.As(err); ok && e.Field != "" {
			body["field"] = e.Field
		}
		c.AbortWithStatusJSON(status, body)
		return
	}
	switch status {
	case http.StatusNotFound:
		r.HTML(c, status, hosted.NotFound(r.neutral("Page not found")))
	case http.StatusServiceUnavailable:
		if page, ok := c.Get(unavailableKey); ok {
			if comp := page.(func(*gin.Context) templ.Component)(c); comp != nil {
				r.HTML(c, status, comp)
				break
			}
		}
		r.HTML(c, status, hosted.Unavailable(r.neutral("Temporarily unavailable")))
	case http.StatusInternalServerError:
		r.HTML(c, status, hosted.ServerError(r.neutral("Something went wrong"), RequestID(c)))
	default:
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(status, PublicMessage(err))
	}
	c.Abort()
}

const unavailableKey = "web.unavailable"

// UnavailablePage makes the 503 pages of the engine it is used on come
// from page: the brand's themed page on a tenant host, the console's own
// on the console. page returns nil to fall back to the neutral page.
func UnavailablePage(page func(c *gin.Context) templ.Component) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(unavailableKey, page)
		c.Next()
	}
}

// neutral is the page frame of error pages: no tenant theme, no indexing.
func (r *Renderer) neutral(title string) layout.Page {
	p := r.Page(title)
	p.NoIndex = true
	return p
}

// NotFound answers any route that does not exist, on any host, with the same
// neutral page an unknown host gets.
func (r *Renderer) NotFound(c *gin.Context) {
	r.Error(c, apperr.New(apperr.NotFound, "page not found"))
}

// retryAfter is an error that knows when the caller may try again.
type retryAfter interface{ RetryAfterSeconds() int }

// SetRetryAfter sets the Retry-After header for a throttled or overloaded
// request: the error's own delay when it has one, else 5 seconds.
func SetRetryAfter(c *gin.Context, err error) {
	secs := 5
	var ra retryAfter
	if errors.As(err, &ra) {
		secs = ra.RetryAfterSeconds()
	}
	c.Header("Retry-After", strconv.Itoa(secs))
}

func wantsJSON(c *gin.Context) bool {
	accept := c.GetHeader("Accept")
	return len(c.Request.URL.Path) >= 5 && c.Request.URL.Path[:5] == "/api/" ||
		accept == "application/json"
}
