package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

func jwksKids(t *testing.T, w *oidcWorld, host string) []string {
	t.Helper()
	_, body := w.srv.Get(t, host, "/oauth/keys")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("%s JWKS: %v", host, err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func idTokenKID(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

// TestConsoleRotateSigningKey: "rotate signing key now" on the apps page
// publishes the next key in the JWKS before it signs anything; tokens
// signed before still verify; another tenant's keys are untouched and its
// staff cannot rotate this tenant's.
func TestConsoleRotateSigningKey(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	mustStaff(t, w.env, "admin@acme.test", "admin", "acme")
	mustStaff(t, w.env, "owner@bravo.test", "owner", "bravo")
	app := newBrandApp(t, w.srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	v := w.srv.Visitor(t)
	tok, _ := w.signIn(t, app, v)
	before, _ := tok.Extra("id_token").(string)
	oldKID := idTokenKID(t, before)
	bravoKeys := jwksKids(t, w, w.bravo)

	admin := signedIn(t, w.srv, "admin@acme.test")
	page := admin.get("/t/acme/apps")
	if !strings.Contains(page.Body, `data-testid="signing-keys"`) || !strings.Contains(page.Body, "Rotate signing key now") ||
		!strings.Contains(page.Body, `data-kid="`+oldKID+`" data-state="signing"`) {
		t.Fatalf("the apps page offers no key rotation:\n%.3000s", page.Body)
	}
	if r := signedIn(t, w.srv, "owner@bravo.test").post("/t/acme/apps/signing-keys/rotate", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("bravo's owner rotated acme's key: %d", r.StatusCode)
	}
	if got := jwksKids(t, w, w.acme); len(got) != 1 {
		t.Fatalf("keys before rotation: %v", got)
	}
	if r := admin.post("/t/acme/apps/signing-keys/rotate", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("rotate now: %d %.500s", r.StatusCode, r.Body)
	}

	kids := jwksKids(t, w, w.acme)
	if len(kids) != 2 || !slices.Contains(kids, oldKID) {
		t.Fatalf("JWKS after rotate now: %v", kids)
	}
	newKID := kids[0]
	if newKID == oldKID {
		newKID = kids[1]
	}
	if p := admin.get("/t/acme/apps"); !strings.Contains(p.Body, `data-kid="`+newKID+`" data-state="next"`) {
		t.Fatal("the console does not show the next key")
	}
	// Published before it signs: a sign-in now is still signed by the old key.
	tok2, _ := w.signIn(t, app, v)
	after, _ := tok2.Extra("id_token").(string)
	if kid := idTokenKID(t, after); kid != oldKID {
		t.Fatalf("the new key signed at once (%s), before relying parties could fetch it", kid)
	}
	// A token signed before the rotation still verifies, with a fresh JWKS.
	fresh := newBrandApp(t, w.srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	if _, err := fresh.provider.Verifier(&gooidc.Config{ClientID: w.web.ClientID}).Verify(fresh.ctx, before); err != nil {
		t.Fatalf("a token signed before the rotation no longer verifies: %v", err)
	}
	if got := jwksKids(t, w, w.bravo); !slices.Equal(got, bravoKeys) {
		t.Fatalf("bravo's keys changed with acme's rotation: %v → %v", bravoKeys, got)
	}
	var n int64
	w.env.DB().Gorm.Table("audit_events").Where("action = ?", "signing_key.rotated").Count(&n)
	if n != 1 {
		t.Fatalf("%d audit events for the rotation", n)
	}
}
