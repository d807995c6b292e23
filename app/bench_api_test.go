package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/app/apptest"
)

// BenchmarkAPIListMillion serves GET /api/v1/customers through the real
// server (HTTP on loopback, every middleware, bearer verification, both
// rate limits in Redis) for a tenant of 1,000,000 customers on PostgreSQL:
// the first page, an email-prefix search, and a page deep in the list by
// its cursor. "healthz" is the floor: a trivial handler behind the same
// server, client and connection pool.
func BenchmarkAPIListMillion(b *testing.B) {
	if os.Getenv(apptest.EnvDatabase) == "" {
		b.Skip("needs PostgreSQL: set " + apptest.EnvDatabase)
	}
	env := apptest.New(b)
	env.Set("GATEHOUSE_API_IP_LIMIT", "1000000000")
	env.Set("GATEHOUSE_API_CLIENT_LIMIT", "1000000000")
	env.Set("GATEHOUSE_LOG_LEVEL", "warn")
	if r := env.Run("tenant", "create", "--slug", "acme", "--name", "Acme"); r.Code != 0 {
		b.Fatal(r.Stderr)
	}
	r := env.Run("app", "create", "--json", "--tenant", "acme", "--name", "CRM", "--type", "machine", "--scope", "customers:read")
	var app createdApp
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &app) != nil {
		b.Fatalf("app create: %s %s", r.Stdout, r.Stderr)
	}
	d := env.DB()
	err := d.Gorm.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at)
		SELECT gen_random_uuid(), (SELECT id FROM tenants WHERE slug = 'acme'), 'user' || lpad(g::text, 7, '0') || '@example.com', true, 'active',
		       jsonb_build_object('first_name', (ARRAY['Ann','Bob','Cleo','Dev','Eli','Fay','Gus','Hana'])[1 + g % 8] || g, 'last_name', 'Smith'),
		       now(), now()
		FROM generate_series(1, 1000000) g`).Error
	if err != nil {
		b.Fatal(err)
	}
	d.Gorm.Exec("ANALYZE customers")
	srv := env.Serve()
	host := "acme.localhost"
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client)
	tok, err := (&clientcredentials.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, TokenURL: srv.URL(host, "/oauth/token")}).Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// get may run on RunParallel's goroutines, so it reports with Error.
	get := func(b *testing.B, path string, auth bool) []byte {
		req, _ := http.NewRequest(http.MethodGet, srv.URL(host, path), nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		resp, err := srv.Client.Do(req)
		if err != nil {
			b.Error(err)
			return nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("%s: %d %s", path, resp.StatusCode, body)
			return nil
		}
		return body
	}
	var page struct {
		Customers  []json.RawMessage `json:"customers"`
		NextCursor string            `json:"next_cursor"`
	}
	if err := json.Unmarshal(get(b, "/api/v1/customers?q=user05&limit=25", true), &page); err != nil || page.NextCursor == "" {
		b.Fatalf("deep page cursor: %v", err)
	}
	// Interleaved rounds on one data set (Go names the repeats #01, #02…;
	// make bench-go folds them for benchstat): filling 1M rows takes
	// longer than all the rounds.
	for range apptest.BenchRounds() {
		for _, bc := range []struct {
			name, path string
			auth       bool
		}{
			{"healthz", "/healthz", false},
			{"first-page", "/api/v1/customers?limit=25", true},
			{"email-prefix", "/api/v1/customers?q=user0512&limit=25", true},
			{"next-page", "/api/v1/customers?q=user05&limit=25&cursor=" + page.NextCursor, true},
		} {
			b.Run(bc.name, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						get(b, bc.path, bc.auth)
					}
				})
			})
		}
	}
}
