package app_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/app/apptest"
)

// introspectActive asks the tenant's confidential web app whether a token
// is active.
func introspectActive(t *testing.T, srv *apptest.Server, host, token string, app createdApp) bool {
	t.Helper()
	resp, body := srv.Do(t, formRequest(t, srv, host, "/oauth/introspect", url.Values{"token": {token}}, app.ClientID, app.ClientSecret))
	var out struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("introspect on %s: %d %s", host, resp.StatusCode, body)
	}
	return out.Active
}

// refreshFails reports whether a refresh token is refused with
// invalid_grant.
func refreshFails(t *testing.T, app *brandApp, refresh string) bool {
	t.Helper()
	_, err := app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: refresh, Expiry: time.Now().Add(-time.Hour)}).Token()
	var re *oauth2.RetrieveError
	if err != nil && !errors.As(err, &re) {
		t.Fatalf("refresh: %v", err)
	}
	return err != nil
}

func appRowID(t *testing.T, env *apptest.Env, clientID string) string {
	t.Helper()
	var id string
	env.DB().Gorm.Raw("SELECT CAST(id AS TEXT) FROM apps WHERE client_id = ?", clientID).Scan(&id)
	if id == "" {
		t.Fatalf("no app %s", clientID)
	}
	return id
}

// bravoSignIn gives the same address a customer on bravo, signed in to
// bravo's web app, so each test can prove acme's changes leave it alone.
func (w *oidcWorld) bravoSignIn(t *testing.T) (*brandApp, *oauth2.Token) {
	t.Helper()
	v := w.srv.Visitor(t)
	signUp(t, v, w.bravo, custEmail, custPassword)
	app := newBrandApp(t, w.srv, w.bravo, w.bravoWeb.ClientID, w.bravoWeb.ClientSecret, shopRedirect)
	verifier := oauth2.GenerateVerifier()
	p := follow(t, v, w.bravo, v.Get(w.bravo, app.authorizePath("b", verifier)), nil)
	p = follow(t, v, w.bravo, loginThrough(t, v, w.bravo, p, custEmail, custPassword), nil)
	tok, err := app.conf.Exchange(app.ctx, appCallback(t, p, shopRedirect).Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return app, tok
}

// TestAccountSignedInApps: /account lists the apps the customer signed in
// to, and removing one revokes that app's tokens (refresh refused,
// introspection inactive) and nothing else: not the tenant's other app,
// not another tenant's customer.
func TestAccountSignedInApps(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	srv := w.srv
	web := newBrandApp(t, srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	v := srv.Visitor(t)
	if p := v.Post(w.acme, "/login", url.Values{"email": {custEmail}, "password": {custPassword}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", p.StatusCode)
	}
	if p := v.Get(w.acme, "/account"); strings.Contains(p.Body, `data-testid="signed-in-apps"`) {
		t.Fatal("apps listed before any sign-in to one")
	}
	webTok, _ := w.signIn(t, web, v)
	spa := newBrandApp(t, srv, w.acme, w.spa.ClientID, "", "https://app.example/cb")
	verifier := oauth2.GenerateVerifier()
	q := appCallback(t, follow(t, v, w.acme, v.Get(w.acme, spa.authorizePath("spa", verifier)), nil), "https://app.example/cb")
	spaTok, err := spa.conf.Exchange(spa.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	bravoApp, bravoTok := w.bravoSignIn(t)

	shopID := appRowID(t, w.env, w.web.ClientID)
	revokeURL := "/account/apps/" + shopID + "/revoke"
	page := v.Get(w.acme, "/account")
	if !strings.Contains(page.Body, `data-testid="signed-in-apps"`) || !strings.Contains(page.Body, ">Shop<") || !strings.Contains(page.Body, ">App<") || !strings.Contains(page.Body, `action="`+revokeURL+`"`) {
		t.Fatalf("account page does not list both apps:\n%s", page.Body)
	}
	if strings.Contains(page.Body, "Bravo shop") {
		t.Fatal("another tenant's app is listed")
	}

	t.Run("a cross-site POST revokes nothing", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL(w.acme, revokeURL), strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		for _, c := range v.Cookies(w.acme) {
			req.AddCookie(c)
		}
		if resp, _ := srv.Do(t, req); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site revoke: %d", resp.StatusCode)
		}
		if !introspectActive(t, srv, w.acme, webTok.AccessToken, w.web) {
			t.Fatal("the refused POST revoked the token")
		}
	})

	t.Run("another tenant's customer cannot revoke acme's grant", func(t *testing.T) {
		other := srv.Visitor(t)
		other.Post(w.bravo, "/login", url.Values{"email": {custEmail}, "password": {custPassword}})
		other.Post(w.bravo, revokeURL, url.Values{})
		if !introspectActive(t, srv, w.acme, webTok.AccessToken, w.web) {
			t.Fatal("bravo's customer revoked acme's grant")
		}
	})

	wantRedirect(t, v.Post(w.acme, revokeURL, url.Values{}), "/account?notice=app-revoked")

	t.Run("the app's tokens are dead", func(t *testing.T) {
		if introspectActive(t, srv, w.acme, webTok.AccessToken, w.web) {
			t.Fatal("introspection says the revoked access token is active")
		}
		if !refreshFails(t, web, webTok.RefreshToken) {
			t.Fatal("the revoked app's refresh token still works")
		}
		if code, _ := userinfoStatus(t, srv, w.acme, webTok.AccessToken); code != http.StatusUnauthorized {
			t.Fatalf("userinfo with the revoked token: %d", code)
		}
	})

	t.Run("the other app and the other tenant are untouched", func(t *testing.T) {
		if !introspectActive(t, srv, w.acme, spaTok.AccessToken, w.web) {
			t.Fatal("revoking Shop revoked App's token")
		}
		if !introspectActive(t, srv, w.bravo, bravoTok.AccessToken, w.bravoWeb) {
			t.Fatal("revoking on acme revoked bravo's customer's token")
		}
		if refreshFails(t, bravoApp, bravoTok.RefreshToken) {
			t.Fatal("bravo's customer's refresh token was revoked")
		}
	})

	t.Run("listed no more, and audited", func(t *testing.T) {
		page := v.Get(w.acme, "/account?notice=app-revoked")
		if strings.Contains(page.Body, ">Shop<") || !strings.Contains(page.Body, ">App<") || !strings.Contains(page.Body, "no longer has access") {
			t.Fatalf("account page after revoke:\n%s", page.Body)
		}
		var n int64
		w.env.DB().Gorm.Table("audit_events").Where("action = ? AND target = ?", "customer.app.revoked", "app:"+shopID).Count(&n)
		if n != 1 {
			t.Fatalf("%d audit events for the revocation", n)
		}
	})
}

// TestDisablingCustomerRevokesProviderTokens: a support agent disabling a
// customer revokes every token the provider issued them, for good:
// enabling the account again does not bring the tokens back. Another
// tenant's customer with the same address keeps theirs.
func TestDisablingCustomerRevokesProviderTokens(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	mustStaff(t, w.env, "support@acme.test", "support", "acme")
	web := newBrandApp(t, w.srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	tok, _ := w.signIn(t, web, w.srv.Visitor(t))
	bravoApp, bravoTok := w.bravoSignIn(t)
	var id string
	w.env.DB().Gorm.Raw("SELECT CAST(c.id AS TEXT) FROM customers c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = 'acme' AND c.email = ?", custEmail).Scan(&id)

	support := signedIn(t, w.srv, "support@acme.test")
	for _, status := range []string{"disabled", "active"} {
		if r := support.post("/t/acme/customers/"+id+"/status", url.Values{"status": {status}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("set status %s: %d", status, r.StatusCode)
		}
	}
	if introspectActive(t, w.srv, w.acme, tok.AccessToken, w.web) {
		t.Fatal("the access token survived disabling")
	}
	if !refreshFails(t, web, tok.RefreshToken) {
		t.Fatal("the refresh token survived disabling")
	}
	if !introspectActive(t, w.srv, w.bravo, bravoTok.AccessToken, w.bravoWeb) || refreshFails(t, bravoApp, bravoTok.RefreshToken) {
		t.Fatal("disabling acme's customer revoked bravo's customer's tokens")
	}
}
