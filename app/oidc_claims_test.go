package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// claimsWorld: acme releases favourite_drink under the scope coffee and
// keeps child_birthday to itself; bravo releases its own child_birthday
// (same key) under the scope family. Kim, on acme, has both values.
type claimsWorld struct {
	env    *apptest.Env
	srv    *apptest.Server
	web    createdApp
	third  createdApp
	kimSub string
}

const (
	acmeHost  = "acme.localhost"
	bravoHost = "bravo.localhost"
)

func newClaimsWorld(t *testing.T) *claimsWorld {
	t.Helper()
	env := appEnv(t)
	ctx := context.Background()
	ts := env.Tenants()
	for slug, fields := range map[string][]tenants.Field{
		"acme": {
			{Key: "favourite_drink", Label: "Favourite drink", Type: tenants.TypeText, Capture: tenants.CaptureOptional, Claim: "favourite_drink", ClaimScope: "coffee"},
			{Key: "child_birthday", Label: "Child's birthday", Type: tenants.TypeDate, Capture: tenants.CaptureOptional},
		},
		"bravo": {
			{Key: "child_birthday", Label: "Child's birthday", Type: tenants.TypeDate, Capture: tenants.CaptureOptional, Claim: "child_birthday", ClaimScope: "family"},
			{Key: "favourite_drink", Label: "Drink", Type: tenants.TypeText, Capture: tenants.CaptureOptional, Claim: "drink", ClaimScope: "coffee"},
		},
	} {
		tn, err := ts.BySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.SaveFields(ctx, tn.ID, fields); err != nil {
			t.Fatalf("%s fields: %v", slug, err)
		}
	}
	w := &claimsWorld{env: env}
	w.web = createApp(t, env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	w.third = createApp(t, env, "--tenant", "acme", "--name", "Partner", "--type", "web", "--redirect-uri", shopRedirect)
	w.srv = env.Serve()
	v := w.srv.Visitor(t)
	p := v.Post(acmeHost, "/register", url.Values{"email": {custEmail}, "password": {custPassword},
		"favourite_drink": {"flat white"}, "child_birthday": {"2019-05-04"}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d %.300s", p.StatusCode, p.Body)
	}
	v.Post(acmeHost, "/logout", url.Values{})
	w.kimSub = customerID(t, env, custEmail)
	return w
}

// tokensFor runs the code flow for app with scopes and returns the
// id_token's and userinfo's claims.
func (w *claimsWorld) tokensFor(t *testing.T, app createdApp, scopes ...string) (idClaims, infoClaims map[string]any) {
	t.Helper()
	rp := newBrandApp(t, w.srv, acmeHost, app.ClientID, app.ClientSecret, shopRedirect)
	rp.conf.Scopes = scopes
	v := w.srv.Visitor(t)
	verifier := oauth2.GenerateVerifier()
	p := follow(t, v, acmeHost, v.Get(acmeHost, rp.authorizePath("c", verifier)), nil)
	p = follow(t, v, acmeHost, loginThrough(t, v, acmeHost, p, custEmail, custPassword), nil)
	q := appCallback(t, p, shopRedirect)
	tok, err := rp.conf.Exchange(rp.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&gooidc.Config{ClientID: app.ClientID}).Verify(rp.ctx, raw)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	if err := idt.Claims(&idClaims); err != nil {
		t.Fatal(err)
	}
	info, err := rp.provider.UserInfo(rp.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != w.kimSub {
		t.Fatalf("userinfo sub %s", info.Subject)
	}
	if err := info.Claims(&infoClaims); err != nil {
		t.Fatal(err)
	}
	return idClaims, infoClaims
}

func TestOIDCFieldClaims(t *testing.T) {
	t.Parallel()
	w := newClaimsWorld(t)

	t.Run("asked for and granted: in the id_token and at userinfo", func(t *testing.T) {
		id, info := w.tokensFor(t, w.web, gooidc.ScopeOpenID, "email", "coffee")
		for where, c := range map[string]map[string]any{"id_token": id, "userinfo": info} {
			if c["favourite_drink"] != "flat white" {
				t.Errorf("%s: favourite_drink = %v", where, c["favourite_drink"])
			}
			if _, ok := c["child_birthday"]; ok {
				t.Errorf("%s released a field acme keeps to itself: %v", where, c)
			}
			if c["email"] != custEmail {
				t.Errorf("%s: email %v", where, c["email"])
			}
		}
	})

	t.Run("not asked for: absent", func(t *testing.T) {
		id, info := w.tokensFor(t, w.web, gooidc.ScopeOpenID, "email")
		for where, c := range map[string]map[string]any{"id_token": id, "userinfo": info} {
			if _, ok := c["favourite_drink"]; ok {
				t.Errorf("%s carries favourite_drink without the coffee scope", where)
			}
		}
	})

	t.Run("another tenant's scope and claim are never released here", func(t *testing.T) {
		// bravo releases child_birthday under "family"; acme has the same
		// key without a claim, so asking acme for "family" gets nothing.
		id, info := w.tokensFor(t, w.web, gooidc.ScopeOpenID, "family")
		for where, c := range map[string]map[string]any{"id_token": id, "userinfo": info} {
			if _, ok := c["child_birthday"]; ok {
				t.Errorf("%s released child_birthday on acme through bravo's scope", where)
			}
			if _, ok := c["drink"]; ok {
				t.Errorf("%s released bravo's claim name on acme", where)
			}
		}
	})

	t.Run("discovery lists the tenant's own scopes and claims only", func(t *testing.T) {
		doc := func(host string) (scopes, claims []string) {
			_, body := w.srv.Get(t, host, "/.well-known/openid-configuration")
			var d struct {
				Scopes []string `json:"scopes_supported"`
				Claims []string `json:"claims_supported"`
			}
			if err := json.Unmarshal([]byte(body), &d); err != nil {
				t.Fatalf("%s discovery: %v", host, err)
			}
			return d.Scopes, d.Claims
		}
		as, ac := doc(acmeHost)
		if !slices.Contains(as, "coffee") || !slices.Contains(ac, "favourite_drink") || !slices.Contains(as, "openid") || !slices.Contains(ac, "sid") {
			t.Errorf("acme discovery scopes %v claims %v", as, ac)
		}
		if slices.Contains(as, "family") || slices.Contains(ac, "child_birthday") || slices.Contains(ac, "drink") {
			t.Errorf("acme discovery lists bravo's: scopes %v claims %v", as, ac)
		}
		bs, bc := doc(bravoHost)
		if !slices.Contains(bs, "family") || !slices.Contains(bc, "child_birthday") || slices.Contains(bc, "favourite_drink") {
			t.Errorf("bravo discovery scopes %v claims %v", bs, bc)
		}
	})

	t.Run("consent names the custom scope", func(t *testing.T) {
		rp := newBrandApp(t, w.srv, acmeHost, w.third.ClientID, w.third.ClientSecret, shopRedirect)
		rp.conf.Scopes = []string{gooidc.ScopeOpenID, "coffee"}
		v := w.srv.Visitor(t)
		p := follow(t, v, acmeHost, v.Get(acmeHost, rp.authorizePath("k", oauth2.GenerateVerifier())), nil)
		p = follow(t, v, acmeHost, loginThrough(t, v, acmeHost, p, custEmail, custPassword), nil)
		if !strings.Contains(p.Body, `data-testid="consent-form"`) || !strings.Contains(p.Body, "your answers to “Favourite drink”") {
			t.Fatalf("consent page does not describe the coffee scope: %d %.600s", p.StatusCode, p.Body)
		}
	})
}

// TestConsoleFieldClaims: the fields editor stores a field's claim and
// scope, and refuses registered or malformed names with a message next to
// the input.
func TestConsoleFieldClaims(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	srv := env.Serve()
	b := signedIn(t, srv, "admin@acme.test")
	field := func(extra url.Values) url.Values {
		v := url.Values{"key": {"favourite_drink"}, "label": {"Favourite drink"}, "type": {"text"}, "capture": {"optional"}}
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	for name, c := range map[string]struct {
		form    url.Values
		field   string
		message string
	}{
		"registered claim": {field(url.Values{"claim": {"email"}, "claim_scope": {"coffee"}}), "claim", "registered OpenID Connect claim"},
		"sub":              {field(url.Values{"claim": {"sub"}, "claim_scope": {"coffee"}}), "claim", "registered OpenID Connect claim"},
		"not an identifier": {field(url.Values{"claim": {"Favourite Drink!"}, "claim_scope": {"coffee"}}), "claim",
			"must start with a letter"},
		"standard scope":  {field(url.Values{"claim": {"favourite_drink"}, "claim_scope": {"profile"}}), "claim-scope", "standard scope"},
		"bad scope":       {field(url.Values{"claim": {"favourite_drink"}, "claim_scope": {"my scope"}}), "claim-scope", "must start with a letter"},
		"scope, no claim": {field(url.Values{"claim_scope": {"coffee"}}), "claim", "name the claim"},
		"claim, no scope": {field(url.Values{"claim": {"favourite_drink"}}), "claim-scope", "name the scope"},
	} {
		t.Run(name, func(t *testing.T) {
			r := b.post("/t/acme/fields", c.form)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="f-`+c.field+`-error"`) || !strings.Contains(r.Body, c.message) {
				t.Fatalf("status %d; want the message %q under f-%s\n%.2000s", r.StatusCode, c.message, c.field, r.Body)
			}
		})
	}
	if r := b.post("/t/acme/fields", field(url.Values{"claim": {"favourite_drink"}, "claim_scope": {"coffee"}})); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("good claim refused: %d %.500s", r.StatusCode, r.Body)
	}
	page := b.get("/t/acme/fields/favourite_drink")
	if !strings.Contains(page.Body, `name="claim" maxlength="40" pattern="[a-z][a-z0-9_]*" autocomplete="off" placeholder="favourite_drink" value="favourite_drink"`) ||
		!strings.Contains(page.Body, `value="coffee"`) {
		t.Fatalf("the edit page does not show the stored claim and scope:\n%.3000s", page.Body)
	}
	// A second field may not release the same claim.
	r := b.post("/t/acme/fields", url.Values{"key": {"drink2"}, "label": {"Other drink"}, "type": {"text"}, "capture": {"optional"},
		"claim": {"favourite_drink"}, "claim_scope": {"tea"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="f-claim-error"`) || !strings.Contains(r.Body, "already released") {
		t.Fatalf("duplicate claim: %d", r.StatusCode)
	}
	// Clearing both keeps the field to the brand.
	if r := b.post("/t/acme/fields/favourite_drink", field(nil)); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("clearing the claim: %d", r.StatusCode)
	}
	var claim []string
	env.DB().Gorm.Table("registration_fields").Where("key = ?", "favourite_drink").Pluck("claim", &claim)
	if len(claim) != 1 || claim[0] != "" {
		t.Fatalf("claim after clearing: %v", claim)
	}
}
