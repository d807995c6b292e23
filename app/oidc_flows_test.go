package app_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// idClaims is what these tests read from an id_token.
type idClaims struct {
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	AMR           []string `json:"amr"`
	AuthTime      int64    `json:"auth_time"`
}

// exchangeID swaps the code for tokens and verifies the id_token.
func exchangeID(t *testing.T, app *brandApp, code, verifier string) (*oauth2.Token, *gooidc.IDToken, idClaims) {
	t.Helper()
	tok, err := app.conf.Exchange(app.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := app.provider.Verifier(&gooidc.Config{ClientID: app.conf.ClientID}).Verify(app.ctx, raw)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return tok, idt, c
}

// loginPageOf starts an authorization and returns the hosted login page
// it lands on, with the return_to that carries the request.
func loginPageOf(t *testing.T, v *apptest.Visitor, host string, app *brandApp, state, verifier string) (apptest.Page, string) {
	t.Helper()
	p := follow(t, v, host, v.Get(host, app.authorizePath(state, verifier)), nil)
	if p.StatusCode != http.StatusOK || p.Request.URL.Path != "/login" {
		t.Fatalf("expected the hosted login page, got %d %s %.300s", p.StatusCode, p.Request.URL.Path, p.Body)
	}
	returnTo := p.Request.URL.Query().Get("return_to")
	if !strings.HasPrefix(returnTo, "/oauth/continue?id=") {
		t.Fatalf("login page return_to = %q", returnTo)
	}
	return p, returnTo
}

// Where the tenant requires a verified address, a sign-up inside an
// authorization waits for the mailed link; the link, opened in the browser
// that signed up, finishes the authorization and returns to the app. The
// same link opened in another browser confirms the address and signs
// nobody in.
func TestOpenIDProviderSignupWithRequiredVerification(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	b.withFields(t, "acme", tenants.Field{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired})
	b.withSettings(t, "acme", func(s *tenants.Settings) { s.EmailVerification = "required" })
	const host = "acme.localhost"
	web := createApp(t, b.env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	app := newBrandApp(t, b.srv, host, web.ClientID, web.ClientSecret, shopRedirect)
	apptest.Eventually(t, 5*time.Second, func() error {
		p := signup(b.srv.Visitor(t), host, "probe@example.com", "probe passphrase", url.Values{"first_name": {"P"}})
		if p.Header.Get("Location") != "/login?notice=verify" {
			return errors.New("the setting has not reached the server yet: " + p.Header.Get("Location"))
		}
		return nil
	})

	t.Run("the link in the signing-up browser returns to the app", func(t *testing.T) {
		v := b.srv.Visitor(t)
		verifier := oauth2.GenerateVerifier()
		_, returnTo := loginPageOf(t, v, host, app, "sv", verifier)
		p := v.Post(host, "/register", url.Values{"email": {"vera@example.com"}, "password": {"vera passphrase"}, "first_name": {"Vera"}, "return_to": {returnTo}})
		wantRedirect(t, p, "/login?notice=verify")
		notSignedIn(t, v, host)
		link := linkIn(t, b.env.Mail.WaitFor(t, "vera@example.com", 10*time.Second))
		q := appCallback(t, follow(t, v, host, v.Get(host, link), nil), shopRedirect)
		if q.Get("state") != "sv" || q.Get("code") == "" {
			t.Fatalf("callback %v", q)
		}
		_, idt, c := exchangeID(t, app, q.Get("code"), verifier)
		if c.Email != "vera@example.com" || !c.EmailVerified || !slices.Equal(c.AMR, []string{"pwd"}) || c.AuthTime == 0 {
			t.Fatalf("id_token of %s: %+v", idt.Subject, c)
		}
	})

	t.Run("the link in another browser signs nobody in", func(t *testing.T) {
		v := b.srv.Visitor(t)
		_, returnTo := loginPageOf(t, v, host, app, "sx", oauth2.GenerateVerifier())
		p := v.Post(host, "/register", url.Values{"email": {"walt@example.com"}, "password": {"walt passphrase"}, "first_name": {"Walt"}, "return_to": {returnTo}})
		wantRedirect(t, p, "/login?notice=verify")
		link := linkIn(t, b.env.Mail.WaitFor(t, "walt@example.com", 10*time.Second))
		other := b.srv.Visitor(t)
		page := other.Get(host, link)
		if page.StatusCode != http.StatusOK || page.Header.Get("Location") != "" || !strings.Contains(page.Body, "confirmed") {
			t.Fatalf("link in another browser: %d %q %.300s", page.StatusCode, page.Header.Get("Location"), page.Body)
		}
		notSignedIn(t, other, host)
		// The address is confirmed: the customer logs in and carries on.
		p = follow(t, v, host, v.Post(host, "/login", url.Values{"email": {"walt@example.com"}, "password": {"walt passphrase"}, "return_to": {returnTo}}), nil)
		if q := appCallback(t, p, shopRedirect); q.Get("code") == "" || q.Get("state") != "sx" {
			t.Fatalf("log-in after confirming elsewhere: %v", q)
		}
	})
}

// A social sign-in whose verified email belongs to a password account goes
// through the link step (/social/link, confirmed with the password) and
// still returns to the app, reporting both methods in amr. A plain social
// sign-in reports "fed", a password log-in "pwd".
func TestOpenIDProviderSocialLinkStepAndAMR(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	const host = "acme.localhost"
	web := createApp(t, b.env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	app := newBrandApp(t, b.srv, host, web.ClientID, web.ClientSecret, shopRedirect)
	owner := b.srv.Visitor(t)
	wantRedirect(t, signup(owner, host, "lena@example.com", "lena passphrase", nil), "/account")

	socialThrough := func(t *testing.T, v *apptest.Visitor, state, verifier string) apptest.Page {
		t.Helper()
		return socialThroughLogin(t, v, host, app, state, verifier)
	}

	t.Run("link step returns to the app", func(t *testing.T) {
		fake.Set(func(f *apptest.FakeOIDC) {
			f.User = apptest.FakeUser{Subject: "u-lena", Email: "lena@example.com", EmailVerified: true}
		})
		v := b.srv.Visitor(t)
		verifier := oauth2.GenerateVerifier()
		p := socialThrough(t, v, "ln", verifier)
		wantRedirect(t, p, "/social/link?token=")
		tok, _ := url.QueryUnescape(strings.TrimPrefix(p.Header.Get("Location"), "/social/link?token="))
		if bad := v.Post(host, "/social/link", url.Values{"token": {tok}, "password": {"not lenas"}}); bad.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", bad.StatusCode)
		}
		q := appCallback(t, follow(t, v, host, v.Post(host, "/social/link", url.Values{"token": {tok}, "password": {"lena passphrase"}}), nil), shopRedirect)
		if q.Get("state") != "ln" || q.Get("code") == "" {
			t.Fatalf("callback %v", q)
		}
		_, _, c := exchangeID(t, app, q.Get("code"), verifier)
		if c.Email != "lena@example.com" || !slices.Equal(c.AMR, []string{"fed", "pwd"}) {
			t.Fatalf("id_token after the link step: %+v", c)
		}
	})

	t.Run("social sign-in reports fed", func(t *testing.T) {
		// Lena's provider identity is linked now: it signs straight in.
		v := b.srv.Visitor(t)
		verifier := oauth2.GenerateVerifier()
		q := appCallback(t, follow(t, v, host, socialThrough(t, v, "fd", verifier), nil), shopRedirect)
		_, _, c := exchangeID(t, app, q.Get("code"), verifier)
		if !slices.Equal(c.AMR, []string{"fed"}) {
			t.Fatalf("amr after a social sign-in: %v", c.AMR)
		}
	})

	t.Run("password log-in reports pwd, even for an account with a provider", func(t *testing.T) {
		v := b.srv.Visitor(t)
		verifier := oauth2.GenerateVerifier()
		p, _ := loginPageOf(t, v, host, app, "pw", verifier)
		q := appCallback(t, follow(t, v, host, loginThrough(t, v, host, p, "lena@example.com", "lena passphrase"), nil), shopRedirect)
		_, _, c := exchangeID(t, app, q.Get("code"), verifier)
		if !slices.Equal(c.AMR, []string{"pwd"}) {
			t.Fatalf("amr after a password log-in: %v", c.AMR)
		}
		// Single sign-on to the same app reports the session's method, not
		// a new one.
		verifier = oauth2.GenerateVerifier()
		q = appCallback(t, follow(t, v, host, v.Get(host, app.authorizePath("sso", verifier)), nil), shopRedirect)
		if _, _, c := exchangeID(t, app, q.Get("code"), verifier); !slices.Equal(c.AMR, []string{"pwd"}) {
			t.Fatalf("amr on single sign-on: %v", c.AMR)
		}
	})
}

// Access tokens are RFC 9068 JWTs in their claims (iss, sub, aud, exp,
// jti, client_id, scope). Their header says typ "JWT", not "at+jwt":
// zitadel's op signs every token with a fixed typ (docs/architecture.md).
func TestOpenIDProviderAccessTokenClaims(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	app := newBrandApp(t, w.srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	tok, _ := w.signIn(t, app, w.srv.Visitor(t))
	var claims struct {
		Iss      string `json:"iss"`
		Sub      string `json:"sub"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		JTI      string `json:"jti"`
		Exp      int64  `json:"exp"`
	}
	decodeJWTPart(t, tok.AccessToken, 1, &claims)
	if claims.Iss != w.srv.URL(w.acme, "") || claims.Sub != customerID(t, w.env, custEmail) || claims.ClientID != w.web.ClientID || claims.JTI == "" || claims.Exp == 0 || !strings.Contains(claims.Scope, "openid") {
		t.Fatalf("access token claims %+v", claims)
	}
}

// decodeJWTPart decodes part i (0 header, 1 claims) of a compact JWT.
func decodeJWTPart(t *testing.T, jwt string, i int, into any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
}

// socialThroughLogin presses the provider button on the login page of an
// authorization and comes back from the fake provider.
func socialThroughLogin(t *testing.T, v *apptest.Visitor, host string, app *brandApp, state, verifier string) apptest.Page {
	t.Helper()
	var returnTo string
	apptest.Eventually(t, 5*time.Second, func() error {
		p, rt := loginPageOf(t, v, host, app, state, verifier)
		if !strings.Contains(p.Body, "/social/oidc?return_to=") {
			return errors.New("no social button yet")
		}
		returnTo = rt
		return nil
	})
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
	return v.Get(host, cb.RequestURI())
}

// With brand login only, the link step is confirmed by a mailed link
// instead of the password; confirming it still returns to the app.
func TestOpenIDProviderMailedLinkStep(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	const host = "acme.localhost"
	web := createApp(t, b.env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	app := newBrandApp(t, b.srv, host, web.ClientID, web.ClientSecret, shopRedirect)
	wantRedirect(t, signup(b.srv.Visitor(t), host, "pat@example.com", "pats old passphrase", nil), "/account")
	b.env.Mail.WaitFor(t, "pat@example.com", 15*time.Second) // the sign-up's confirmation
	b.withSettings(t, "acme", func(s *tenants.Settings) { s.BrandLoginOnly = true })
	fake.Set(func(f *apptest.FakeOIDC) {
		f.User = apptest.FakeUser{Subject: "p-1", Email: "pat@example.com", EmailVerified: true}
	})
	v := b.srv.Visitor(t)
	apptest.Eventually(t, 5*time.Second, func() error {
		if p := v.Get(host, "/login"); !strings.Contains(p.Body, `data-testid="brand-only-help"`) {
			return errors.New("brand login only not served yet")
		}
		return nil
	})
	verifier := oauth2.GenerateVerifier()
	p := socialThroughLogin(t, v, host, app, "ml", verifier)
	wantRedirect(t, p, "/social/link?token=")
	token, _ := url.QueryUnescape(strings.TrimPrefix(p.Header.Get("Location"), "/social/link?token="))
	if sent := v.Post(host, "/social/link/mail", url.Values{"token": {token}}); !strings.Contains(sent.Body, `data-testid="link-sent"`) {
		t.Fatalf("after asking for the mail:\n%.300s", sent.Body)
	}
	link, _ := url.Parse(linkIn(t, b.env.Mail.WaitFor(t, "pat@example.com", 15*time.Second)))
	q := appCallback(t, follow(t, v, host, v.Post(host, "/social/link/mail/confirm", url.Values{"token": {link.Query().Get("token")}}), nil), shopRedirect)
	if q.Get("state") != "ml" || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	if _, _, c := exchangeID(t, app, q.Get("code"), verifier); c.Email != "pat@example.com" || !slices.Equal(c.AMR, []string{"fed"}) {
		t.Fatalf("id_token after the mailed link: %+v", c)
	}
}
