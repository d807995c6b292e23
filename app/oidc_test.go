package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// brandApp plays a brand's web app against the real server: a go-oidc
// provider found through discovery and an x/oauth2 config, talking to the
// server through its dialer.
type brandApp struct {
	t        *testing.T
	srv      *apptest.Server
	host     string
	ctx      context.Context
	provider *gooidc.Provider
	conf     oauth2.Config
}

const shopRedirect = "https://shop.example/cb"

func newBrandApp(t *testing.T, srv *apptest.Server, host, clientID, secret, redirect string) *brandApp {
	t.Helper()
	ctx := gooidc.ClientContext(context.Background(), srv.Client)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, srv.Client)
	p, err := gooidc.NewProvider(ctx, srv.URL(host, ""))
	if err != nil {
		t.Fatalf("discovery on %s: %v", host, err)
	}
	return &brandApp{t: t, srv: srv, host: host, ctx: ctx, provider: p, conf: oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirect,
		Scopes: []string{gooidc.ScopeOpenID, "email", "profile", gooidc.ScopeOfflineAccess},
	}}
}

// authorizePath is the app's authorization URL as a path on the host.
func (b *brandApp) authorizePath(state, verifier string, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{gooidc.Nonce("n-" + state)}, extra...)
	if verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	u, err := url.Parse(b.conf.AuthCodeURL(state, opts...))
	if err != nil {
		b.t.Fatal(err)
	}
	return u.RequestURI()
}

// follow walks a visitor through same-host redirects and returns the last
// page: the one that is not a redirect, or one that leaves the host.
func follow(t *testing.T, v *apptest.Visitor, host string, p apptest.Page, hops *[]string) apptest.Page {
	t.Helper()
	for i := 0; i < 10; i++ {
		loc := p.Header.Get("Location")
		if p.StatusCode < 300 || p.StatusCode >= 400 || loc == "" || !strings.HasPrefix(loc, "/") {
			return p
		}
		if hops != nil {
			*hops = append(*hops, loc)
		}
		p = v.Get(host, loc)
	}
	t.Fatal("redirect loop")
	return p
}

// appCallback parses the redirect to the app's redirect URI.
func appCallback(t *testing.T, p apptest.Page, redirect string) url.Values {
	t.Helper()
	loc := p.Header.Get("Location")
	if !strings.HasPrefix(loc, redirect+"?") {
		t.Fatalf("expected a redirect to %s, got status %d Location %q body %.300s", redirect, p.StatusCode, loc, p.Body)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// login signs the visitor in through the hosted form when the flow asks.
func loginThrough(t *testing.T, v *apptest.Visitor, host string, p apptest.Page, email, password string) apptest.Page {
	t.Helper()
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `action="/login"`) {
		t.Fatalf("expected the hosted login page, got %d %.300s", p.StatusCode, p.Body)
	}
	returnTo := p.Request.URL.Query().Get("return_to")
	if !strings.HasPrefix(returnTo, "/oauth/continue?id=") {
		t.Fatalf("login page return_to = %q", returnTo)
	}
	return v.Post(host, "/login", url.Values{"email": {email}, "password": {password}, "return_to": {returnTo}})
}

func signUp(t *testing.T, v *apptest.Visitor, host, email, password string) {
	t.Helper()
	p := v.Post(host, "/register", url.Values{"email": {email}, "password": {password}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d %.300s", p.StatusCode, p.Body)
	}
	v.Post(host, "/logout", url.Values{})
}

func customerID(t *testing.T, env *apptest.Env, email string) string {
	t.Helper()
	var id string
	env.DB().Gorm.Table("customers").Where("email = ?", email).Pluck("id", &id)
	if id == "" {
		t.Fatalf("no customer %s", email)
	}
	return id
}

func userinfoStatus(t *testing.T, srv *apptest.Server, host, accessToken string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL(host, "/oauth/userinfo"), nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, body := srv.Do(t, req)
	return resp.StatusCode, body
}

type oidcWorld struct {
	env      *apptest.Env
	srv      *apptest.Server
	web      createdApp
	spa      createdApp
	bravoWeb createdApp
	acme     string
	bravo    string
}

const (
	custEmail    = "kim@example.com"
	custPassword = "correct horse battery"
)

func newOIDCWorld(t *testing.T) *oidcWorld {
	t.Helper()
	env := appEnv(t)
	w := &oidcWorld{env: env, acme: "acme.localhost", bravo: "bravo.localhost"}
	w.web = createApp(t, env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect,
		"--post-logout-uri", "https://shop.example/bye")
	w.spa = createApp(t, env, "--tenant", "acme", "--name", "App", "--type", "spa", "--first-party", "--redirect-uri", "https://app.example/cb",
		"--cors-origin", "https://app.example")
	w.bravoWeb = createApp(t, env, "--tenant", "bravo", "--name", "Bravo shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	w.srv = env.Serve()
	signUp(t, w.srv.Visitor(t), w.acme, custEmail, custPassword)
	return w
}

// signIn runs the whole code flow for the web app and returns the tokens.
func (w *oidcWorld) signIn(t *testing.T, app *brandApp, v *apptest.Visitor) (*oauth2.Token, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	p := follow(t, v, w.acme, v.Get(w.acme, app.authorizePath("s1", verifier)), nil)
	if strings.Contains(p.Body, `action="/login"`) {
		p = follow(t, v, w.acme, loginThrough(t, v, w.acme, p, custEmail, custPassword), nil)
	}
	q := appCallback(t, p, shopRedirect)
	if q.Get("state") != "s1" || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	tok, err := app.conf.Exchange(app.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tok, q.Get("code")
}

func TestOpenIDProvider(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	srv := w.srv
	app := newBrandApp(t, srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	kim := customerID(t, w.env, custEmail)

	v := srv.Visitor(t)
	verifier := oauth2.GenerateVerifier()
	var hops []string
	p := follow(t, v, w.acme, v.Get(w.acme, app.authorizePath("st", verifier, oauth2.SetAuthURLParam("login_hint", custEmail))), &hops)
	if !strings.Contains(p.Body, `value="`+custEmail+`"`) {
		t.Fatal("login_hint did not prefill the email")
	}
	p = follow(t, v, w.acme, loginThrough(t, v, w.acme, p, custEmail, custPassword), &hops)
	q := appCallback(t, p, shopRedirect)
	if q.Get("state") != "st" || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	tok, err := app.conf.Exchange(app.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := app.provider.Verifier(&gooidc.Config{ClientID: w.web.ClientID}).Verify(app.ctx, rawID)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	var claims struct {
		Email    string   `json:"email"`
		Verified *bool    `json:"email_verified"`
		AMR      []string `json:"amr"`
		AuthTime int64    `json:"auth_time"`
	}
	_ = idt.Claims(&claims)
	if idt.Subject != kim || idt.Nonce != "n-st" || claims.Email != custEmail || claims.AuthTime == 0 || len(claims.AMR) != 1 || claims.AMR[0] != "pwd" {
		t.Fatalf("id_token sub %s nonce %s claims %+v", idt.Subject, idt.Nonce, claims)
	}
	if idt.Issuer != srv.URL(w.acme, "") {
		t.Fatalf("issuer %s", idt.Issuer)
	}

	t.Run("access token is a JWT of the tenant", func(t *testing.T) {
		parts := strings.Split(tok.AccessToken, ".")
		if len(parts) != 3 {
			t.Fatal("access token is not a JWT")
		}
		ks := gooidc.NewRemoteKeySet(app.ctx, srv.URL(w.acme, "/oauth/keys"))
		if _, err := ks.VerifySignature(app.ctx, tok.AccessToken); err != nil {
			t.Fatalf("access token does not verify against the JWKS: %v", err)
		}
	})

	t.Run("userinfo", func(t *testing.T) {
		info, err := app.provider.UserInfo(app.ctx, oauth2.StaticTokenSource(tok))
		if err != nil || info.Subject != kim || info.Email != custEmail {
			t.Fatalf("userinfo %+v %v", info, err)
		}
	})

	t.Run("other tenant's userinfo refuses the token", func(t *testing.T) {
		if code, _ := userinfoStatus(t, srv, w.bravo, tok.AccessToken); code != http.StatusUnauthorized {
			t.Fatalf("bravo userinfo with acme's token: %d", code)
		}
	})

	t.Run("single sign-on for a second app of the tenant", func(t *testing.T) {
		spa := newBrandApp(t, srv, w.acme, w.spa.ClientID, "", "https://app.example/cb")
		var hops []string
		p := follow(t, v, w.acme, v.Get(w.acme, spa.authorizePath("sso", oauth2.GenerateVerifier())), &hops)
		for _, h := range hops {
			if strings.HasPrefix(h, "/login") {
				t.Fatalf("the signed-in customer saw the login page: %v", hops)
			}
		}
		if q := appCallback(t, p, "https://app.example/cb"); q.Get("code") == "" {
			t.Fatal("no code")
		}
	})

	t.Run("another tenant never gets single sign-on", func(t *testing.T) {
		bravo := newBrandApp(t, srv, w.bravo, w.bravoWeb.ClientID, w.bravoWeb.ClientSecret, shopRedirect)
		p := follow(t, v, w.bravo, v.Get(w.bravo, bravo.authorizePath("x", oauth2.GenerateVerifier())), nil)
		if !strings.Contains(p.Body, `action="/login"`) {
			t.Fatalf("acme's session signed the customer in on bravo: %d %s", p.StatusCode, p.Header.Get("Location"))
		}
	})

	t.Run("a code works once under concurrent exchanges", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		p := follow(t, v, w.acme, v.Get(w.acme, app.authorizePath("race", verifier)), nil)
		code := appCallback(t, p, shopRedirect).Get("code")
		const n = 6
		results := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				_, err := app.conf.Exchange(app.ctx, code, oauth2.VerifierOption(verifier))
				results <- err
			}()
		}
		close(start)
		ok := 0
		for range n {
			if <-results == nil {
				ok++
			}
		}
		if ok > 1 {
			t.Fatalf("%d exchanges of one code succeeded", ok)
		}
	})

	t.Run("prompt=login asks again", func(t *testing.T) {
		p := follow(t, v, w.acme, v.Get(w.acme, app.authorizePath("pl", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "login"))), nil)
		if !strings.Contains(p.Body, `action="/login"`) {
			t.Fatalf("prompt=login skipped the login page: %d %s", p.StatusCode, p.Header.Get("Location"))
		}
	})

	t.Run("refresh rotates; reuse revokes the family", func(t *testing.T) {
		old := tok.RefreshToken
		if old == "" {
			t.Fatal("no refresh token for offline_access")
		}
		fresh, err := app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if fresh.RefreshToken == "" || fresh.RefreshToken == old {
			t.Fatal("the refresh token did not rotate")
		}
		if code, _ := userinfoStatus(t, srv, w.acme, fresh.AccessToken); code != http.StatusOK {
			t.Fatalf("refreshed access token: %d", code)
		}
		_, err = app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("reused refresh token: %v", err)
		}
		if _, err := app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
			t.Fatal("the family survived the reuse")
		}
		if code, _ := userinfoStatus(t, srv, w.acme, fresh.AccessToken); code != http.StatusUnauthorized {
			t.Fatalf("access token of a revoked family: %d", code)
		}
		var n int64
		w.env.DB().Gorm.Table("audit_events").Where("action = ?", "oidc.refresh_token.reused").Count(&n)
		if n == 0 {
			t.Fatal("reuse not audited")
		}
	})

	t.Run("revocation", func(t *testing.T) {
		tok2, _ := w.signIn(t, app, v)
		resp, body := srv.Do(t, formRequest(t, srv, w.acme, "/oauth/revoke", url.Values{"token": {tok2.AccessToken}, "token_type_hint": {"access_token"}}, w.web.ClientID, w.web.ClientSecret))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.StatusCode, body)
		}
		if code, _ := userinfoStatus(t, srv, w.acme, tok2.AccessToken); code != http.StatusUnauthorized {
			t.Fatalf("revoked access token still works: %d", code)
		}
		resp, _ = srv.Do(t, formRequest(t, srv, w.acme, "/oauth/revoke", url.Values{"token": {tok2.RefreshToken}}, w.web.ClientID, w.web.ClientSecret))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke refresh: %d", resp.StatusCode)
		}
		if _, err := app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
			t.Fatal("revoked refresh token still works")
		}
	})

	t.Run("introspection", func(t *testing.T) {
		tok3, _ := w.signIn(t, app, v)
		resp, body := srv.Do(t, formRequest(t, srv, w.acme, "/oauth/introspect", url.Values{"token": {tok3.AccessToken}}, w.web.ClientID, w.web.ClientSecret))
		var out struct {
			Active bool   `json:"active"`
			Sub    string `json:"sub"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil || !out.Active || out.Sub != kim {
			t.Fatalf("introspect: %d %s", resp.StatusCode, body)
		}
		// zitadel/oidc's resource-server client, which we did not write,
		// finds the endpoint by discovery and reads the same answer.
		rsrv, err := rs.NewResourceServerClientCredentials(app.ctx, srv.URL(w.acme, ""), w.web.ClientID, w.web.ClientSecret, rs.WithClient(srv.Client))
		if err != nil {
			t.Fatalf("resource server: %v", err)
		}
		got, err := rs.Introspect[*zoidc.IntrospectionResponse](app.ctx, rsrv, tok3.AccessToken)
		if err != nil || !got.Active || got.Subject != kim || got.ClientID != w.web.ClientID || got.Email == "" {
			t.Fatalf("rs.Introspect: %+v %v", got, err)
		}
		if gone, err := rs.Introspect[*zoidc.IntrospectionResponse](app.ctx, rsrv, tok3.AccessToken+"x"); err != nil || gone.Active {
			t.Fatalf("rs.Introspect of a forged token: %+v %v", gone, err)
		}
		// A wrong secret beside a live token is refused outright: the
		// token's row, read with the secrets, is not let out.
		resp, body = srv.Do(t, formRequest(t, srv, w.acme, "/oauth/introspect", url.Values{"token": {tok3.AccessToken}}, w.web.ClientID, w.web.ClientSecret+"x"))
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "active") {
			t.Fatalf("introspect with a wrong secret: %d %s", resp.StatusCode, body)
		}
		// Bravo's confidential client learns nothing about acme's token.
		resp, body = srv.Do(t, formRequest(t, srv, w.bravo, "/oauth/introspect", url.Values{"token": {tok3.AccessToken}}, w.bravoWeb.ClientID, w.bravoWeb.ClientSecret))
		if strings.Contains(body, `"active":true`) {
			t.Fatalf("bravo introspected acme's token: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("logout", func(t *testing.T) {
		tok4, _ := w.signIn(t, app, v)
		hint, _ := tok4.Extra("id_token").(string)
		bad := v.Get(w.acme, "/oauth/end_session?"+url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
		if loc := bad.Header.Get("Location"); loc != "" || bad.StatusCode != http.StatusBadRequest {
			t.Fatalf("unregistered post-logout URI: %d Location %q", bad.StatusCode, loc)
		}
		if p := v.Get(w.acme, "/account"); p.StatusCode != http.StatusOK {
			t.Fatalf("the refused logout ended the session: %d", p.StatusCode)
		}
		p := v.Get(w.acme, "/oauth/end_session?"+url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://shop.example/bye"}, "state": {"x"}}.Encode())
		if loc := p.Header.Get("Location"); loc != "https://shop.example/bye?state=x" {
			t.Fatalf("end_session: %d Location %q", p.StatusCode, loc)
		}
		if p := v.Get(w.acme, "/account"); p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
			t.Fatalf("the host session survived logout: %d", p.StatusCode)
		}
	})
}

func formRequest(t *testing.T, srv *apptest.Server, host, path string, form url.Values, clientID, secret string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL(host, path), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	return req
}

// A customer whose profile misses a required field completes it on the way
// back to the app: the profile page carries the auth request on.
func TestOpenIDProviderProfileCompletion(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	ts := w.env.Tenants()
	acme, err := ts.BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.SaveFields(context.Background(), acme.ID, []tenants.Field{
		{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
	}); err != nil {
		t.Fatal(err)
	}
	app := newBrandApp(t, w.srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	v := w.srv.Visitor(t)
	verifier := oauth2.GenerateVerifier()
	var p apptest.Page
	apptest.Eventually(t, 5*time.Second, func() error {
		p = follow(t, v, w.acme, v.Get(w.acme, app.authorizePath("pf", verifier)), nil)
		if strings.Contains(p.Body, `action="/login"`) {
			p = follow(t, v, w.acme, loginThrough(t, v, w.acme, p, custEmail, custPassword), nil)
		}
		if p.Request.URL.Path != "/profile/complete" {
			v.Post(w.acme, "/logout", url.Values{})
			return errors.New("the new required field has not reached the server yet")
		}
		return nil
	})
	returnTo := p.Request.URL.Query().Get("return_to")
	p = v.Post(w.acme, "/profile/complete", url.Values{"first_name": {"Kim"}, "return_to": {returnTo}})
	q := appCallback(t, follow(t, v, w.acme, p, nil), shopRedirect)
	tok, err := app.conf.Exchange(app.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := app.provider.Verifier(&gooidc.Config{ClientID: w.web.ClientID}).Verify(app.ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		GivenName string `json:"given_name"`
	}
	_ = idt.Claims(&claims)
	if claims.GivenName != "Kim" {
		t.Fatalf("profile scope: given_name %q", claims.GivenName)
	}
}

// Social sign-in is a login UI of the provider too: the button on the
// login page carries the auth request through the brand's own provider
// and back to the app.
func TestOpenIDProviderSocialSignIn(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	fake.Set(func(f *apptest.FakeOIDC) {
		f.User = apptest.FakeUser{Subject: "s-1", Email: "sam@example.com", EmailVerified: true, GivenName: "Sam"}
	})
	web := createApp(t, b.env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	host := "acme.localhost"
	app := newBrandApp(t, b.srv, host, web.ClientID, web.ClientSecret, shopRedirect)
	v := b.srv.Visitor(t)
	verifier := oauth2.GenerateVerifier()
	var login apptest.Page
	apptest.Eventually(t, 5*time.Second, func() error {
		login = follow(t, v, host, v.Get(host, app.authorizePath("so", verifier)), nil)
		if !strings.Contains(login.Body, "/social/oidc?return_to=") {
			return errors.New("no social button carrying the auth request yet")
		}
		return nil
	})
	returnTo := login.Request.URL.Query().Get("return_to")
	start := v.Get(host, "/social/oidc?return_to="+url.QueryEscape(returnTo))
	if start.StatusCode != http.StatusSeeOther {
		t.Fatalf("social start: %d", start.StatusCode)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(start.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))
	p := follow(t, v, host, v.Get(host, cb.RequestURI()), nil)
	q := appCallback(t, p, shopRedirect)
	tok, err := app.conf.Exchange(app.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	info, err := app.provider.UserInfo(app.ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Email != "sam@example.com" {
		t.Fatalf("userinfo after social sign-in: %+v %v", info, err)
	}
}

// A third-party app asks the customer first; a refusal goes back to the
// app as access_denied, and an answer is remembered.
func TestOpenIDProviderConsent(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	third := createApp(t, w.env, "--tenant", "acme", "--name", "Partner", "--type", "web", "--redirect-uri", shopRedirect)
	app := newBrandApp(t, w.srv, w.acme, third.ClientID, third.ClientSecret, shopRedirect)
	v := w.srv.Visitor(t)
	start := func(state string, extra ...oauth2.AuthCodeOption) apptest.Page {
		t.Helper()
		p := follow(t, v, w.acme, v.Get(w.acme, app.authorizePath(state, oauth2.GenerateVerifier(), extra...)), nil)
		if strings.Contains(p.Body, `action="/login"`) {
			p = follow(t, v, w.acme, loginThrough(t, v, w.acme, p, custEmail, custPassword), nil)
		}
		return p
	}
	consentID := func(p apptest.Page) string {
		t.Helper()
		if !strings.Contains(p.Body, `data-testid="consent-form"`) || !strings.Contains(p.Body, "Partner wants to sign you in") || !strings.Contains(p.Body, "your email address") {
			t.Fatalf("no consent page: %d %.300s", p.StatusCode, p.Body)
		}
		i := strings.Index(p.Body, `name="id" value="`)
		rest := p.Body[i+len(`name="id" value="`):]
		return rest[:strings.Index(rest, `"`)]
	}

	p := start("deny")
	p = v.Post(w.acme, "/oauth/consent", url.Values{"id": {consentID(p)}, "decision": {"deny"}})
	if q := appCallback(t, p, shopRedirect); q.Get("error") != "access_denied" || q.Get("state") != "deny" || q.Get("code") != "" {
		t.Fatalf("denied: %v", q)
	}

	if q := appCallback(t, start("none", oauth2.SetAuthURLParam("prompt", "none")), shopRedirect); q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none without consent: %v", q)
	}

	p = start("allow")
	p = follow(t, v, w.acme, v.Post(w.acme, "/oauth/consent", url.Values{"id": {consentID(p)}, "decision": {"allow"}}), nil)
	if q := appCallback(t, p, shopRedirect); q.Get("code") == "" || q.Get("state") != "allow" {
		t.Fatalf("allowed: %v", q)
	}
	// Remembered: the next sign-in goes straight back; prompt=consent asks again.
	if q := appCallback(t, start("again"), shopRedirect); q.Get("code") == "" {
		t.Fatalf("consent not remembered: %v", q)
	}
	consentID(start("ask", oauth2.SetAuthURLParam("prompt", "consent")))

	// A consent form posted for someone else's request, or without a session, does nothing.
	other := w.srv.Visitor(t)
	if p := other.Post(w.acme, "/oauth/consent", url.Values{"id": {"nope"}, "decision": {"allow"}}); p.Header.Get("Location") != "" {
		t.Fatalf("consent for an unknown request redirected to %s", p.Header.Get("Location"))
	}
}
