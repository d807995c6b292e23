package app_test

import (
	"net/http"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

// wantSecurityHeaders checks the headers SECURITY.md puts on every page.
func wantSecurityHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	for h, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

// TestRefusalsBeforeTheEngines covers the two answers written before a gin
// engine runs: a malformed Host header, refused before any tenant is looked
// up, and a cross-site form, refused by the cross-origin protection. Both
// carry the security headers of every page.
func TestRefusalsBeforeTheEngines(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_LOG_LEVEL", "info") // the refusals are logged at info
	if r := env.Run("tenant", "create", "--slug", "demo", "--name", "Demo Coffee"); r.Code != 0 {
		t.Fatalf("tenant create: %s", r.Stderr)
	}
	srv := env.Serve()

	get := func(host, path string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL("demo.localhost", path), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		return srv.Do(t, req)
	}

	t.Run("well-formed hosts are served", func(t *testing.T) {
		if resp, body := get("demo.localhost:"+srv.Port, "/login"); resp.StatusCode != 200 || !strings.Contains(body, "Demo Coffee") {
			t.Fatalf("demo login: %d", resp.StatusCode)
		}
		// A probe sent to an address, IPv6 included, still reaches /healthz.
		for _, host := range []string{"[::1]:" + srv.Port, "127.0.0.1:" + srv.Port} {
			if resp, body := get(host, "/healthz"); resp.StatusCode != 200 || body != "ok\n" {
				t.Errorf("%s/healthz: %d %q", host, resp.StatusCode, body)
			}
		}
	})

	t.Run("malformed host is a plain 400", func(t *testing.T) {
		for _, host := range []string{
			"demo.localhost:" + srv.Port + ".evil.com",
			"demo.localhost:8080.evil.com",
			"demo.localhost:99999",
			"demo.localhost:0",
			"demo.localhost:http",
			"console.localhost:1.evil.com",
			"demo_x.localhost",
		} {
			for _, path := range []string{"/login", "/healthz"} {
				resp, body := get(host, path)
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s%s: %d, want 400\n%s", host, path, resp.StatusCode, body)
					continue
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || !strings.HasPrefix(body, "Bad Request: ") || !strings.Contains(body, "Host header") {
					t.Errorf("%s%s: %q %q", host, path, ct, body)
				}
				if strings.Contains(body, "evil") || strings.Contains(body, "Demo") {
					t.Errorf("%s%s: the body echoes the host or names the tenant: %q", host, path, body)
				}
				wantSecurityHeaders(t, resp)
			}
		}
		if _, body := get("demo.localhost:8080.evil.com", "/login"); !strings.Contains(body, "port") {
			t.Errorf("a bad port is not named: %q", body)
		}
	})

	t.Run("cross-site form is a 403 page with the security headers", func(t *testing.T) {
		for name, set := range map[string]func(http.Header){
			"Sec-Fetch-Site": func(h http.Header) { h.Set("Sec-Fetch-Site", "cross-site") },
			"Origin":         func(h http.Header) { h.Set("Origin", "https://evil.example") },
		} {
			req, err := http.NewRequest(http.MethodPost, srv.URL("demo.localhost", "/login?next=<b>x</b>"), strings.NewReader("email=a@b.c&password=x"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			set(req.Header)
			resp, body := srv.Do(t, req)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s: %d, want 403\n%s", name, resp.StatusCode, body)
			}
			wantSecurityHeaders(t, resp)
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", name, ct)
			}
			if !strings.Contains(body, "<h1 class=\"headline\">This request was refused</h1>") || !strings.Contains(body, "sent from another site") {
				t.Errorf("%s: not the refusal page:\n%s", name, body)
			}
			// No inline script or style (the CSP would block it), nothing of
			// the request echoed, and no tenant named.
			for _, bad := range []string{"<style", "style=", "<script>", "onload", "<b>x</b>", "Demo", "evil"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s: the page holds %q:\n%s", name, bad, body)
				}
			}
		}
		if n := strings.Count(srv.Stdout.Log(), `"msg":"cross_origin_refused"`); n != 2 {
			t.Errorf("%d refusals logged, want 2:\n%s", n, srv.Stdout.Log())
		}
	})
}
