package app_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

// TestConsoleAppSnippets: each app on the console's apps page comes with
// copy-ready snippets for its type, and each works as pasted: the spa's SDK
// script loads from the tenant host, the discovery URL answers with the
// issuer, and the machine's curl call, with its secret, gets a token.
// The copy buttons come from a script file, as the console's CSP
// (script-src 'self', no inline script) requires.
func TestConsoleAppSnippets(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	spa := createApp(t, env, "--tenant", "acme", "--name", "Shop SPA", "--type", "spa", "--redirect-uri", "http://shop.localhost:3000/", "--cors-origin", "http://shop.localhost:3000")
	web := createApp(t, env, "--tenant", "acme", "--name", "Shop web", "--type", "web", "--redirect-uri", "https://shop.example/callback")
	native := createApp(t, env, "--tenant", "acme", "--name", "Shop app", "--type", "native", "--redirect-uri", "com.acme.shop:/callback")
	machine := createApp(t, env, "--tenant", "acme", "--name", "CRM", "--type", "machine", "--scope", "customers:read")
	srv := env.Serve()
	const acme = "acme.localhost"
	issuer := srv.URL(acme, "")
	b := signedIn(t, srv, "admin@acme.test")

	page := b.get("/t/acme/apps")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("apps page: %d", page.StatusCode)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("console CSP: %q", csp)
	}
	// snippets returns an app's blocks by label, as the page shows them.
	snippets := func(clientID string) map[string]string {
		t.Helper()
		re := regexp.MustCompile(`(?s)<div class="cx-panel cx-snippets" data-testid="snippets" data-client-id="` + regexp.QuoteMeta(clientID) + `".*?</div>\s*<p class="field-hint">`)
		panel := re.FindString(page.Body)
		if panel == "" {
			t.Fatalf("no snippets for %s", clientID)
		}
		out := map[string]string{}
		for _, m := range regexp.MustCompile(`(?s)data-copy="([^"]+)"[^>]*>Copy</button></div><pre class="cx-code" id="([^"]+)" data-testid="snippet-([^"]+)">(.*?)</pre>`).FindAllStringSubmatch(panel, -1) {
			if m[1] != m[2] {
				t.Errorf("a copy button copies #%s, not its block #%s", m[1], m[2])
			}
			out[html.UnescapeString(m[3])] = html.UnescapeString(m[4])
		}
		return out
	}

	t.Run("spa: script tag and createClient", func(t *testing.T) {
		s := snippets(spa.ClientID)["Add to your page"]
		want := `import { createClient } from "` + issuer + `/sdk/v1/gatehouse.js";`
		if !strings.Contains(s, `<script type="module">`) || !strings.Contains(s, want) ||
			!strings.Contains(s, `createClient({ clientId: "`+spa.ClientID+`", redirectUri: "http://shop.localhost:3000/" })`) {
			t.Fatalf("spa snippet:\n%s", s)
		}
		resp, body := srv.Get(t, acme, "/sdk/v1/gatehouse.js")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(body, "export function createClient") {
			t.Fatalf("the script the snippet imports: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
	t.Run("web and native: discovery, client id, redirect", func(t *testing.T) {
		for _, a := range []struct {
			app      createdApp
			redirect string
		}{{web, "https://shop.example/callback"}, {native, "com.acme.shop:/callback"}} {
			s := snippets(a.app.ClientID)
			if s["Discovery URL"] != issuer+"/.well-known/openid-configuration" || s["Client id"] != a.app.ClientID || s["Redirect URI"] != a.redirect {
				t.Fatalf("%s snippets: %v", a.app.Type, s)
			}
		}
		resp, body := srv.Get(t, acme, "/.well-known/openid-configuration")
		var doc struct{ Issuer string }
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil || doc.Issuer != issuer {
			t.Fatalf("the discovery URL shown: %d %.200s", resp.StatusCode, body)
		}
	})
	t.Run("machine: the curl call works as pasted", func(t *testing.T) {
		s := snippets(machine.ClientID)["Get an access token"]
		m := regexp.MustCompile(`^curl -u "([^:"]+):\$CLIENT_SECRET" -d grant_type=client_credentials -d scope=(\S+) \\\n  (\S+)$`).FindStringSubmatch(s)
		if m == nil || m[1] != machine.ClientID || m[3] != issuer+"/oauth/token" {
			t.Fatalf("machine snippet:\n%s", s)
		}
		resp, body := srv.Do(t, formRequest(t, srv, acme, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {m[2]}}, m[1], machine.ClientSecret))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"access_token"`) {
			t.Fatalf("the pasted call: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("no secret, and copy buttons from a script file", func(t *testing.T) {
		if strings.Contains(page.Body, web.ClientSecret) || strings.Contains(page.Body, machine.ClientSecret) {
			t.Fatal("the apps page shows a secret")
		}
		if regexp.MustCompile(`<script>|<script type="module">`).MatchString(page.Body) {
			t.Fatal("the page has an inline script, which the console's CSP blocks")
		}
		src := regexp.MustCompile(`<script src="(/static/ui\.[0-9a-f]+\.js)" defer>`).FindStringSubmatch(page.Body)
		if src == nil {
			t.Fatal("the page loads no copy script")
		}
		resp, body := srv.Get(t, consoleHost, src[1])
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(body, "button[data-copy]") {
			t.Fatalf("copy script: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}
