package app_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/app/apptest"
)

// loopbackApp plays a native app's RFC 8252 loopback redirect: it listens
// on 127.0.0.1 at a port the system picks when it runs, and hands each
// request that reaches its paths to the test.
type loopbackApp struct {
	base string // http://127.0.0.1:port
	hits chan url.Values
}

func startLoopbackApp(t *testing.T) *loopbackApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &loopbackApp{base: "http://" + ln.Addr().String(), hits: make(chan url.Values, 4)}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		q.Set("_path", r.URL.Path)
		a.hits <- q
		_, _ = w.Write([]byte("<!doctype html><p id=done>You can go back to the app.</p>"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return a
}

// wait returns the next request the app's loopback listener received.
func (a *loopbackApp) wait(t *testing.T, path string) url.Values {
	t.Helper()
	select {
	case q := <-a.hits:
		if q.Get("_path") != path {
			t.Fatalf("the app's loopback listener was called at %s, want %s: %v", q.Get("_path"), path, q)
		}
		return q
	case <-time.After(30 * time.Second):
		t.Fatalf("the browser never came back to the app at %s", path)
		return nil
	}
}

// TestNativeAppLoopbackFlow is the mobile guide's flow, with x/oauth2 and
// go-oidc playing a native app as AppAuth does: a `native` app registered
// with http://127.0.0.1/callback, a loopback listener on a port picked at
// run time (RFC 8252 §7.3), PKCE S256 with state and nonce, the hosted
// login in Chromium, the code exchanged without a secret, the id_token
// verified against the JWKS, a refresh that rotates, then logout: RP-initiated
// logout back to the loopback, and the refresh token revoked.
func TestNativeAppLoopbackFlow(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	env := appEnv(t)
	native := createApp(t, env, "--tenant", "acme", "--name", "Coffee app", "--type", "native", "--first-party",
		"--redirect-uri", "http://127.0.0.1/callback", "--post-logout-uri", "http://127.0.0.1/logged-out",
		"--redirect-uri", "com.example.coffee:/callback")
	srv := env.Serve()
	const acme = "acme.localhost"
	signUp(t, srv.Visitor(t), acme, custEmail, custPassword)
	kim := customerID(t, env, custEmail)
	app := startLoopbackApp(t)

	octx := gooidc.ClientContext(context.Background(), srv.Client)
	octx = context.WithValue(octx, oauth2.HTTPClient, srv.Client)
	provider, err := gooidc.NewProvider(octx, srv.URL(acme, ""))
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client: client_id in the form, no secret
	conf := oauth2.Config{ClientID: native.ClientID, Endpoint: endpoint, RedirectURL: app.base + "/callback",
		Scopes: []string{gooidc.ScopeOpenID, "email", "profile", gooidc.ScopeOfflineAccess}}
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("%v (at %s)", err, loc)
		}
	}

	// Sign in: the "system browser" shows the hosted login page.
	verifier := oauth2.GenerateVerifier()
	run(
		chromedp.Navigate(conf.AuthCodeURL("st-1", gooidc.Nonce("nonce-1"), oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(`form[action="/login"] input[name="email"]`),
		chromedp.SendKeys(`form[action="/login"] input[name="email"]`, custEmail),
		chromedp.SendKeys(`form[action="/login"] input[name="password"]`, custPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
	)
	q := app.wait(t, "/callback")
	if q.Get("state") != "st-1" || q.Get("code") == "" {
		t.Fatalf("the app was called back with %v", q)
	}
	// The code is bound to the verifier: without it the exchange fails.
	if _, err := conf.Exchange(octx, q.Get("code")); err == nil {
		t.Fatal("a code was exchanged without its PKCE verifier")
	}
	// That failed attempt may have spent the code, so sign in again (now by single sign-on).
	verifier = oauth2.GenerateVerifier()
	run(chromedp.Navigate(conf.AuthCodeURL("st-2", gooidc.Nonce("nonce-2"), oauth2.S256ChallengeOption(verifier))))
	q = app.wait(t, "/callback")
	if q.Get("state") != "st-2" {
		t.Fatalf("second sign-in came back with %v", q)
	}
	tok, err := conf.Exchange(octx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: native.ClientID}).Verify(octx, rawID)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	if idt.Subject != kim || idt.Nonce != "nonce-2" {
		t.Fatalf("id_token sub %q nonce %q", idt.Subject, idt.Nonce)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}

	// Refresh: a new access token and a new refresh token.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(octx, &expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	if code, body := userinfoStatus(t, srv, acme, fresh.AccessToken); code != http.StatusOK || !strings.Contains(body, kim) {
		t.Fatalf("userinfo with the refreshed token: %d %s", code, body)
	}

	// Logout: end the session on the host, back to the loopback with state...
	run(chromedp.Navigate(srv.URL(acme, "/oauth/end_session?"+url.Values{"id_token_hint": {rawID},
		"post_logout_redirect_uri": {app.base + "/logged-out"}, "state": {"bye-1"}}.Encode())))
	if q := app.wait(t, "/logged-out"); q.Get("state") != "bye-1" {
		t.Fatalf("post-logout redirect: %v", q)
	}
	// ...and revoke the refresh token, as AppAuth's sample apps do on sign-out.
	resp, body := srv.Do(t, formRequest(t, srv, acme, "/oauth/revoke", url.Values{"token": {fresh.RefreshToken},
		"token_type_hint": {"refresh_token"}, "client_id": {native.ClientID}}, "", ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	fresh.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(octx, fresh).Token()
	var rerr *oauth2.RetrieveError
	if !errors.As(err, &rerr) || rerr.ErrorCode != "invalid_grant" {
		t.Fatalf("a revoked refresh token still refreshes: %v", err)
	}
	// The host session is over: signing in again shows the login page.
	run(
		chromedp.Navigate(conf.AuthCodeURL("st-3", gooidc.Nonce("nonce-3"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))),
		chromedp.WaitVisible(`form[action="/login"] input[name="password"]`),
	)
}
