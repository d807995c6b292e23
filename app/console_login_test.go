package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

// TestConsoleStaffCLI covers `gatehouse staff`: the password comes from
// stdin, roles are checked, and bad input names the flag.
func TestConsoleStaffCLI(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")

	r := runStaff(t, env, staffPassword+"\n", "create", "--email", "Root@Example.com", "--role", "platform-admin")
	if r.Code != 0 || !strings.Contains(r.Stdout, "created staff root@example.com (Platform admin)") {
		t.Fatalf("create: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	for name, c := range map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"no password":                {"", []string{"create", "--email", "a@example.com", "--role", "owner", "--tenant", "acme"}, "--password: give the password on the first line of stdin"},
		"weak password":              {"short\n", []string{"create", "--email", "a@example.com", "--role", "owner", "--tenant", "acme"}, "--password: must be at least 12 characters long"},
		"bad role":                   {staffPassword + "\n", []string{"create", "--email", "a@example.com", "--role", "god"}, "--role: \"god\" is not a role"},
		"tenant role needs a tenant": {staffPassword + "\n", []string{"create", "--email", "a@example.com", "--role", "owner"}, "--tenant: the role owner needs --tenant"},
		"unknown tenant":             {staffPassword + "\n", []string{"create", "--email", "a@example.com", "--role", "owner", "--tenant", "nope"}, "--tenant: no tenant has the slug \"nope\""},
		"duplicate":                  {staffPassword + "\n", []string{"create", "--email", "root@example.com", "--role", "platform-admin"}, "--email: root@example.com already has a staff account"},
		"bad email":                  {staffPassword + "\n", []string{"create", "--email", "nope", "--role", "platform-admin"}, "--email: \"nope\" is not a valid email address"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runStaff(t, env, c.stdin, c.args...)
			if r.Code != 2 || !strings.Contains(r.Stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.Code, r.Stderr, c.want)
			}
		})
	}
	t.Run("grant and list", func(t *testing.T) {
		mustStaff(t, env, "owner@acme.test", "owner", "acme")
		if r := runStaff(t, env, "", "grant", "--email", "root@example.com", "--role", "support", "--tenant", "acme"); r.Code != 0 {
			t.Fatalf("grant: %s", r.Stderr)
		}
		r := runStaff(t, env, "", "list", "--tenant", "acme")
		if r.Code != 0 || !strings.Contains(r.Stdout, "owner@acme.test") || !strings.Contains(r.Stdout, "root@example.com") {
			t.Fatalf("list: %q %q", r.Stdout, r.Stderr)
		}
	})
	t.Run("password keeps spaces and ignores CRLF", func(t *testing.T) {
		if r := runStaff(t, env, "  a new pass phrase  \r\n", "password", "--email", "owner@acme.test"); r.Code != 0 {
			t.Fatalf("password: %s", r.Stderr)
		}
		srv := env.Serve()
		b := newBrowser(t, srv)
		b.login("owner@acme.test", "  a new pass phrase  ")
	})
}

// TestConsoleLogin covers signing in and out of the console.
func TestConsoleLogin(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustStaff(t, env, "root@example.com", "platform-admin", "")
	srv := env.Serve()

	t.Run("anonymous is sent to sign in, with the way back", func(t *testing.T) {
		b := newBrowser(t, srv)
		r := b.get("/t/acme?q=x")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?return_to="+url.QueryEscape("/t/acme?q=x") {
			t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Location"))
		}
		r = b.getOn(consoleHost, "/t/acme", true)
		if r.StatusCode != http.StatusUnauthorized || r.Header.Get("HX-Redirect") == "" {
			t.Fatalf("htmx: %d %q", r.StatusCode, r.Header.Get("HX-Redirect"))
		}
		page := b.get("/login")
		if page.StatusCode != 200 || !strings.Contains(page.Body, `autocomplete="current-password"`) {
			t.Fatalf("login page %d", page.StatusCode)
		}
		if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("login page CSP %q", csp)
		}
	})

	t.Run("wrong password and unknown email read the same", func(t *testing.T) {
		b := newBrowser(t, srv)
		wrong := b.post("/login", url.Values{"email": {"root@example.com"}, "password": {"nope nope nope"}})
		unknown := b.post("/login", url.Values{"email": {"ghost@example.com"}, "password": {"nope nope nope"}})
		if wrong.StatusCode != 401 || unknown.StatusCode != 401 {
			t.Fatalf("statuses %d %d", wrong.StatusCode, unknown.StatusCode)
		}
		msg := "Wrong email or password."
		if !strings.Contains(wrong.Body, msg) || !strings.Contains(unknown.Body, msg) {
			t.Fatal("messages differ")
		}
	})

	t.Run("sign in, cookie, sign out revokes", func(t *testing.T) {
		b := newBrowser(t, srv)
		r := b.post("/login", url.Values{"email": {"ROOT@example.com"}, "password": {staffPassword}, "return_to": {"/tenants"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/tenants" {
			t.Fatalf("login: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		var cookie *http.Cookie
		for _, c := range r.Cookies() {
			if c.Name == "gh_console" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
			t.Fatalf("cookie %+v", cookie)
		}
		// A platform admin's home is the tenants page.
		if home := b.get("/"); home.StatusCode != http.StatusSeeOther || home.Header.Get("Location") != "/tenants" {
			t.Fatalf("home %d %q", home.StatusCode, home.Header.Get("Location"))
		}
		if page := b.get("/tenants"); page.StatusCode != 200 || !strings.Contains(page.Body, "root@example.com") {
			t.Fatalf("tenants %d", page.StatusCode)
		}
		// The same token replayed after logout is worthless.
		stolen := newBrowser(t, srv)
		u, _ := url.Parse(srv.URL(consoleHost, "/"))
		stolen.client.Jar.SetCookies(u, []*http.Cookie{{Name: "gh_console", Value: cookie.Value}})
		if r := stolen.get("/tenants"); r.StatusCode != 200 {
			t.Fatalf("token does not work before logout: %d", r.StatusCode)
		}
		if r := b.post("/logout", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout %d", r.StatusCode)
		}
		if r := stolen.get("/tenants"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("token still works after logout: %d", r.StatusCode)
		}
	})

	t.Run("return_to stays on the console", func(t *testing.T) {
		for _, evil := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example"} {
			b := newBrowser(t, srv)
			r := b.post("/login", url.Values{"email": {"root@example.com"}, "password": {staffPassword}, "return_to": {evil}})
			if loc := r.Header.Get("Location"); loc != "/" {
				t.Errorf("return_to %q led to %q", evil, loc)
			}
		}
	})

	t.Run("throttled after repeated failures", func(t *testing.T) {
		b := newBrowser(t, srv)
		var last resp
		for range 8 {
			last = b.post("/login", url.Values{"email": {"target@example.com"}, "password": {"guess guess guess"}})
		}
		if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
			t.Fatalf("after 8 failures: %d retry-after %q", last.StatusCode, last.Header.Get("Retry-After"))
		}
	})

	t.Run("staff sessions do not open tenant hosts", func(t *testing.T) {
		mustTenantCLI(t, env, "acme", "Acme Coffee")
		b := signedIn(t, srv, "root@example.com")
		var token string
		for _, c := range b.client.Jar.Cookies(&url.URL{Scheme: "http", Host: consoleHost + ":" + srv.Port}) {
			if c.Name == "gh_console" {
				token = c.Value
			}
		}
		other := newBrowser(t, srv)
		u, _ := url.Parse(srv.URL("acme.localhost", "/"))
		other.client.Jar.SetCookies(u, []*http.Cookie{{Name: "gh_console", Value: token}})
		if r := other.getOn("acme.localhost", "/account", false); r.StatusCode == 200 {
			t.Fatal("a console cookie opened a customer page")
		}
	})
}
