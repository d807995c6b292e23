package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"gatehouse/app"
	"gatehouse/app/apptest"
)

// TestTenantAsAnotherTenantsProvider is issue 10's cross-tenant case:
// bravo's brand OpenID provider is acme's own Gatehouse provider on the same
// server (issuer http://acme.localhost:PORT). A customer of acme signs in
// to bravo through acme's hosted login and consent page and lands back on
// bravo signed in, as a bravo customer of their own; one who does not
// consent lands on bravo's log-in page with the "denied" notice. Bravo's
// server-side calls to acme (discovery, token, JWKS, userinfo) go through
// the guarded outbound client, whose wiring-only resolver sends
// *.localhost to the server here.
func TestTenantAsAnotherTenantsProvider(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true")
	env.SetOptions(app.Options{OutboundResolve: func(_ context.Context, host string) ([]netip.Addr, error) {
		if strings.HasSuffix(host, ".localhost") {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, fmt.Errorf("no such host %s", host)
	}})
	for slug, name := range map[string]string{"acme": "Acme Coffee", "bravo": "Bravo Tea"} {
		mustTenantCLI(t, env, slug, name)
	}
	srv := env.Serve()
	acme, bravo := "acme.localhost", "bravo.localhost"
	issuer := srv.URL(acme, "")
	// A third-party app of acme: its customers are asked before bravo
	// learns anything about them.
	partner := createApp(t, env, "--tenant", "acme", "--name", "Bravo Tea", "--type", "web",
		"--redirect-uri", srv.URL(bravo, "/social/oidc/callback"))
	saveOIDCApp(t, env, "bravo", issuer, partner.ClientID, partner.ClientSecret)
	signUp(t, srv.Visitor(t), acme, custEmail, custPassword)
	signUp(t, srv.Visitor(t), acme, "lee@example.com", "another long passphrase")
	kim := customerID(t, env, custEmail)

	// toConsent starts bravo's brand sign-in and follows it onto acme's
	// host, through acme's log-in form, to acme's consent page.
	toConsent := func(t *testing.T, v *apptest.Visitor, email, password string) string {
		t.Helper()
		start := v.Get(bravo, "/social/oidc")
		loc, err := url.Parse(start.Header.Get("Location"))
		if start.StatusCode != http.StatusSeeOther || err != nil || loc.Scheme+"://"+loc.Host != issuer || loc.Path != "/oauth/authorize" {
			t.Fatalf("bravo's brand sign-in does not go to acme's provider: %d %q", start.StatusCode, start.Header.Get("Location"))
		}
		p := follow(t, v, acme, v.Get(acme, loc.RequestURI()), nil)
		p = follow(t, v, acme, loginThrough(t, v, acme, p, email, password), nil)
		if !strings.Contains(p.Body, `data-testid="consent-form"`) || !strings.Contains(p.Body, "Bravo Tea wants to sign you in") ||
			!strings.Contains(p.Body, "your email address") {
			t.Fatalf("acme's customer did not get acme's consent page for bravo: %d %.400s", p.StatusCode, p.Body)
		}
		i := strings.Index(p.Body, `name="id" value="`)
		rest := p.Body[i+len(`name="id" value="`):]
		return rest[:strings.Index(rest, `"`)]
	}
	// backToBravo takes acme's answer, a redirect to bravo's callback, and
	// hands it to bravo.
	backToBravo := func(t *testing.T, v *apptest.Visitor, p apptest.Page) apptest.Page {
		t.Helper()
		cb, err := url.Parse(p.Header.Get("Location"))
		if err != nil || cb.Scheme+"://"+cb.Host+cb.Path != srv.URL(bravo, "/social/oidc/callback") {
			t.Fatalf("acme did not send the browser back to bravo: %d %q %.300s", p.StatusCode, p.Header.Get("Location"), p.Body)
		}
		return v.Get(bravo, cb.RequestURI())
	}

	t.Run("consenting customer lands on bravo signed in, as bravo's own customer", func(t *testing.T) {
		v := srv.Visitor(t)
		id := toConsent(t, v, custEmail, custPassword)
		p := follow(t, v, acme, v.Post(acme, "/oauth/consent", url.Values{"id": {id}, "decision": {"allow"}}), nil)
		wantRedirect(t, backToBravo(t, v, p), "/account")
		if page := v.Get(bravo, "/account"); page.StatusCode != http.StatusOK || !strings.Contains(page.Body, custEmail) || !strings.Contains(page.Body, "Bravo Tea") {
			t.Fatalf("bravo's account page: %d %.400s", page.StatusCode, page.Body)
		}
		var rows []struct {
			ID, TenantSlug string
		}
		env.DB().Gorm.Raw("SELECT c.id, t.slug AS tenant_slug FROM customers c JOIN tenants t ON t.id = c.tenant_id WHERE c.email = ? ORDER BY t.slug", custEmail).Scan(&rows)
		if len(rows) != 2 || rows[0].TenantSlug != "acme" || rows[1].TenantSlug != "bravo" || rows[0].ID != kim {
			t.Fatalf("customers for %s: %+v, want one in acme (%s) and one in bravo", custEmail, rows, kim)
		}
		bravoKim := rows[1].ID
		if bravoKim == kim {
			t.Fatal("bravo's customer has acme's customer id")
		}
		// Bravo keys the identity by acme's issuer and acme's sub, which
		// is acme's customer id and not bravo's.
		var ids []struct {
			CustomerID, Issuer, Subject string
		}
		env.DB().Gorm.Raw("SELECT i.customer_id, i.issuer, i.subject FROM identities i JOIN tenants t ON t.id = i.tenant_id WHERE t.slug = 'bravo'").Scan(&ids)
		if len(ids) != 1 || ids[0].CustomerID != bravoKim || ids[0].Issuer != issuer || ids[0].Subject != kim {
			t.Fatalf("bravo's identities: %+v, want customer %s, issuer %s, subject %s", ids, bravoKim, issuer, kim)
		}
		// Acme has no identity for this: its customer signed in with a
		// password.
		var n int64
		env.DB().Gorm.Raw("SELECT count(*) FROM identities i JOIN tenants t ON t.id = i.tenant_id WHERE t.slug = 'acme'").Scan(&n)
		if n != 0 {
			t.Fatalf("acme has %d identities", n)
		}
	})

	t.Run("a customer who does not consent lands on bravo's log-in page, not signed in", func(t *testing.T) {
		v := srv.Visitor(t)
		id := toConsent(t, v, "lee@example.com", "another long passphrase")
		p := v.Post(acme, "/oauth/consent", url.Values{"id": {id}, "decision": {"deny"}})
		wantRedirect(t, backToBravo(t, v, p), "/login?notice=social-denied")
		notSignedIn(t, v, bravo)
		var n int64
		env.DB().Gorm.Raw("SELECT count(*) FROM customers c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = 'bravo' AND c.email = 'lee@example.com'").Scan(&n)
		if n != 0 {
			t.Fatal("bravo made a customer of someone who did not consent")
		}
	})
}
