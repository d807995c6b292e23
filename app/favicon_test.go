package app_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
)

var iconLink = regexp.MustCompile(`<link rel="icon" href="([^"]+)"`)

// TestFavicons: every hosted page links its tenant's icon, a monogram in
// the brand's own colour until the tenant has a logo and then the logo;
// one tenant's icon never shows another's brand; the console has its own.
func TestFavicons(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "globex", "Globex Tea")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	srv := env.Serve()
	b := signedIn(t, srv, "owner@acme.test")
	if r := b.post("/t/acme/theme", themeValues("#0a7c59", "Acme Roasters")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("theme: %d", r.StatusCode)
	}

	icon := func(host string) (string, *http.Response, string) {
		t.Helper()
		_, page := srv.Get(t, host, "/login")
		m := iconLink.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s/login links no icon", host)
		}
		resp, body := srv.Get(t, host, m[1])
		return m[1], resp, body
	}
	apptest.Eventually(t, time.Second, func() error {
		if _, _, svg := icon("acme.localhost"); !strings.Contains(svg, `fill="#0a7c59"`) || !strings.Contains(svg, ">A</text>") {
			return fmt.Errorf("acme's icon is not its monogram: %s", svg)
		}
		return nil
	})
	_, resp, svg := icon("acme.localhost")
	if resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("icon headers: %v", resp.Header)
	}
	if _, _, other := icon("globex.localhost"); other == svg || !strings.Contains(other, ">G</text>") || strings.Contains(other, "#0a7c59") {
		t.Fatalf("globex shows acme's icon: %s", other)
	}
	if r, _ := srv.Get(t, "acme.localhost", "/favicon.ico"); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/favicon?v=") {
		t.Fatalf("/favicon.ico: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r, _ := srv.Get(t, "nobody.localhost", "/favicon"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown host's icon: %d", r.StatusCode)
	}

	before, _, _ := icon("acme.localhost")
	if r := b.upload("/t/acme/theme/logo", "logo.png", pngBytes(t, 8, 8)); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logo: %d", r.StatusCode)
	}
	apptest.Eventually(t, time.Second, func() error {
		href, r, _ := icon("acme.localhost")
		if href == before || r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/logo?v=") {
			return fmt.Errorf("with a logo, %s answers %d %q", href, r.StatusCode, r.Header.Get("Location"))
		}
		return nil
	})
	if _, r, _ := icon("globex.localhost"); r.StatusCode != http.StatusOK {
		t.Fatalf("acme's logo changed globex's icon: %d", r.StatusCode)
	}

	console := b.get("/t/acme/theme")
	m := iconLink.FindStringSubmatch(console.Body)
	if m == nil {
		t.Fatal("the console links no icon")
	}
	if r := b.get(m[1]); r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("console icon: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if r := b.get("/favicon.ico"); r.StatusCode != http.StatusFound || r.Header.Get("Location") != m[1] {
		t.Fatalf("console /favicon.ico: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}
