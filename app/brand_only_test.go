package app_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

var errNotYet = errors.New("not yet")

// TestBrandOnlyPasswordCustomer (issue 10, item 4): a customer who had a
// password before the tenant turned on brand login only is not locked
// out. The brand sign-in finds their account, a mailed link attaches the
// brand identity, and /account offers no password to add and no way to
// remove the brand identity.
func TestBrandOnlyPasswordCustomer(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true")
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	srv := env.Serve()
	env.Worker()
	host := "acme.localhost"
	fake := apptest.StartFakeOIDC(t)
	fake.Set(func(f *apptest.FakeOIDC) {
		f.Clients["acme-client"] = "acme-secret"
		f.User = apptest.FakeUser{Subject: "p-1", Email: "pat@example.com", EmailVerified: true}
	})
	wantRedirect(t, signup(srv.Visitor(t), host, "pat@example.com", "pats old passphrase", nil), "/account")
	env.Mail.WaitFor(t, "pat@example.com", 15*time.Second) // the address confirmation of the sign-up

	admin := signedIn(t, srv, "admin@acme.test")
	// The switch refuses while no brand app is enabled: nobody could sign in.
	admin.post("/t/acme/social", url.Values{"brand_login_only": {"on"}})
	if tn, _ := env.Tenants().BySlug(t.Context(), "acme"); tn.Settings.BrandLoginOnly {
		t.Fatal("brand login only was turned on with no brand app")
	}
	saveOIDCApp(t, env, "acme", fake.URL, "acme-client", "acme-secret")
	if r := admin.post("/t/acme/social", url.Values{"brand_login_only": {"on"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch: %d", r.StatusCode)
	}
	if page := admin.get("/t/acme/social"); !strings.Contains(page.Body, `name="brand_login_only" value="on" checked`) {
		t.Fatal("the console does not show brand login only as on")
	}

	v := srv.Visitor(t)
	apptest.Eventually(t, 5*time.Second, func() error {
		if p := v.Get(host, "/login"); !strings.Contains(p.Body, `data-testid="brand-only-help"`) {
			return errNotYet
		}
		return nil
	})
	if p := login(v, host, "pat@example.com", "pats old passphrase"); p.StatusCode != http.StatusForbidden || !strings.Contains(p.Body, `data-testid="login-error"`) {
		t.Fatalf("a password login in brand-only mode: %d, error shown: %v", p.StatusCode, strings.Contains(p.Body, "login-error"))
	}
	p := socialLogin(t, v, host, nil)
	wantRedirect(t, p, "/social/link?token=")
	page := v.Follow(host, p)
	if !strings.Contains(page.Body, `action="/social/link/mail"`) || strings.Contains(page.Body, `name="password"`) {
		t.Fatalf("the link page asks for a password in brand-only mode:\n%s", page.Body)
	}
	token, _ := url.QueryUnescape(strings.TrimPrefix(p.Header.Get("Location"), "/social/link?token="))
	if sent := v.Post(host, "/social/link/mail", url.Values{"token": {token}}); !strings.Contains(sent.Body, `data-testid="link-sent"`) {
		t.Fatalf("after asking for the mail:\n%s", sent.Body)
	}
	m := env.Mail.WaitFor(t, "pat@example.com", 15*time.Second)
	if !strings.Contains(m.Subject, "Attach your Acme Coffee account") {
		t.Fatalf("mail %q", m.Subject)
	}
	link := linkIn(t, m)
	confirm := v.Get(host, link)
	if !strings.Contains(confirm.Body, `action="/social/link/mail/confirm"`) {
		t.Fatalf("the mailed link's page:\n%s", confirm.Body)
	}
	notSignedIn(t, v, host) // opening the link alone changes nothing
	mt, _ := url.Parse(link)
	wantRedirect(t, v.Post(host, "/social/link/mail/confirm", url.Values{"token": {mt.Query().Get("token")}}), "/account")
	account := v.Get(host, "/account")
	if strings.Contains(account.Body, `action="/account/password"`) || strings.Contains(account.Body, "/account/identities/oidc/unlink") {
		t.Fatalf("brand-only /account offers a password or removing the brand identity:\n%s", account.Body)
	}
	if !strings.Contains(account.Body, "Acme Coffee account") || strings.Contains(account.Body, "company account") {
		t.Fatal("the brand identity is not called by the brand's name")
	}
	if r := v.Post(host, "/account/password", url.Values{"new_password": {"a new passphrase here"}}); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "cannot be set here") {
		t.Fatalf("adding a password in brand-only mode: %d", r.StatusCode)
	}
	// The mailed link is spent; the brand sign-in now goes straight in.
	if again := v.Post(host, "/social/link/mail/confirm", url.Values{"token": {mt.Query().Get("token")}}); again.StatusCode != http.StatusSeeOther || !strings.Contains(again.Header.Get("Location"), "social-state") {
		t.Fatalf("a spent mailed link: %d %s", again.StatusCode, again.Header.Get("Location"))
	}
	wantRedirect(t, socialLogin(t, srv.Visitor(t), host, nil), "/account")
}

// TestBrowserBrandOnly: in a real browser, a tenant switched to brand login
// only by the CLI signs a customer in through the brand; /account offers no
// password; the customer logs out and signs in again.
func TestBrowserBrandOnly(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	b := newSocialEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	if r := b.env.Run("tenant", "update", "--slug", "acme", "--brand-login-only=true"); r.Code != 0 || !strings.Contains(r.Stdout, "brand login only is on") {
		t.Fatalf("tenant update: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := b.env.Run("tenant", "update", "--slug", "acme", "--brand-login-only=maybe"); r.Code == 0 || !strings.Contains(r.Stderr, "brand-login-only") {
		t.Fatalf("a bad flag value: %d %s", r.Code, r.Stderr)
	}
	fake.Set(func(f *apptest.FakeOIDC) {
		f.User = apptest.FakeUser{Subject: "bo-1", Email: "bea@example.com", EmailVerified: true}
	})
	host := "acme.localhost"
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	v := b.srv.Visitor(t)
	apptest.Eventually(t, 5*time.Second, func() error {
		if p := v.Get(host, "/login"); strings.Contains(p.Body, `name="password"`) {
			return errNotYet
		}
		return nil
	})
	do(chromedp.Navigate(b.srv.URL(host, "/login")), chromedp.Click(`a[href="/social/oidc"]`), chromedp.WaitVisible(`[data-testid="methods"]`))
	html, err := chromedp.Run(ctx, chromedp.OuterHTML("main"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "/account/password") || strings.Contains(html, "Add a password") || strings.Contains(html, "/unlink") {
		t.Fatalf("brand-only /account offers a password or an unlink:\n%s", html)
	}
	methods, err := chromedp.Run(ctx, chromedp.Text(`[data-testid="methods"]`))
	if err != nil || !strings.Contains(methods, "Acme Coffee account") || !strings.Contains(methods, "bea@example.com") {
		t.Fatalf("methods: %q %v", methods, err)
	}
	do(chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`a[href="/social/oidc"]`))
	do(chromedp.Click(`a[href="/social/oidc"]`), chromedp.WaitVisible(`[data-testid="methods"]`))
	var n int64
	b.env.DB().Gorm.Raw("SELECT count(*) FROM customers WHERE email = 'bea@example.com'").Scan(&n)
	if n != 1 {
		t.Fatalf("%d customers for one person", n)
	}
}
