package apptest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"gatehouse/app/db"
	"gatehouse/tenants"
)

// Visitor is one browser without the browser: a cookie jar and the
// server's dialer. It follows no redirects, so tests see each hop.
type Visitor struct {
	t      testing.TB
	srv    *Server
	client *http.Client
	// Header is sent with every request, e.g. an X-Forwarded-For to play
	// a visitor at another address behind a trusted proxy.
	Header http.Header
}

// Visitor returns a new visitor with an empty cookie jar.
func (s *Server) Visitor(t testing.TB) *Visitor {
	jar, _ := cookiejar.New(nil)
	c := *s.Client
	c.Jar = jar
	return &Visitor{t: t, srv: s, client: &c, Header: http.Header{}}
}

// Page is a response with its body read.
type Page struct {
	*http.Response
	Body string
}

// Get fetches path on host.
func (v *Visitor) Get(host, path string) Page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.srv.URL(host, path), nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

// Post submits form to path on host, as a same-origin browser form would.
func (v *Visitor) Post(host, path string, form url.Values) Page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodPost, v.srv.URL(host, path), strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+host+":"+v.srv.Port)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return v.do(req)
}

// Follow fetches the Location of a redirect, on the same host.
func (v *Visitor) Follow(host string, p Page) Page {
	v.t.Helper()
	loc := p.Header.Get("Location")
	if loc == "" {
		v.t.Fatalf("%s: no redirect (status %d)", p.Request.URL, p.StatusCode)
	}
	return v.Get(host, loc)
}

// Cookies returns the visitor's cookies for host.
func (v *Visitor) Cookies(host string) []*http.Cookie {
	u, _ := url.Parse(v.srv.URL(host, "/"))
	return v.client.Jar.Cookies(u)
}

// CookiesAt returns the visitor's cookies sent to path on host.
func (v *Visitor) CookiesAt(host, path string) []*http.Cookie {
	u, _ := url.Parse(v.srv.URL(host, path))
	return v.client.Jar.Cookies(u)
}

// SetCookiesAt plants cookies for path on host.
func (v *Visitor) SetCookiesAt(host, path string, cookies []*http.Cookie) {
	u, _ := url.Parse(v.srv.URL(host, path))
	for _, c := range cookies {
		c.Path = path
	}
	v.client.Jar.SetCookies(u, cookies)
}

// SetCookies plants cookies for host, as an attacker replaying them would.
func (v *Visitor) SetCookies(host string, cookies []*http.Cookie) {
	u, _ := url.Parse(v.srv.URL(host, "/"))
	v.client.Jar.SetCookies(u, cookies)
}

func (v *Visitor) do(req *http.Request) Page {
	v.t.Helper()
	for k, vs := range v.Header {
		req.Header[k] = vs
	}
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return Page{Response: resp, Body: string(b)}
}

// Tenants returns a tenant service on this installation's database and
// Redis, announcing changes to running servers as the console does. Tests
// use it to set a tenant's fields, theme and settings.
func (e *Env) Tenants() *tenants.Service {
	e.t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(ctx, e.Getenv("GATEHOUSE_DATABASE_URL"), quiet)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { d.Close() })
	opt, err := redis.ParseURL(e.Getenv("GATEHOUSE_REDIS_URL"))
	if err != nil {
		e.t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	e.t.Cleanup(func() { rdb.Close() })
	bus := tenants.NewBus(rdb, fmt.Sprintf("gatehouse:%d:tenants", opt.DB), quiet)
	return tenants.NewService(tenants.NewStore(d.Gorm), bus, e.Getenv("GATEHOUSE_BASE_DOMAIN"), quiet)
}

// DB opens this installation's database, for assertions on stored rows.
func (e *Env) DB() *db.DB {
	e.t.Helper()
	d, err := db.Open(context.Background(), e.Getenv("GATEHOUSE_DATABASE_URL"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { d.Close() })
	return d
}
