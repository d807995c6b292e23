package app_test

import (
	"net/http"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

// TestBrandedNotFound: an unknown path on a tenant's host is that brand's
// themed 404 with a link home, never another brand's; an unknown host
// keeps the neutral 404 that names no brand; the console has its own.
func TestBrandedNotFound(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "globex", "Globex Tea")
	srv := env.Serve()

	resp, body := srv.Get(t, "acme.localhost", "/no/such/page")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown path on acme: %d", resp.StatusCode)
	}
	for _, want := range []string{`data-testid="brand-not-found"`, "We can't find that page", "Acme Coffee", `href="/"`, "/theme.css?v="} {
		if !strings.Contains(body, want) {
			t.Fatalf("acme's 404 lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Globex") {
		t.Fatal("acme's 404 names globex")
	}
	if _, body := srv.Get(t, "globex.localhost", "/nope"); !strings.Contains(body, "Globex Tea") || strings.Contains(body, "Acme") {
		t.Fatalf("globex's 404 is not globex's:\n%s", body)
	}

	resp, body = srv.Get(t, "nobody.localhost", "/no/such/page")
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "brand-not-found") || strings.Contains(body, "theme.css") {
		t.Fatalf("unknown host: %d, want the neutral 404:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "Page not found") {
		t.Fatalf("unknown host's 404 is not the neutral page:\n%s", body)
	}

	resp, body = srv.Get(t, consoleHost, "/no/such/page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `data-testid="console-not-found"`) || !strings.Contains(body, "console.") {
		t.Fatalf("console 404: %d\n%s", resp.StatusCode, body)
	}
}
