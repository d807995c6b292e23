package app_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// noRedirect asserts the browser was stopped on a branded page.
func noRedirect(t *testing.T, p interface {
	Get(string) string
}, status int, body string, wantStatus int) {
	t.Helper()
	if loc := p.Get("Location"); loc != "" || status != wantStatus {
		t.Fatalf("status %d Location %q; want %d and no redirect", status, loc, wantStatus)
	}
	if !strings.Contains(body, `data-testid="oauth-error"`) {
		t.Fatalf("not the branded error page: %.300s", body)
	}
}

func TestOpenIDProviderRefuses(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	srv := w.srv
	app := newBrandApp(t, srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)

	t.Run("unregistered redirect URI: no redirect", func(t *testing.T) {
		evil := newBrandApp(t, srv, w.acme, w.web.ClientID, "", "https://evil.example/cb")
		p := srv.Visitor(t).Get(w.acme, evil.authorizePath("s", oauth2.GenerateVerifier()))
		noRedirect(t, p.Header, p.StatusCode, p.Body, http.StatusBadRequest)
	})

	t.Run("unknown client: no redirect", func(t *testing.T) {
		ghost := newBrandApp(t, srv, w.acme, "nope", "", shopRedirect)
		p := srv.Visitor(t).Get(w.acme, ghost.authorizePath("s", oauth2.GenerateVerifier()))
		noRedirect(t, p.Header, p.StatusCode, p.Body, http.StatusBadRequest)
	})

	t.Run("client of another tenant: no redirect", func(t *testing.T) {
		onBravo := newBrandApp(t, srv, w.bravo, w.web.ClientID, w.web.ClientSecret, shopRedirect)
		p := srv.Visitor(t).Get(w.bravo, onBravo.authorizePath("s", oauth2.GenerateVerifier()))
		noRedirect(t, p.Header, p.StatusCode, p.Body, http.StatusBadRequest)
		// Nor do its credentials work at bravo's endpoints.
		resp, body := srv.Do(t, formRequest(t, srv, w.bravo, "/oauth/introspect", url.Values{"token": {"x"}}, w.web.ClientID, w.web.ClientSecret))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("acme's client at bravo's introspection: %d %s", resp.StatusCode, body)
		}
		cc := clientcredentials.Config{ClientID: w.web.ClientID, ClientSecret: w.web.ClientSecret, TokenURL: srv.URL(w.bravo, "/oauth/token")}
		_, err := cc.Token(onBravo.ctx)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Fatalf("acme's client at bravo's token endpoint: %v", err)
		}
	})

	t.Run("discovery on an unknown host is the plain 404", func(t *testing.T) {
		resp, body := srv.Get(t, "nobody.localhost", "/.well-known/openid-configuration")
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "issuer") {
			t.Fatalf("unknown host: %d %.200s", resp.StatusCode, body)
		}
		resp, _ = srv.Get(t, "nobody.localhost", "/oauth/keys")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("JWKS on an unknown host: %d", resp.StatusCode)
		}
	})

	t.Run("a browser app on another origin may read discovery", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, srv.URL(w.acme, "/.well-known/openid-configuration"), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://shop.example")
		resp, body := srv.Do(t, req)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(body, `"issuer"`) {
			t.Fatalf("discovery from another origin: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("discovery offers no implicit or password grant", func(t *testing.T) {
		var doc struct {
			Issuer        string   `json:"issuer"`
			GrantTypes    []string `json:"grant_types_supported"`
			ResponseTypes []string `json:"response_types_supported"`
			EndSession    string   `json:"end_session_endpoint"`
			Revocation    string   `json:"revocation_endpoint"`
			Introspection string   `json:"introspection_endpoint"`
		}
		_, body := srv.Get(t, w.acme, "/.well-known/openid-configuration")
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		for _, g := range doc.GrantTypes {
			if g == "password" || g == "implicit" {
				t.Fatalf("grant %s offered", g)
			}
		}
		issuer := srv.URL(w.acme, "")
		if doc.Issuer != issuer || doc.EndSession != issuer+"/oauth/end_session" || doc.Revocation != issuer+"/oauth/revoke" || doc.Introspection != issuer+"/oauth/introspect" {
			t.Fatalf("discovery %+v", doc)
		}
	})

	t.Run("implicit flow is refused", func(t *testing.T) {
		path := strings.Replace(app.authorizePath("imp", oauth2.GenerateVerifier()), "response_type=code", "response_type=token", 1)
		p := srv.Visitor(t).Get(w.acme, path)
		q := appCallback(t, p, shopRedirect)
		if q.Get("error") == "" || q.Get("code") != "" || q.Get("state") != "imp" {
			t.Fatalf("implicit: %v", q)
		}
	})

	t.Run("password grant is refused with JSON", func(t *testing.T) {
		resp, body := srv.Do(t, formRequest(t, srv, w.acme, "/oauth/token", url.Values{"grant_type": {"password"}, "username": {custEmail}, "password": {custPassword}}, w.web.ClientID, w.web.ClientSecret))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Header.Get("Content-Type"), "json") || !strings.Contains(body, "unsupported_grant_type") {
			t.Fatalf("password grant: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("prompt=none without a session answers login_required", func(t *testing.T) {
		p := follow(t, srv.Visitor(t), w.acme, srv.Visitor(t).Get(w.acme, app.authorizePath("pn", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "none"))), nil)
		q := appCallback(t, p, shopRedirect)
		if q.Get("error") != "login_required" || q.Get("state") != "pn" {
			t.Fatalf("prompt=none: %v", q)
		}
	})

	t.Run("prompt=create opens sign-up", func(t *testing.T) {
		v := srv.Visitor(t)
		p := follow(t, v, w.acme, v.Get(w.acme, app.authorizePath("pc", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("prompt", "create"))), nil)
		if !strings.Contains(p.Request.URL.RawQuery, "mode=signup") || !strings.Contains(p.Body, `data-testid="signup-form"`) {
			t.Fatalf("prompt=create landed on %s", p.Request.URL)
		}
		returnTo := p.Request.URL.Query().Get("return_to")
		p = v.Post(w.acme, "/register", url.Values{"email": {"new@example.com"}, "password": {custPassword}, "return_to": {returnTo}})
		if q := appCallback(t, follow(t, v, w.acme, p, nil), shopRedirect); q.Get("code") == "" || q.Get("state") != "pc" {
			t.Fatalf("after sign-up: %v", q)
		}
	})

	t.Run("spa without PKCE is refused", func(t *testing.T) {
		spa := newBrandApp(t, srv, w.acme, w.spa.ClientID, "", "https://app.example/cb")
		p := srv.Visitor(t).Get(w.acme, spa.authorizePath("np", ""))
		q := appCallback(t, p, "https://app.example/cb")
		if q.Get("error") != "invalid_request" || q.Get("state") != "np" {
			t.Fatalf("spa without PKCE: %v", q)
		}
		p = srv.Visitor(t).Get(w.acme, spa.authorizePath("pl", "")+"&code_challenge=abc&code_challenge_method=plain")
		if q := appCallback(t, p, "https://app.example/cb"); q.Get("error") != "invalid_request" {
			t.Fatalf("plain PKCE: %v", q)
		}
	})

	v := srv.Visitor(t)
	codeFor := func(t *testing.T, verifier string) string {
		t.Helper()
		p := follow(t, v, w.acme, v.Get(w.acme, app.authorizePath("c", verifier)), nil)
		if strings.Contains(p.Body, `action="/login"`) {
			p = follow(t, v, w.acme, loginThrough(t, v, w.acme, p, custEmail, custPassword), nil)
		}
		return appCallback(t, p, shopRedirect).Get("code")
	}

	t.Run("missing or wrong PKCE verifier", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		if _, err := app.conf.Exchange(app.ctx, codeFor(t, verifier)); err == nil {
			t.Fatal("exchange without the verifier worked")
		}
		if _, err := app.conf.Exchange(app.ctx, codeFor(t, verifier), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("exchange with a wrong verifier worked")
		}
	})

	t.Run("wrong redirect URI at the token endpoint", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		other := app.conf
		other.RedirectURL = "https://shop.example/other"
		if _, err := other.Exchange(app.ctx, codeFor(t, verifier), oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("a code was redeemed for another redirect URI")
		}
	})

	t.Run("a replayed code fails and revokes the first tokens", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := codeFor(t, verifier)
		first, err := app.conf.Exchange(app.ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.conf.Exchange(app.ctx, code, oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("the code worked twice")
		}
		if c, _ := userinfoStatus(t, srv, w.acme, first.AccessToken); c != http.StatusUnauthorized {
			t.Fatalf("first access token after the replay: %d", c)
		}
		if _, err := app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: first.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
			t.Fatal("first refresh token survived the replay")
		}
	})

	t.Run("disabling the customer revokes their tokens", func(t *testing.T) {
		tok, _ := w.signIn(t, app, v)
		w.env.DB().Gorm.Table("customers").Where("email = ?", custEmail).Update("status", "disabled")
		defer w.env.DB().Gorm.Table("customers").Where("email = ?", custEmail).Update("status", "active")
		if c, _ := userinfoStatus(t, srv, w.acme, tok.AccessToken); c != http.StatusUnauthorized {
			t.Fatalf("disabled customer's access token: %d", c)
		}
		if _, err := app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
			t.Fatal("disabled customer's refresh token works")
		}
	})

	t.Run("CORS only for the tenant's spa origins", func(t *testing.T) {
		for origin, want := range map[string]bool{"https://app.example": true, "https://evil.example": false} {
			req, _ := http.NewRequest(http.MethodOptions, srv.URL(w.acme, "/oauth/token"), nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, _ := srv.Do(t, req)
			if got := resp.Header.Get("Access-Control-Allow-Origin") == origin; got != want {
				t.Errorf("preflight from %s allowed=%v", origin, got)
			}
		}
		// A spa's token request from its own origin passes the cross-origin check.
		req := formRequest(t, srv, w.acme, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {w.spa.ClientID}}, "", "")
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, body := srv.Do(t, req)
		if resp.StatusCode == http.StatusForbidden || !strings.Contains(body, "invalid_grant") {
			t.Fatalf("cross-origin token request: %d %s", resp.StatusCode, body)
		}
	})
}

func TestOpenIDProviderMachineAndRS256(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	srv := w.srv
	machine := createApp(t, w.env, "--tenant", "acme", "--name", "Svc", "--type", "machine", "--scope", "orders:read", "--scope", "orders:write")
	p, err := gooidc.NewProvider(newBrandApp(t, srv, w.acme, "x", "", shopRedirect).ctx, srv.URL(w.acme, ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx := newBrandApp(t, srv, w.acme, "x", "", shopRedirect).ctx

	t.Run("client_credentials with registered scopes", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: machine.ClientID, ClientSecret: machine.ClientSecret, TokenURL: p.Endpoint().TokenURL, Scopes: []string{"orders:read"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("client_credentials: %v", err)
		}
		jws, err := jose.ParseSignedCompact(tok.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Sub   string `json:"sub"`
			Scope string `json:"scope"`
		}
		_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims)
		if claims.Sub != machine.ClientID || claims.Scope != "orders:read" {
			t.Fatalf("machine token claims %+v", claims)
		}
		cc.Scopes = []string{"admin"}
		if _, err := cc.Token(ctx); err == nil {
			t.Fatal("an unregistered scope was granted")
		}
		cc.Scopes, cc.ClientSecret = nil, "ghs_wrong"
		if _, err := cc.Token(ctx); err == nil {
			t.Fatal("a wrong secret got a token")
		}
	})

	t.Run("a web app cannot use client_credentials", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: w.web.ClientID, ClientSecret: w.web.ClientSecret, TokenURL: p.Endpoint().TokenURL}
		if _, err := cc.Token(ctx); err == nil {
			t.Fatal("web app got a client_credentials token")
		}
	})

	t.Run("an RS256 app gets RS256 id_tokens", func(t *testing.T) {
		rs := createApp(t, w.env, "--tenant", "acme", "--name", "Legacy", "--type", "web", "--first-party", "--redirect-uri", shopRedirect, "--signing-alg", "RS256")
		app := newBrandApp(t, srv, w.acme, rs.ClientID, rs.ClientSecret, shopRedirect)
		tok, _ := w.signIn(t, app, srv.Visitor(t))
		raw, _ := tok.Extra("id_token").(string)
		jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatalf("id_token is not RS256: %v", err)
		}
		_ = jws
		if _, err := app.provider.Verifier(&gooidc.Config{ClientID: rs.ClientID}).Verify(app.ctx, raw); err != nil {
			t.Fatalf("RS256 id_token does not verify: %v", err)
		}
	})
}
