package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/app/apps"
	"gatehouse/app/oidc"
	"gatehouse/app/secrets"
	"gatehouse/config"
)

// tokenTyp is a compact JWS's JOSE typ header, unverified.
func tokenTyp(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("not a JWS: %v", err)
	}
	typ, _ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string)
	return typ
}

// verifyWithJWKS checks raw against the host's published JWKS with
// go-jose, by its kid, and returns its claims.
func verifyWithJWKS(t *testing.T, w *oidcWorld, host, raw string, alg jose.SignatureAlgorithm) map[string]any {
	t.Helper()
	resp, body := w.srv.Do(t, mustGet(t, w.srv.URL(host, "/oauth/keys")))
	var set jose.JSONWebKeySet
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &set) != nil {
		t.Fatalf("JWKS: %d %.200s", resp.StatusCode, body)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("not a %s JWS: %v", alg, err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the JWKS", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("does not verify against the JWKS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestOpenIDProviderAccessTokensAreATJWT: every grant's access token says
// typ at+jwt (RFC 9068 §2.1) and verifies against the JWKS, with the same
// key as the id_token, whose typ stays JWT and whose at_hash is that of
// the access token it came with. go-oidc and x/oauth2 relying parties
// take both.
func TestOpenIDProviderAccessTokensAreATJWT(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	srv := w.srv
	web := newBrandApp(t, srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)

	// checkPair checks a token response of the code or refresh grant.
	checkPair := func(t *testing.T, app *brandApp, tok *oauth2.Token, alg jose.SignatureAlgorithm) {
		t.Helper()
		if typ := tokenTyp(t, tok.AccessToken); typ != "at+jwt" {
			t.Fatalf("access token typ %q", typ)
		}
		claims := verifyWithJWKS(t, w, w.acme, tok.AccessToken, alg)
		if claims["client_id"] != app.conf.ClientID || claims["jti"] == "" || claims["iss"] != srv.URL(w.acme, "") {
			t.Fatalf("access token claims %v", claims)
		}
		rawID, _ := tok.Extra("id_token").(string)
		if typ := tokenTyp(t, rawID); typ != "JWT" {
			t.Fatalf("id_token typ %q", typ)
		}
		idt, err := app.provider.Verifier(&gooidc.Config{ClientID: app.conf.ClientID, SupportedSigningAlgs: []string{string(alg)}}).Verify(app.ctx, rawID)
		if err != nil {
			t.Fatalf("id_token: %v", err)
		}
		if idt.AccessTokenHash == "" {
			t.Fatal("the id_token has no at_hash")
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash does not match the access token: %v", err)
		}
		if code, body := userinfoStatus(t, srv, w.acme, tok.AccessToken); code != http.StatusOK {
			t.Fatalf("userinfo with the at+jwt: %d %s", code, body)
		}
	}
	refresh := func(t *testing.T, app *brandApp, tok *oauth2.Token) *oauth2.Token {
		t.Helper()
		fresh, err := app.conf.TokenSource(app.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		return fresh
	}

	t.Run("code and refresh", func(t *testing.T) {
		tok, _ := w.signIn(t, web, srv.Visitor(t))
		checkPair(t, web, tok, jose.ES256)
		checkPair(t, web, refresh(t, web, tok), jose.ES256)
	})

	t.Run("an RS256 app", func(t *testing.T) {
		rs := createApp(t, w.env, "--tenant", "acme", "--name", "Legacy", "--type", "web", "--first-party", "--redirect-uri", shopRedirect, "--signing-alg", "RS256")
		app := newBrandApp(t, srv, w.acme, rs.ClientID, rs.ClientSecret, shopRedirect)
		tok, _ := w.signIn(t, app, srv.Visitor(t))
		checkPair(t, app, tok, jose.RS256)
		checkPair(t, app, refresh(t, app, tok), jose.RS256)
	})

	t.Run("client_credentials", func(t *testing.T) {
		machine := createApp(t, w.env, "--tenant", "acme", "--name", "Svc", "--type", "machine", "--scope", "orders:read")
		cc := clientcredentials.Config{ClientID: machine.ClientID, ClientSecret: machine.ClientSecret, TokenURL: web.provider.Endpoint().TokenURL}
		tok, err := cc.Token(web.ctx)
		if err != nil {
			t.Fatalf("client_credentials: %v", err)
		}
		if typ := tokenTyp(t, tok.AccessToken); typ != "at+jwt" {
			t.Fatalf("machine access token typ %q", typ)
		}
		if _, ok := tok.Extra("id_token").(string); ok {
			t.Fatal("client_credentials returned an id_token")
		}
		claims := verifyWithJWKS(t, w, w.acme, tok.AccessToken, jose.ES256)
		if claims["sub"] != machine.ClientID || claims["scope"] != "orders:read" {
			t.Fatalf("machine token claims %v", claims)
		}
	})

	t.Run("our verifier checks typ", func(t *testing.T) { checkVerifierTyp(t, w, web) })
}

// checkVerifierTyp: our resource-server check (userinfo, /api/v1/me) takes
// only tokens typed at+jwt. An id_token is refused, and so is a token
// identical to a live access token, signed with the tenant's own key,
// whose typ says JWT: the typ check alone refuses it.
func checkVerifierTyp(t *testing.T, w *oidcWorld, web *brandApp) {
	srv := w.srv
	tok, _ := w.signIn(t, web, srv.Visitor(t))
	idToken, _ := tok.Extra("id_token").(string)

	me := func(raw string) int {
		req := mustGet(t, srv.URL(w.acme, "/api/v1/me"))
		req.Header.Set("Authorization", "Bearer "+raw)
		resp, _ := srv.Do(t, req)
		return resp.StatusCode
	}
	// resigned is the access token's own payload under the tenant's
	// current ES256 key (read as the server does, from the sealed row),
	// with the given typ.
	resigned := func(t *testing.T, typ string) string {
		t.Helper()
		key, err := config.ParseSecretKey(w.env.Getenv("GATEHOUSE_SECRET_KEY"))
		if err != nil {
			t.Fatal(err)
		}
		box, err := secrets.NewBox(key)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		w.env.DB().Gorm.Table("tenants").Where("slug = ?", "acme").Pluck("id", &ids)
		if len(ids) != 1 {
			t.Fatalf("tenant acme: %v", ids)
		}
		tenantID := uuid.MustParse(ids[0])
		k, err := oidc.NewKeys(w.env.DB().Gorm, box).Signing(context.Background(), tenantID, apps.ES256)
		if err != nil {
			t.Fatal(err)
		}
		jws, err := jose.ParseSignedCompact(tok.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil || jws.Signatures[0].Header.KeyID != k.KID {
			t.Fatalf("the access token is not signed by the tenant's current key: %v", err)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.KID}},
			(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := signer.Sign(jws.UnsafePayloadWithoutVerification())
		if err != nil {
			t.Fatal(err)
		}
		raw, err := out.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}

	t.Run("ok", func(t *testing.T) {
		if code, body := userinfoStatus(t, srv, w.acme, tok.AccessToken); code != http.StatusOK {
			t.Fatalf("userinfo: %d %s", code, body)
		}
		if code := me(tok.AccessToken); code != http.StatusOK {
			t.Fatalf("/api/v1/me: %d", code)
		}
	})
	t.Run("full media type", func(t *testing.T) {
		if code, body := userinfoStatus(t, srv, w.acme, resigned(t, "application/at+jwt")); code != http.StatusOK {
			t.Fatalf("typ application/at+jwt at userinfo: %d %s", code, body)
		}
	})
	t.Run("id_token as access token", func(t *testing.T) {
		if code, _ := userinfoStatus(t, srv, w.acme, idToken); code != http.StatusUnauthorized {
			t.Fatalf("id_token at userinfo: %d", code)
		}
		if code := me(idToken); code != http.StatusUnauthorized {
			t.Fatalf("id_token at /api/v1/me: %d", code)
		}
	})
	t.Run("typ JWT", func(t *testing.T) {
		forged := resigned(t, "JWT")
		if code, _ := userinfoStatus(t, srv, w.acme, forged); code != http.StatusUnauthorized {
			t.Fatalf("a live token's claims typed JWT at userinfo: %d", code)
		}
		if code := me(forged); code != http.StatusUnauthorized {
			t.Fatalf("a live token's claims typed JWT at /api/v1/me: %d", code)
		}
	})
}
