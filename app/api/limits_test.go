package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/api"
	"gatehouse/app/api/apitest"
	"gatehouse/app/apptest"
	"gatehouse/app/ratelimit"
	"gatehouse/tenants"
)

// TestPerIPLimit runs the framework on real Redis (or miniredis) with a
// budget of two requests a minute: the third gets a 429 problem with
// Retry-After, the next address and the next tenant are not held back.
func TestPerIPLimit(t *testing.T) {
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	raw, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]*apitest.Doc{
		"acme.localhost":  apitest.Parse(t, raw, "http://acme.localhost/api/v1"),
		"bravo.localhost": apitest.Parse(t, raw, "http://bravo.localhost/api/v1"),
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	acme, bravo := &tenants.Tenant{ID: uuid.New()}, &tenants.Tenant{ID: uuid.New()}
	g := e.Group(api.Base, func(c *gin.Context) {
		t := acme
		if c.Request.Host == "bravo.localhost" {
			t = bravo
		}
		c.Request = c.Request.WithContext(tenants.WithTenant(c.Request.Context(), t))
	})
	api.Mount(g, api.Deps{
		Document: raw, Limiter: ratelimit.New(rdb, "test:"+uuid.NewString()+":", nil),
		Limits: api.Limits{PerIP: 2, PerClient: 2, Window: time.Minute},
	})
	get := func(host, ip string) *http.Response {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+host+"/api/v1/openapi.json", nil)
		req.RemoteAddr = ip + ":1234"
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		resp := w.Result()
		apitest.Validate(t, docs[host], req, nil, resp, w.Body.Bytes())
		return resp
	}
	for i := 0; i < 2; i++ {
		if r := get("acme.localhost", "192.0.2.1"); r.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, r.StatusCode)
		}
	}
	r := get("acme.localhost", "192.0.2.1")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("third request: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if r := get("acme.localhost", "192.0.2.2"); r.StatusCode != http.StatusOK {
		t.Fatalf("another address: %d", r.StatusCode)
	}
	if r := get("bravo.localhost", "192.0.2.1"); r.StatusCode != http.StatusOK {
		t.Fatalf("the same address on another tenant: %d", r.StatusCode)
	}
	// IPv6 addresses count by /64.
	get("acme.localhost", "[2001:db8::1]")
	get("acme.localhost", "[2001:db8::2]")
	if r := get("acme.localhost", "[2001:db8::3]"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third address of one /64: %d", r.StatusCode)
	}
}
