package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"gatehouse/app/apps"
	"gatehouse/app/apptest"
)

// logoutReceiver is a brand's back-channel logout endpoint: it keeps every
// logout_token POSTed to each path, and answers the first one with a 503 so
// that the provider has to retry.
type logoutReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	attempts map[string][]string // path → logout_token of each attempt
}

func startLogoutReceiver(t *testing.T) *logoutReceiver {
	r := &logoutReceiver{attempts: map[string][]string{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		_ = req.ParseForm()
		r.mu.Lock()
		r.attempts[req.URL.Path] = append(r.attempts[req.URL.Path], req.PostForm.Get("logout_token"))
		first := len(r.attempts[req.URL.Path]) == 1
		r.mu.Unlock()
		if first {
			http.Error(w, "down for a deploy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *logoutReceiver) tokens(path string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.attempts[path]...)
}

type logoutTokenClaims struct {
	Iss    string                     `json:"iss"`
	Aud    any                        `json:"aud"`
	Sub    string                     `json:"sub"`
	SID    string                     `json:"sid"`
	JTI    string                     `json:"jti"`
	Iat    int64                      `json:"iat"`
	Exp    int64                      `json:"exp"`
	Nonce  *string                    `json:"nonce"`
	Events map[string]json.RawMessage `json:"events"`
}

// verifyLogoutToken checks a logout token as a relying party would (§2.6),
// with go-oidc against the tenant's published JWKS and go-jose for the
// header.
func verifyLogoutToken(t *testing.T, rp *brandApp, clientID, raw string) logoutTokenClaims {
	t.Helper()
	// SkipExpiryCheck is off: exp must be there and in the future.
	tok, err := rp.provider.Verifier(&gooidc.Config{ClientID: clientID}).Verify(rp.ctx, raw)
	if err != nil {
		t.Fatalf("logout token does not verify against the tenant's JWKS: %v", err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
		t.Errorf("typ header %q", typ)
	}
	var c logoutTokenClaims
	if err := tok.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok || len(c.Events) != 1 {
		t.Errorf("events %v", c.Events)
	}
	if c.Nonce != nil {
		t.Error("a logout token must not carry a nonce")
	}
	if c.JTI == "" || c.Iat == 0 || c.Exp <= c.Iat {
		t.Errorf("jti %q iat %d exp %d", c.JTI, c.Iat, c.Exp)
	}
	return c
}

func TestOIDCBackchannelLogout(t *testing.T) {
	t.Parallel()
	env := appEnv(t)
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true") // the receiver is an httptest server
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	recv := startLogoutReceiver(t)

	web := createApp(t, env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect,
		"--post-logout-uri", "https://shop.example/bye")
	idle := createApp(t, env, "--tenant", "acme", "--name", "Loyalty", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	bravoWeb := createApp(t, env, "--tenant", "bravo", "--name", "Bravo shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	srv := env.Serve()
	env.Worker()

	// The console registers acme's URIs; bravo's app points at the same
	// receiver, and never hears of acme's logouts.
	admin := signedIn(t, srv, "admin@acme.test")
	t.Run("console refuses a bad URI next to the app", func(t *testing.T) {
		r := admin.post("/t/acme/apps/"+web.ClientID+"/backchannel", url.Values{"backchannel-logout-uri": {"http://shop.example/logout"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="bc-`+web.ClientID+`-error"`) || !strings.Contains(r.Body, "must use https") {
			t.Fatalf("%d %.2000s", r.StatusCode, r.Body)
		}
	})
	t.Run("the create form takes a back-channel URI", func(t *testing.T) {
		r := admin.post("/t/acme/apps", url.Values{"name": {"Bad"}, "type": {"web"}, "redirect-uri": {shopRedirect}, "backchannel-logout-uri": {"ftp://shop.example/x"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-backchannel-logout-uri"`) {
			t.Fatalf("bad URI at creation: %d", r.StatusCode)
		}
		r = admin.post("/t/acme/apps", url.Values{"name": {"Kiosk"}, "type": {"web"}, "redirect-uri": {shopRedirect}, "backchannel-logout-uri": {"https://kiosk.example/bc"}})
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("create with a back-channel URI: %d", r.StatusCode)
		}
		if p := admin.get("/t/acme/apps"); !strings.Contains(p.Body, `value="https://kiosk.example/bc"`) {
			t.Fatal("the new app's back-channel URI is not shown")
		}
	})
	for id, path := range map[string]string{web.ClientID: "/acme-shop", idle.ClientID: "/acme-idle"} {
		if r := admin.post("/t/acme/apps/"+id+"/backchannel", url.Values{"backchannel-logout-uri": {recv.URL + path}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("set back-channel URI: %d %.500s", r.StatusCode, r.Body)
		}
	}
	if p := admin.get("/t/acme/apps"); !strings.Contains(p.Body, `value="`+recv.URL+`/acme-shop"`) {
		t.Fatal("the apps page does not show the back-channel URI")
	}
	if r := admin.post("/t/bravo/apps/"+bravoWeb.ClientID+"/backchannel", url.Values{"backchannel-logout-uri": {recv.URL + "/bravo"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("acme's admin changed bravo's app: %d", r.StatusCode)
	}
	bravo, err := env.Tenants().BySlug(context.Background(), "bravo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apps.NewStore(env.DB().Gorm).For(bravo.ID).SetBackchannelLogoutURI(context.Background(), bravoWeb.ClientID, recv.URL+"/bravo"); err != nil {
		t.Fatal(err)
	}

	signUp(t, srv.Visitor(t), acmeHost, custEmail, custPassword)
	signUp(t, srv.Visitor(t), bravoHost, custEmail, custPassword)
	acme, err := env.Tenants().BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	var kim string
	env.DB().Gorm.Table("customers").Where("tenant_id = ? AND email = ?", acme.ID, custEmail).Pluck("id", &kim)
	w := &oidcWorld{env: env, srv: srv, acme: acmeHost}

	discovery := func(host string) map[string]any {
		_, body := srv.Get(t, host, "/.well-known/openid-configuration")
		var d map[string]any
		_ = json.Unmarshal([]byte(body), &d)
		return d
	}
	if d := discovery(acmeHost); d["backchannel_logout_supported"] != true || d["backchannel_logout_session_supported"] != true {
		t.Fatalf("discovery: %v %v", d["backchannel_logout_supported"], d["backchannel_logout_session_supported"])
	}

	rp := newBrandApp(t, srv, acmeHost, web.ClientID, web.ClientSecret, shopRedirect)
	bravoRP := newBrandApp(t, srv, bravoHost, bravoWeb.ClientID, bravoWeb.ClientSecret, shopRedirect)
	idTokenSID := func(tok *oauth2.Token, app *brandApp, clientID string) (string, string) {
		t.Helper()
		raw, _ := tok.Extra("id_token").(string)
		idt, err := app.provider.Verifier(&gooidc.Config{ClientID: clientID}).Verify(app.ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			SID string `json:"sid"`
		}
		_ = idt.Claims(&c)
		if c.SID == "" {
			t.Fatal("the id_token has no sid")
		}
		return c.SID, raw
	}
	waitFor := func(path string, n int) []string {
		t.Helper()
		var got []string
		apptest.Eventually(t, 60*time.Second, func() error {
			if got = recv.tokens(path); len(got) < n {
				return fmt.Errorf("%s has %d of %d logout tokens", path, len(got), n)
			}
			return nil
		})
		return got
	}

	t.Run("RP-initiated logout tells the app, retrying after a failure", func(t *testing.T) {
		v := srv.Visitor(t)
		tok, _ := w.signIn(t, rp, v)
		sid, hint := idTokenSID(tok, rp, web.ClientID)
		// The same session signs in again: the sid is stable.
		tok2, _ := w.signIn(t, rp, v)
		if again, _ := idTokenSID(tok2, rp, web.ClientID); again != sid {
			t.Fatalf("sid changed within one session: %s then %s", sid, again)
		}
		// Kim is signed in on bravo too, in the same browser.
		bravoWorld := &oidcWorld{env: env, srv: srv, acme: bravoHost}
		bravoTok, _ := bravoWorld.signIn(t, bravoRP, v)
		_, _ = idTokenSID(bravoTok, bravoRP, bravoWeb.ClientID)

		p := v.Get(acmeHost, "/oauth/end_session?"+url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://shop.example/bye"}}.Encode())
		if loc := p.Header.Get("Location"); loc != "https://shop.example/bye" {
			t.Fatalf("end_session: %d %q", p.StatusCode, loc)
		}
		got := waitFor("/acme-shop", 2)
		if len(got) != 2 {
			t.Fatalf("attempts: %d", len(got))
		}
		for i, raw := range got {
			c := verifyLogoutToken(t, rp, web.ClientID, raw)
			if c.Iss != srv.URL(acmeHost, "") || c.Sub != kim || c.SID != sid {
				t.Fatalf("attempt %d: iss %s sub %s sid %s (want %s %s)", i+1, c.Iss, c.Sub, c.SID, kim, sid)
			}
			if aud, ok := c.Aud.(string); ok && aud != web.ClientID {
				t.Fatalf("aud %v", c.Aud)
			}
		}
		// The bravo session is untouched: bravo's app signs straight in.
		if p := follow(t, v, bravoHost, v.Get(bravoHost, bravoRP.authorizePath("b", oauth2.GenerateVerifier())), nil); strings.Contains(p.Body, `action="/login"`) {
			t.Fatal("acme's logout ended the bravo session")
		}
	})

	t.Run("POST /logout tells the app too", func(t *testing.T) {
		v := srv.Visitor(t)
		tok, _ := w.signIn(t, rp, v)
		sid, _ := idTokenSID(tok, rp, web.ClientID)
		// An id_token from the refresh grant names the same session.
		fresh, err := rp.conf.TokenSource(rp.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if again, _ := idTokenSID(fresh, rp, web.ClientID); again != sid {
			t.Fatalf("the refreshed id_token has sid %s, want %s", again, sid)
		}
		before := len(recv.tokens("/acme-shop"))
		if p := v.Post(acmeHost, "/logout", url.Values{}); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", p.StatusCode)
		}
		got := waitFor("/acme-shop", before+1)
		c := verifyLogoutToken(t, rp, web.ClientID, got[before])
		if c.Sub != kim || c.SID != sid {
			t.Fatalf("sub %s sid %s, want %s %s", c.Sub, c.SID, kim, sid)
		}
		var left int64
		env.DB().Gorm.Table("oidc_session_apps").Where("tenant_id = ? AND customer_id = ?", acme.ID, kim).Count(&left)
		if left != 0 {
			t.Fatalf("%d session-app pairs outlived the logout", left)
		}
	})

	t.Run("disabling the customer tells the app of every session", func(t *testing.T) {
		phone, laptop := srv.Visitor(t), srv.Visitor(t)
		tok1, _ := w.signIn(t, rp, phone)
		tok2, _ := w.signIn(t, rp, laptop)
		sid1, _ := idTokenSID(tok1, rp, web.ClientID)
		sid2, _ := idTokenSID(tok2, rp, web.ClientID)
		if sid1 == sid2 {
			t.Fatal("two browsers' sessions share a sid")
		}
		before := len(recv.tokens("/acme-shop"))
		if r := admin.post("/t/acme/customers/"+kim+"/status", url.Values{"status": {"disabled"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d %.500s", r.StatusCode, r.Body)
		}
		got := waitFor("/acme-shop", before+2)
		sids := map[string]bool{}
		for _, raw := range got[before:] {
			c := verifyLogoutToken(t, rp, web.ClientID, raw)
			if c.Sub != kim {
				t.Fatalf("sub %s, want %s", c.Sub, kim)
			}
			sids[c.SID] = true
		}
		if !sids[sid1] || !sids[sid2] || len(sids) != 2 {
			t.Fatalf("logout tokens name sids %v, want %s and %s", sids, sid1, sid2)
		}
		var left int64
		env.DB().Gorm.Table("oidc_session_apps").Where("tenant_id = ? AND customer_id = ?", acme.ID, kim).Count(&left)
		if left != 0 {
			t.Fatalf("%d session-app pairs outlived signing the customer out everywhere", left)
		}
		if r := admin.post("/t/acme/customers/"+kim+"/status", url.Values{"status": {"active"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable: %d", r.StatusCode)
		}
	})

	t.Run("apps the session never signed in to, and other tenants' apps, are never told", func(t *testing.T) {
		// Every task above has run (the waits saw the last ones arrive);
		// give the queue a moment for anything wrongly enqueued.
		time.Sleep(3 * time.Second)
		if got := recv.tokens("/acme-idle"); len(got) != 0 {
			t.Errorf("an app the session never signed in to got %d logout tokens", len(got))
		}
		if got := recv.tokens("/bravo"); len(got) != 0 {
			t.Errorf("bravo's app got %d logout tokens for acme's logouts", len(got))
		}
	})

	t.Run("a token of acme's logout does not verify as bravo's", func(t *testing.T) {
		raw := recv.tokens("/acme-shop")[0]
		_, err := bravoRP.provider.Verifier(&gooidc.Config{ClientID: bravoWeb.ClientID}).Verify(bravoRP.ctx, raw)
		if err == nil {
			t.Fatal("acme's logout token verified against bravo")
		}
	})
}
