package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestVerifiedTokenCacheRefusals: the provider and the API remember which
// access tokens had a good signature, but nothing more. A token used a
// moment ago (so it is remembered) is refused at once after it is revoked,
// at userinfo, introspection and /api/v1/me alike, and a remembered token
// of tenant acme is refused on tenant bravo's host.
func TestVerifiedTokenCacheRefusals(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	srv := w.srv
	web := newBrandApp(t, srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	tok, _ := w.signIn(t, web, srv.Visitor(t))
	access := tok.AccessToken

	me := func(host string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL(host, "/api/v1/me"), nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, _ := srv.Do(t, req)
		return resp.StatusCode
	}
	active := func(host string, a createdApp) bool {
		resp, body := srv.Do(t, formRequest(t, srv, host, "/oauth/introspect", url.Values{"token": {access}}, a.ClientID, a.ClientSecret))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("introspect on %s: %d %s", host, resp.StatusCode, body)
		}
		var out struct {
			Active bool   `json:"active"`
			Sub    string `json:"sub"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		return out.Active
	}

	// Twice each, so the second answer comes from a remembered signature.
	for range 2 {
		if c, body := userinfoStatus(t, srv, w.acme, access); c != http.StatusOK {
			t.Fatalf("userinfo: %d %s", c, body)
		}
		if c := me(w.acme); c != http.StatusOK {
			t.Fatalf("/api/v1/me: %d", c)
		}
		if !active(w.acme, w.web) {
			t.Fatal("introspection: a live token is inactive")
		}
	}

	t.Run("other tenant", func(t *testing.T) {
		if c, _ := userinfoStatus(t, srv, w.bravo, access); c != http.StatusUnauthorized {
			t.Fatalf("acme's token at bravo's userinfo: %d", c)
		}
		if c := me(w.bravo); c != http.StatusUnauthorized {
			t.Fatalf("acme's token at bravo's /api/v1/me: %d", c)
		}
		if active(w.bravo, w.bravoWeb) {
			t.Fatal("bravo's introspection says acme's token is active")
		}
	})

	t.Run("revoked", func(t *testing.T) {
		resp, body := srv.Do(t, formRequest(t, srv, w.acme, "/oauth/revoke", url.Values{"token": {access}}, w.web.ClientID, w.web.ClientSecret))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.StatusCode, body)
		}
		if c, _ := userinfoStatus(t, srv, w.acme, access); c != http.StatusUnauthorized {
			t.Fatalf("revoked token at userinfo: %d", c)
		}
		if c := me(w.acme); c != http.StatusUnauthorized {
			t.Fatalf("revoked token at /api/v1/me: %d", c)
		}
		if active(w.acme, w.web) {
			t.Fatal("introspection says a revoked token is active")
		}
	})
}
