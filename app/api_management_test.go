package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/app/api/apitest"
	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// apiWorld is two tenants with machine apps, on one real server.
type apiWorld struct {
	env   *apptest.Env
	srv   *apptest.Server
	acme  *apitest.Client // on acme's host
	bravo *apitest.Client // on bravo's host
	// Machine tokens: acme's with both customer scopes, read only and
	// write only; bravo's with both.
	rw, ro, wo, bravoRW string
}

func machineToken(t *testing.T, srv *apptest.Server, host string, app createdApp, scopes ...string) string {
	t.Helper()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client)
	cc := clientcredentials.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, TokenURL: srv.URL(host, "/oauth/token"), Scopes: scopes}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials on %s: %v", host, err)
	}
	return tok.AccessToken
}

// newAPIWorld starts the server with settings (name, value pairs) set.
func newAPIWorld(t *testing.T, settings ...string) *apiWorld {
	t.Helper()
	env := appEnv(t)
	for i := 0; i+1 < len(settings); i += 2 {
		env.Set(settings[i], settings[i+1])
	}
	ts := env.Tenants()
	acme, err := ts.BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	minAge := 18.0
	if _, err := ts.SaveFields(context.Background(), acme.ID, []tenants.Field{
		{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureOptional},
		{Key: "age", Label: "Age", Type: tenants.TypeNumber, Capture: tenants.CaptureOptional, Validation: tenants.Validation{Min: &minAge}},
	}); err != nil {
		t.Fatal(err)
	}
	rw := createApp(t, env, "--tenant", "acme", "--name", "CRM", "--type", "machine", "--scope", "customers:read", "--scope", "customers:write")
	ro := createApp(t, env, "--tenant", "acme", "--name", "Reports", "--type", "machine", "--scope", "customers:read")
	wo := createApp(t, env, "--tenant", "acme", "--name", "Writer", "--type", "machine", "--scope", "customers:write")
	brw := createApp(t, env, "--tenant", "bravo", "--name", "Bravo CRM", "--type", "machine", "--scope", "customers:read", "--scope", "customers:write")
	srv := env.Serve()
	w := &apiWorld{env: env, srv: srv, acme: apitest.New(t, srv, "acme.localhost"), bravo: apitest.New(t, srv, "bravo.localhost")}
	w.rw = machineToken(t, srv, "acme.localhost", rw)
	w.ro = machineToken(t, srv, "acme.localhost", ro)
	w.wo = machineToken(t, srv, "acme.localhost", wo)
	w.bravoRW = machineToken(t, srv, "bravo.localhost", brw)
	return w
}

type customerOut struct {
	ID            string         `json:"id"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Status        string         `json:"status"`
	HasPassword   bool           `json:"has_password"`
	Profile       map[string]any `json:"profile"`
}

func (w *apiWorld) create(t *testing.T, c *apitest.Client, token string, body map[string]any) (customerOut, apitest.Response) {
	t.Helper()
	r := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/customers", Token: token, Body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create %v: %d %s", body, r.Status, r.Body)
	}
	var out customerOut
	r.JSON(t, &out)
	return out, r
}

// TestManagementAPIRefusals runs the cases every management route must
// refuse: no token, the wrong scope, another tenant's token, another
// tenant's customer, and bad input naming the field.
func TestManagementAPIRefusals(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	mine, _ := w.create(t, w.acme, w.rw, map[string]any{"email": "ada@example.com"})
	theirs, _ := w.create(t, w.bravo, w.bravoRW, map[string]any{"email": "bo@example.com"})

	type route struct {
		method, path string // path has {id} for the customer
		write        bool
		body         any
		bad          apitest.Request // a request whose input is wrong ({id} is filled)
		badField     string
	}
	badID := apitest.Request{Path: "/customers/not-a-uuid"}
	longKey := map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}
	routes := []route{
		{method: "POST", path: "/customers", write: true, body: map[string]any{"email": "new@example.com"},
			bad: apitest.Request{Path: "/customers", Body: map[string]any{"email": "not an address"}}, badField: "email"},
		{method: "GET", path: "/customers", bad: apitest.Request{Path: "/customers?limit=1000"}, badField: "limit"},
		{method: "GET", path: "/customers/by-email/{email}", bad: apitest.Request{Path: "/customers/by-email/nobody"}, badField: "email"},
		{method: "GET", path: "/customers/{id}", bad: badID, badField: "id"},
		{method: "PATCH", path: "/customers/{id}", write: true, body: map[string]any{"profile": map[string]any{"first_name": "Ada"}},
			bad: apitest.Request{Path: "/customers/{id}", Body: map[string]any{"profile": map[string]any{"age": 12}}}, badField: "age"},
		{method: "DELETE", path: "/customers/{id}", write: true, bad: badID, badField: "id"},
		{method: "POST", path: "/customers/{id}/disable", write: true, bad: apitest.Request{Path: "/customers/{id}/disable", Header: longKey}, badField: "Idempotency-Key"},
		{method: "POST", path: "/customers/{id}/enable", write: true, bad: apitest.Request{Path: "/customers/not-a-uuid/enable"}, badField: "id"},
		{method: "GET", path: "/customers/{id}/export", bad: apitest.Request{Path: "/customers/not-a-uuid/export"}, badField: "id"},
		{method: "GET", path: "/customers/{id}/identities", bad: apitest.Request{Path: "/customers/not-a-uuid/identities"}, badField: "id"},
		{method: "DELETE", path: "/customers/{id}/identities/google", write: true, bad: apitest.Request{Path: "/customers/not-a-uuid/identities/google"}, badField: "id"},
		{method: "DELETE", path: "/customers/{id}/sessions", write: true, bad: apitest.Request{Path: "/customers/not-a-uuid/sessions"}, badField: "id"},
		{method: "DELETE", path: "/customers/{id}/tokens", write: true, bad: apitest.Request{Path: "/customers/not-a-uuid/tokens"}, badField: "id"},
		{method: "POST", path: "/customers/{id}/password-reset", write: true, bad: apitest.Request{Path: "/customers/{id}/password-reset", Header: longKey}, badField: "Idempotency-Key"},
		{method: "POST", path: "/customers/{id}/verification", write: true, bad: apitest.Request{Path: "/customers/not-a-uuid/verification"}, badField: "id"},
	}
	fill := func(p, id, email string) string {
		return strings.NewReplacer("{id}", id, "{email}", apitest.Path(email)).Replace(p)
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			path := fill(rt.path, mine.ID, mine.Email)
			wrong := w.wo
			if rt.write {
				wrong = w.ro
			}
			problem := func(r apitest.Response, status int, typ string) apitest.Problem {
				t.Helper()
				if r.Status != status {
					t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
					t.Fatalf("Content-Type %q", ct)
				}
				p := r.Problem(t)
				if p.Type != "https://gatehouse.dev/problems/"+typ || p.Status != status || p.Detail == "" {
					t.Fatalf("problem %+v", p)
				}
				return p
			}
			t.Run("no token", func(t *testing.T) {
				r := w.acme.Do(t, apitest.Request{Method: rt.method, Path: path, Body: rt.body})
				problem(r, http.StatusUnauthorized, "unauthorized")
				if r.Header.Get("WWW-Authenticate") == "" {
					t.Fatal("no WWW-Authenticate")
				}
			})
			t.Run("wrong scope", func(t *testing.T) {
				r := w.acme.Do(t, apitest.Request{Method: rt.method, Path: path, Token: wrong, Body: rt.body})
				problem(r, http.StatusForbidden, "forbidden")
				if !strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_scope") {
					t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
				}
			})
			t.Run("other tenant's token", func(t *testing.T) {
				r := w.acme.Do(t, apitest.Request{Method: rt.method, Path: path, Token: w.bravoRW, Body: rt.body})
				problem(r, http.StatusUnauthorized, "unauthorized")
			})
			t.Run("other tenant's customer", func(t *testing.T) {
				switch rt.path {
				case "/customers":
					if rt.method == "GET" {
						var page struct {
							Customers []customerOut `json:"customers"`
						}
						w.acme.Get(t, "/customers?q=bo@", w.rw).JSON(t, &page)
						if len(page.Customers) != 0 {
							t.Fatalf("bravo's customer listed on acme: %+v", page.Customers)
						}
					}
					return
				}
				r := w.acme.Do(t, apitest.Request{Method: rt.method, Path: fill(rt.path, theirs.ID, theirs.Email), Token: w.rw, Body: rt.body})
				problem(r, http.StatusNotFound, "not-found")
			})
			t.Run("bad input", func(t *testing.T) {
				bad := rt.bad
				bad.Method, bad.Token, bad.BadInput = rt.method, w.rw, true
				bad.Path = fill(bad.Path, mine.ID, mine.Email)
				if bad.Body == nil && rt.method == "PATCH" {
					bad.Body = rt.body
				}
				p := problem(w.acme.Do(t, bad), http.StatusUnprocessableEntity, "validation")
				if !p.FieldNamed(rt.badField) {
					t.Fatalf("problem does not name %s: %+v", rt.badField, p)
				}
			})
		})
	}
	// bravo's customer is untouched by all of the above.
	r := w.bravo.Get(t, "/customers/"+theirs.ID, w.bravoRW)
	var got customerOut
	r.JSON(t, &got)
	if r.Status != http.StatusOK || got.Status != "active" || got.Email != "bo@example.com" {
		t.Fatalf("bravo's customer after acme's attempts: %d %s", r.Status, r.Body)
	}
}

func TestManagementAPICustomers(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	c := w.acme

	t.Run("create, read by id and by email", func(t *testing.T) {
		made, r := w.create(t, c, w.rw, map[string]any{"email": "Grace@Example.com", "password": "correct horse battery", "profile": map[string]any{"first_name": "Grace", "age": 40}})
		if made.Email != "grace@example.com" || !made.HasPassword || made.Profile["first_name"] != "Grace" || made.Profile["age"] != 40.0 {
			t.Fatalf("created %+v", made)
		}
		if r.Header.Get("ETag") == "" || r.Header.Get("Location") != "/api/v1/customers/"+made.ID {
			t.Fatalf("headers %v", r.Header)
		}
		var got customerOut
		g := c.Get(t, "/customers/"+made.ID, w.ro)
		g.JSON(t, &got)
		if g.Status != http.StatusOK || got.ID != made.ID || g.Header.Get("ETag") != r.Header.Get("ETag") {
			t.Fatalf("get: %d %s (etag %q vs %q)", g.Status, g.Body, g.Header.Get("ETag"), r.Header.Get("ETag"))
		}
		g = c.Get(t, "/customers/by-email/"+apitest.Path("GRACE@example.com"), w.ro)
		g.JSON(t, &got)
		if g.Status != http.StatusOK || got.ID != made.ID {
			t.Fatalf("by email: %d %s", g.Status, g.Body)
		}
		// The same address again is a conflict; the hosted form's messages
		// name the field.
		r = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/customers", Token: w.rw, Body: map[string]any{"email": "grace@example.com"}})
		if r.Status != http.StatusConflict {
			t.Fatalf("duplicate: %d %s", r.Status, r.Body)
		}
		r = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/customers", Token: w.rw, BadInput: true,
			Body: map[string]any{"email": "x@example.com", "password": "password", "profile": map[string]any{"age": "old", "shoe": 3}}})
		p := r.Problem(t)
		if r.Status != http.StatusUnprocessableEntity || !p.FieldNamed("password") || !p.FieldNamed("age") || !p.FieldNamed("shoe") {
			t.Fatalf("bad create: %d %s", r.Status, r.Body)
		}
		for _, e := range p.Errors {
			if e.Field == "age" && e.Message != "Age must be a number." {
				t.Fatalf("age message %q, want the hosted form's", e.Message)
			}
		}
		r = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/customers", Token: w.rw, BadInput: true, Body: `{"email": "y@example.com", "nickname": "Y"}`})
		if p := r.Problem(t); r.Status != http.StatusUnprocessableEntity || !p.FieldNamed("nickname") {
			t.Fatalf("unknown member: %d %s", r.Status, r.Body)
		}
	})

	t.Run("a retried create with one Idempotency-Key makes one customer", func(t *testing.T) {
		req := apitest.Request{Method: http.MethodPost, Path: "/customers", Token: w.rw, Body: map[string]any{"email": "once@example.com"},
			Header: map[string]string{"Idempotency-Key": "create-once-1"}}
		first := c.Do(t, req)
		second := c.Do(t, req)
		if first.Status != http.StatusCreated || second.Status != http.StatusCreated || string(first.Body) != string(second.Body) {
			t.Fatalf("retry: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
		}
		if second.Header.Get("Idempotent-Replayed") != "true" || second.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Fatalf("replay headers %v", second.Header)
		}
		var n int64
		w.env.DB().Gorm.Table("customers").Where("email = ?", "once@example.com").Count(&n)
		if n != 1 {
			t.Fatalf("%d customers after a retried create", n)
		}
		other := req
		other.Body = map[string]any{"email": "twice@example.com"}
		r := c.Do(t, other)
		if p := r.Problem(t); r.Status != http.StatusUnprocessableEntity || p.Type != "https://gatehouse.dev/problems/idempotency-key-reused" {
			t.Fatalf("same key, other body: %d %s", r.Status, r.Body)
		}
		// Keys are per app: another app's same key is its own request.
		bravo := req
		bravo.Token = w.bravoRW
		if r := w.bravo.Do(t, bravo); r.Status != http.StatusCreated {
			t.Fatalf("bravo with acme's key: %d %s", r.Status, r.Body)
		}
	})

	t.Run("merge patch with If-Match", func(t *testing.T) {
		made, r := w.create(t, c, w.rw, map[string]any{"email": "patch@example.com", "profile": map[string]any{"first_name": "Pat", "age": 30}})
		etag := r.Header.Get("ETag")
		patch := func(body any, ifMatch string) apitest.Response {
			h := map[string]string{}
			if ifMatch != "" {
				h["If-Match"] = ifMatch
			}
			return c.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/customers/" + made.ID, Token: w.rw, Body: body, ContentType: "application/merge-patch+json", Header: h})
		}
		r = patch(map[string]any{"profile": map[string]any{"first_name": "Patricia", "age": nil}}, etag)
		var got customerOut
		r.JSON(t, &got)
		if r.Status != http.StatusOK || got.Profile["first_name"] != "Patricia" || got.Profile["age"] != nil {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		fresh := r.Header.Get("ETag")
		if fresh == "" || fresh == etag {
			t.Fatalf("ETag did not move: %q -> %q", etag, fresh)
		}
		r = patch(map[string]any{"profile": map[string]any{"first_name": "Stale"}}, etag)
		if p := r.Problem(t); r.Status != http.StatusPreconditionFailed || p.Type != "https://gatehouse.dev/problems/precondition-failed" {
			t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
		}
		g := c.Get(t, "/customers/"+made.ID, w.rw)
		g.JSON(t, &got)
		if got.Profile["first_name"] != "Patricia" {
			t.Fatalf("a stale write went through: %s", g.Body)
		}
		r = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/customers/" + made.ID + "/disable", Token: w.rw, Header: map[string]string{"If-Match": etag}})
		if r.Status != http.StatusPreconditionFailed {
			t.Fatalf("stale disable: %d %s", r.Status, r.Body)
		}
		r = c.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/customers/" + made.ID, Token: w.rw, Header: map[string]string{"If-Match": etag}})
		if r.Status != http.StatusPreconditionFailed {
			t.Fatalf("stale delete: %d %s", r.Status, r.Body)
		}
		r = c.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/customers/" + made.ID, Token: w.rw, Body: map[string]any{"email": "new@example.com"}, BadInput: true})
		if p := r.Problem(t); r.Status != http.StatusUnprocessableEntity || !p.FieldNamed("email") {
			t.Fatalf("patching email: %d %s", r.Status, r.Body)
		}
	})

	t.Run("list pages with a cursor and searches", func(t *testing.T) {
		for _, e := range []string{"list-a@example.com", "list-b@example.com", "list-c@example.com"} {
			w.create(t, c, w.rw, map[string]any{"email": e})
		}
		var page struct {
			Customers  []customerOut `json:"customers"`
			NextCursor string        `json:"next_cursor"`
		}
		c.Get(t, "/customers?q=list-&limit=2", w.ro).JSON(t, &page)
		if len(page.Customers) != 2 || page.Customers[0].Email != "list-a@example.com" || page.NextCursor == "" {
			t.Fatalf("page 1: %+v", page)
		}
		next := page.NextCursor
		page.NextCursor = ""
		c.Get(t, "/customers?q=list-&limit=2&cursor="+next, w.ro).JSON(t, &page)
		if len(page.Customers) != 1 || page.Customers[0].Email != "list-c@example.com" || page.NextCursor != "" {
			t.Fatalf("page 2: %+v", page)
		}
		r := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/customers?cursor=***", Token: w.ro, BadInput: true})
		if p := r.Problem(t); r.Status != http.StatusUnprocessableEntity || !p.FieldNamed("cursor") {
			t.Fatalf("bad cursor: %d %s", r.Status, r.Body)
		}
	})

	t.Run("disable, enable, mail, identities, revoke, export, delete", func(t *testing.T) {
		made, _ := w.create(t, c, w.rw, map[string]any{"email": "life@example.com", "send_set_password_mail": true})
		base := "/customers/" + made.ID
		post := func(path string) apitest.Response {
			return c.Do(t, apitest.Request{Method: http.MethodPost, Path: base + path, Token: w.rw})
		}
		var got customerOut
		r := post("/disable")
		r.JSON(t, &got)
		if r.Status != http.StatusOK || got.Status != "disabled" {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		r = post("/enable")
		r.JSON(t, &got)
		if r.Status != http.StatusOK || got.Status != "active" {
			t.Fatalf("enable: %d %s", r.Status, r.Body)
		}
		for _, p := range []string{"/password-reset", "/verification"} {
			if r := post(p); r.Status != http.StatusAccepted {
				t.Fatalf("%s: %d %s", p, r.Status, r.Body)
			}
		}
		r = c.Get(t, base+"/identities", w.ro)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"identities":[]`) {
			t.Fatalf("identities: %d %s", r.Status, r.Body)
		}
		if r := c.Do(t, apitest.Request{Method: http.MethodDelete, Path: base + "/identities/google", Token: w.rw}); r.Status != http.StatusNotFound {
			t.Fatalf("unlink an unlinked provider: %d %s", r.Status, r.Body)
		}
		for _, p := range []string{"/sessions", "/tokens"} {
			if r := c.Do(t, apitest.Request{Method: http.MethodDelete, Path: base + p, Token: w.rw}); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE %s: %d %s", p, r.Status, r.Body)
			}
		}
		r = c.Get(t, base+"/export", w.ro)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"email":"life@example.com"`) || strings.Contains(string(r.Body), "password_hash") {
			t.Fatalf("export: %d %s", r.Status, r.Body)
		}
		if r := c.Do(t, apitest.Request{Method: http.MethodDelete, Path: base, Token: w.rw}); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := c.Get(t, base, w.ro); r.Status != http.StatusNotFound {
			t.Fatalf("after delete: %d %s", r.Status, r.Body)
		}
		var actions []string
		w.env.DB().Gorm.Table("audit_events").Where("target = ?", "customer:"+made.ID).Pluck("action", &actions)
		if len(actions) != 1 || actions[0] != "customer.deleted" {
			t.Fatalf("erasure audit: %v", actions)
		}
	})

	t.Run("CORS only for the tenant's spa origins", func(t *testing.T) {
		createApp(t, w.env, "--tenant", "acme", "--name", "SPA", "--type", "spa", "--redirect-uri", "https://app.example/cb", "--cors-origin", "https://app.example")
		for origin, allowed := range map[string]bool{"https://app.example": true, "https://evil.example": false} {
			req, _ := http.NewRequest(http.MethodOptions, w.srv.URL("acme.localhost", "/api/v1/customers"), nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "GET")
			resp, _ := w.srv.Do(t, req)
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if allowed != (got == origin) || (!allowed && got != "") {
				t.Fatalf("preflight from %s: Allow-Origin %q", origin, got)
			}
		}
	})

	t.Run("reference page from vendored Redoc", func(t *testing.T) {
		r := c.Get(t, "/docs", "")
		page := string(r.Body)
		if r.Status != http.StatusOK || !strings.Contains(page, `spec-url="/api/v1/openapi.json"`) {
			t.Fatalf("docs: %d %.300s", r.Status, page)
		}
		i := strings.Index(page, `<script src="`)
		if i < 0 || strings.Contains(page, "https://") {
			t.Fatalf("no local script, or an outside URL: %s", page)
		}
		src := page[i+len(`<script src="`):]
		src = src[:strings.Index(src, `"`)]
		resp, js := w.srv.Get(t, "acme.localhost", src)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(js, "Redoc") {
			t.Fatalf("%s: %d %s (%d bytes)", src, resp.StatusCode, resp.Header.Get("Content-Type"), len(js))
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") {
			t.Fatalf("docs CSP %q", csp)
		}
	})

	t.Run("unknown API path is a problem", func(t *testing.T) {
		for _, host := range []string{"acme.localhost", "nobody.localhost"} {
			resp, body := w.srv.Get(t, host, "/api/v1/customers/x/nothing-here")
			if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") || !strings.Contains(body, "/problems/not-found") {
				t.Fatalf("%s: %d %s %s", host, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
		// An unknown host's API answers as the known host's does, naming no tenant.
		resp, body := w.srv.Get(t, "nobody.localhost", "/api/v1/customers")
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "acme") || strings.Contains(body, "bravo") {
			t.Fatalf("unknown host: %d %s", resp.StatusCode, body)
		}
	})
}

// TestManagementAPIClientLimit: one app's tokens share a budget per
// minute; past it the API answers 429 with Retry-After, and another app
// is not held back.
func TestManagementAPIClientLimit(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t, "GATEHOUSE_API_CLIENT_LIMIT", "3")
	for i := 0; i < 3; i++ {
		if r := w.acme.Get(t, "/customers", w.ro); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := w.acme.Get(t, "/customers", w.ro)
	if p := r.Problem(t); r.Status != http.StatusTooManyRequests || p.Type != "https://gatehouse.dev/problems/too-many-requests" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth request: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := w.acme.Get(t, "/customers", w.rw); r.Status != http.StatusOK {
		t.Fatalf("another app: %d %s", r.Status, r.Body)
	}
}

// TestManagementAPITokenKinds: a customer's own token is not a machine
// token, and a revoked machine token is dead at once.
func TestManagementAPITokenKinds(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	c := apitest.New(t, w.srv, w.acme)
	app := newBrandApp(t, w.srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	tok, _ := w.signIn(t, app, w.srv.Visitor(t))
	r := c.Get(t, "/customers", tok.AccessToken)
	if p := r.Problem(t); r.Status != http.StatusForbidden || !strings.Contains(p.Detail, "machine") {
		t.Fatalf("customer token on management: %d %s", r.Status, r.Body)
	}

	crm := createApp(t, w.env, "--tenant", "acme", "--name", "CRM", "--type", "machine", "--scope", "customers:read")
	machine := machineToken(t, w.srv, w.acme, crm)
	if r := c.Get(t, "/customers", machine); r.Status != http.StatusOK {
		t.Fatalf("machine token: %d %s", r.Status, r.Body)
	}
	resp, body := w.srv.Do(t, formRequest(t, w.srv, w.acme, "/oauth/revoke", url.Values{"token": {machine}}, crm.ClientID, crm.ClientSecret))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if r := c.Get(t, "/customers", machine); r.Status != http.StatusUnauthorized {
		t.Fatalf("revoked machine token: %d %s", r.Status, r.Body)
	}
	if r := c.Get(t, "/customers", machine+"x"); r.Status != http.StatusUnauthorized {
		t.Fatalf("tampered token: %d %s", r.Status, r.Body)
	}
}
