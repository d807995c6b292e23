package app_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestOpenIDProviderGrantsStayInTheirTenant: a code, a refresh token and an
// access token of tenant acme are worthless on tenant bravo's host, whether
// they come with bravo's own client or with acme's client credentials, and
// trying them there spends nothing: they still work on acme afterwards.
func TestOpenIDProviderGrantsStayInTheirTenant(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	srv := w.srv
	acmeApp := newBrandApp(t, srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	bravoApp := newBrandApp(t, srv, w.bravo, w.bravoWeb.ClientID, w.bravoWeb.ClientSecret, shopRedirect)
	// acme's client, pointed at bravo's token endpoint.
	acmeClientOnBravo := bravoApp.conf
	acmeClientOnBravo.ClientID, acmeClientOnBravo.ClientSecret = w.web.ClientID, w.web.ClientSecret
	v := srv.Visitor(t)
	tok, _ := w.signIn(t, acmeApp, v)

	// bravo's client is told the grant is not one of its tenant's. acme's
	// client is not known on bravo's host at all, which a refresh says;
	// op looks a code up before the client, so an exchange finds no code.
	onBravo := []struct {
		client            string
		conf              oauth2.Config
		refresh, exchange string
	}{
		{"bravo's client", bravoApp.conf, "invalid_grant", "invalid_grant"},
		{"acme's client", acmeClientOnBravo, "invalid_client", "invalid_grant"},
	}
	refused := func(t *testing.T, client, want string, err error) {
		t.Helper()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != want {
			t.Fatalf("%s: got %v, want %s", client, err, want)
		}
	}

	t.Run("refresh token on another tenant's host", func(t *testing.T) {
		for _, c := range onBravo {
			_, err := c.conf.TokenSource(bravoApp.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
			refused(t, c.client, c.refresh, err)
		}
		fresh, err := acmeApp.conf.TokenSource(acmeApp.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil {
			t.Fatalf("the refresh token no longer works on acme: %v", err)
		}
		tok = fresh
	})

	t.Run("code on another tenant's host", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		p := follow(t, v, w.acme, v.Get(w.acme, acmeApp.authorizePath("x", verifier)), nil)
		code := appCallback(t, p, shopRedirect).Get("code")
		for _, c := range onBravo {
			_, err := c.conf.Exchange(bravoApp.ctx, code, oauth2.VerifierOption(verifier))
			refused(t, c.client, c.exchange, err)
		}
		if _, err := acmeApp.conf.Exchange(acmeApp.ctx, code, oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("the code no longer works on acme: %v", err)
		}
	})

	t.Run("access token introspected on another tenant's host", func(t *testing.T) {
		if introspectActive(t, srv, w.bravo, tok.AccessToken, w.bravoWeb) {
			t.Fatal("bravo's client introspected acme's token as active")
		}
		resp, body := srv.Do(t, formRequest(t, srv, w.bravo, "/oauth/introspect", url.Values{"token": {tok.AccessToken}}, w.web.ClientID, w.web.ClientSecret))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("acme's client on bravo's host: %d %s", resp.StatusCode, body)
		}
		if !introspectActive(t, srv, w.acme, tok.AccessToken, w.web) {
			t.Fatal("the token is not active on acme")
		}
	})
}
