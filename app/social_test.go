package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
	"gatehouse/app/secrets"
	"gatehouse/app/socialapps"
	"gatehouse/config"
	"gatehouse/tenants"
)

// newSocialEnv is newBrandEnv for tests whose providers are fakes on
// httptest: it lets the outbound client reach loopback, which production
// refuses.
func newSocialEnv(t *testing.T, slugs ...string) *brandEnv {
	t.Helper()
	env := apptest.New(t)
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true")
	for _, slug := range slugs {
		if r := env.Run("tenant", "create", "--slug", slug, "--name", strings.ToUpper(slug[:1])+slug[1:]+" Coffee"); r.Code != 0 {
			t.Fatalf("tenant create %s: %s", slug, r.Stderr)
		}
	}
	srv := env.Serve()
	env.Worker()
	return &brandEnv{env: env, srv: srv}
}

// withOIDC enables the brand-hosted OpenID Connect provider on a tenant,
// pointed at fake, as the console's social-apps page does.
func (b *brandEnv) withOIDC(t *testing.T, slug string, fake *apptest.FakeOIDC, clientID, secret string) {
	t.Helper()
	key, err := config.ParseSecretKey(b.env.Getenv("GATEHOUSE_SECRET_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	box, _ := secrets.NewBox(key)
	store := socialapps.NewStore(b.env.DB().Gorm, box)
	tn, err := b.env.Tenants().BySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Save(context.Background(), tn.ID, socialapps.OIDC, socialapps.Input{
		Enabled: true, ClientID: clientID, ClientSecret: secret,
		DiscoveryURL: fake.URL + "/.well-known/openid-configuration", Scopes: []string{"openid", "email", "profile"},
	}); err != nil {
		t.Fatal(err)
	}
	fake.Set(func(f *apptest.FakeOIDC) { f.Clients[clientID] = secret })
}

// socialLogin runs a sign-in through the fake provider without a browser:
// start on host, let the provider consent, and return the callback's
// response. tamper may change the callback query first.
func socialLogin(t *testing.T, v *apptest.Visitor, host string, tamper func(q url.Values)) apptest.Page {
	t.Helper()
	start := v.Get(host, "/social/oidc")
	if start.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d\n%s", start.StatusCode, start.Body)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(start.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider authorize: %d", resp.StatusCode)
	}
	cb, _ := url.Parse(resp.Header.Get("Location"))
	q := cb.Query()
	if tamper != nil {
		tamper(q)
	}
	return v.Get(host, cb.Path+"?"+q.Encode())
}

func notSignedIn(t *testing.T, v *apptest.Visitor, host string) {
	t.Helper()
	if p := v.Get(host, "/account"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed in after a refused sign-in: %d", p.StatusCode)
	}
}

func TestSocialLoginRefusals(t *testing.T) {
	t.Parallel()
	b := newSocialEnv(t, "acme", "bravo")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	b.withOIDC(t, "bravo", fake, "bravo-client", "bravo-secret")
	host := "acme.localhost"
	fake.Set(func(f *apptest.FakeOIDC) {
		f.User = apptest.FakeUser{Subject: "u-1", Email: "una@example.com", EmailVerified: true, GivenName: "Una"}
	})

	t.Run("ok", func(t *testing.T) {
		v := b.srv.Visitor(t)
		wantRedirect(t, socialLogin(t, v, host, nil), "/account")
		if p := v.Get(host, "/account"); !strings.Contains(p.Body, "una@example.com") || !strings.Contains(p.Body, "Acme Coffee account") {
			t.Fatalf("account page after social sign-up:\n%s", p.Body)
		}
	})

	cases := []struct {
		name   string
		knob   func(f *apptest.FakeOIDC)
		tamper func(q url.Values)
		notice string
	}{
		{"tampered state", nil, func(q url.Values) { q.Set("state", q.Get("state")+"x") }, "social-state"},
		{"missing state", nil, func(q url.Values) { q.Del("state") }, "social-state"},
		{"consent denied", nil, func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }, "social-denied"},
		{"id_token signed by an unknown key", func(f *apptest.FakeOIDC) { f.SignWithUnknownKey = true }, nil, "social-failed"},
		{"wrong audience", func(f *apptest.FakeOIDC) { f.Audience = "someone-else" }, nil, "social-failed"},
		{"expired id_token", func(f *apptest.FakeOIDC) { f.Expired = true }, nil, "social-failed"},
		{"wrong nonce", func(f *apptest.FakeOIDC) { f.Nonce = "not-the-nonce" }, nil, "social-failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.knob != nil {
				fake.Set(tc.knob)
				defer fake.Set(func(f *apptest.FakeOIDC) {
					f.SignWithUnknownKey, f.Audience, f.Expired, f.Nonce = false, "", false, ""
				})
			}
			v := b.srv.Visitor(t)
			p := socialLogin(t, v, host, tc.tamper)
			wantRedirect(t, p, "/login?notice="+tc.notice)
			if page := v.Follow(host, p); page.StatusCode != 200 || !strings.Contains(page.Body, "alert") {
				t.Fatalf("no message on the login page:\n%s", page.Body)
			}
			notSignedIn(t, v, host)
		})
	}

	// providerRedirect starts a flow in v and returns the provider's
	// redirect back (the callback URL with code and state) unfollowed.
	providerRedirect := func(t *testing.T, v *apptest.Visitor) *url.URL {
		t.Helper()
		start := v.Get(host, "/social/oidc")
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(start.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cb, _ := url.Parse(resp.Header.Get("Location"))
		return cb
	}

	t.Run("replayed state", func(t *testing.T) {
		v := b.srv.Visitor(t)
		cb := providerRedirect(t, v)
		binding := v.CookiesAt(host, "/social/")
		if len(binding) == 0 {
			t.Fatal("no browser-binding cookie was set")
		}
		wantRedirect(t, v.Get(host, cb.Path+"?"+cb.RawQuery), "/account")
		// The same browser (cookie restored) replays the same callback.
		replay := b.srv.Visitor(t)
		replay.SetCookiesAt(host, "/social/", binding)
		wantRedirect(t, replay.Get(host, cb.Path+"?"+cb.RawQuery), "/login?notice=social-state")
		notSignedIn(t, replay, host)
	})

	t.Run("callback in another browser", func(t *testing.T) {
		cb := providerRedirect(t, b.srv.Visitor(t))
		victim := b.srv.Visitor(t) // login CSRF: the attacker's callback in the victim's browser
		wantRedirect(t, victim.Get(host, cb.Path+"?"+cb.RawQuery), "/login?notice=social-state")
		notSignedIn(t, victim, host)
	})

	t.Run("callback on another tenant's host", func(t *testing.T) {
		v := b.srv.Visitor(t)
		cb := providerRedirect(t, v)
		// The same browser carries the flow's state and binding to bravo's host.
		v.SetCookiesAt("bravo.localhost", "/social/", v.CookiesAt(host, "/social/"))
		wantRedirect(t, v.Get("bravo.localhost", cb.Path+"?"+cb.RawQuery), "/login?notice=social-state")
		notSignedIn(t, v, "bravo.localhost")
		// The flow is spent, not left usable on acme.
		wantRedirect(t, v.Get(host, cb.Path+"?"+cb.RawQuery), "/login?notice=social-state")
	})

	t.Run("unverified email of an existing account is not linked", func(t *testing.T) {
		owner := b.srv.Visitor(t)
		wantRedirect(t, signup(owner, host, "olga@example.com", "olga passphrase", nil), "/account")
		fake.Set(func(f *apptest.FakeOIDC) {
			f.User = apptest.FakeUser{Subject: "u-olga", Email: "olga@example.com", EmailVerified: false}
		})
		v := b.srv.Visitor(t)
		wantRedirect(t, socialLogin(t, v, host, nil), "/login?notice=social-exists")
		notSignedIn(t, v, host)
		var n int64
		b.env.DB().Gorm.Raw("SELECT count(*) FROM identities WHERE subject = 'u-olga'").Scan(&n)
		if n != 0 {
			t.Fatal("an unverified email was linked")
		}
	})

	t.Run("verified email of an existing account links after the password", func(t *testing.T) {
		owner := b.srv.Visitor(t)
		wantRedirect(t, signup(owner, host, "lena@example.com", "lena passphrase", nil), "/account")
		fake.Set(func(f *apptest.FakeOIDC) {
			f.User = apptest.FakeUser{Subject: "u-lena", Email: "lena@example.com", EmailVerified: true}
		})
		v := b.srv.Visitor(t)
		p := socialLogin(t, v, host, nil)
		wantRedirect(t, p, "/social/link?token=")
		form := v.Follow(host, p)
		token := strings.TrimPrefix(p.Header.Get("Location"), "/social/link?token=")
		if !strings.Contains(form.Body, "lena@example.com") {
			t.Fatalf("link page:\n%s", form.Body)
		}
		tok, _ := url.QueryUnescape(token)
		bad := v.Post(host, "/social/link", url.Values{"token": {tok}, "password": {"not lenas password"}})
		if bad.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", bad.StatusCode)
		}
		notSignedIn(t, v, host)
		wantRedirect(t, v.Post(host, "/social/link", url.Values{"token": {tok}, "password": {"lena passphrase"}}), "/account")
		// From now on the provider signs straight into Lena's account.
		again := b.srv.Visitor(t)
		wantRedirect(t, socialLogin(t, again, host, nil), "/account")
		if page := again.Get(host, "/account"); !strings.Contains(page.Body, "lena@example.com") {
			t.Fatal("the linked provider did not land in the same account")
		}
	})

	t.Run("same subject on two tenants is two customers, each with its own secret", func(t *testing.T) {
		fake.Set(func(f *apptest.FakeOIDC) {
			f.User = apptest.FakeUser{Subject: "u-twin", Email: "twin@example.com", EmailVerified: true}
		})
		wantRedirect(t, socialLogin(t, b.srv.Visitor(t), "acme.localhost", nil), "/account")
		wantRedirect(t, socialLogin(t, b.srv.Visitor(t), "bravo.localhost", nil), "/account")
		var n int64
		b.env.DB().Gorm.Raw("SELECT count(DISTINCT customer_id) FROM identities WHERE subject = 'u-twin'").Scan(&n)
		if n != 2 {
			t.Fatalf("%d customers for one subject on two tenants, want 2", n)
		}
		fake.Set(func(f *apptest.FakeOIDC) {
			for _, s := range f.SecretsSeen["bravo-client"] {
				if s != "bravo-secret" {
					t.Errorf("bravo's client presented %q", s)
				}
			}
			for _, s := range f.SecretsSeen["acme-client"] {
				if s != "acme-secret" {
					t.Errorf("acme's client presented %q", s)
				}
			}
		})
	})
}

// TestBrandLoginOnly: the password forms are gone and refused; the brand's
// provider is the way in.
func TestBrandLoginOnly(t *testing.T) {
	t.Parallel()
	b := newSocialEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	b.withSettings(t, "acme", func(s *tenants.Settings) { s.BrandLoginOnly = true })
	fake.Set(func(f *apptest.FakeOIDC) {
		f.User = apptest.FakeUser{Subject: "b-1", Email: "bo@example.com", EmailVerified: true}
	})
	v := b.srv.Visitor(t)
	apptest.Eventually(t, 5*time.Second, func() error {
		p := v.Get("acme.localhost", "/login")
		if strings.Contains(p.Body, `name="password"`) {
			return context.DeadlineExceeded
		}
		if !strings.Contains(p.Body, `href="/social/oidc"`) {
			t.Fatalf("no brand button:\n%s", p.Body)
		}
		return nil
	})
	if p := login(v, "acme.localhost", "bo@example.com", "whatever passphrase"); p.StatusCode != http.StatusForbidden {
		t.Fatalf("password login in brand-only mode: %d", p.StatusCode)
	}
	wantRedirect(t, socialLogin(t, v, "acme.localhost", nil), "/account")
}

// TestBrowserSocialJourney: a new customer arrives through the brand's
// OpenID provider, completes a required field, sees the link on the account
// page, logs out, and signs in again into the same account.
func TestBrowserSocialJourney(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	b := newSocialEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	b.withFields(t, "acme", tenants.Field{Key: "postcode", Label: "Postcode", Type: tenants.TypeText, Capture: tenants.CaptureRequired})
	fake.Set(func(f *apptest.FakeOIDC) {
		f.User = apptest.FakeUser{Subject: "sofia-1", Email: "sofia@example.com", EmailVerified: true, GivenName: "Sofia"}
	})
	host := "acme.localhost"
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	signInWithBrand := func() {
		t.Helper()
		do(chromedp.Navigate(b.srv.URL(host, "/login")), chromedp.Click(`a[href="/social/oidc"]`))
	}
	signInWithBrand()
	do(chromedp.WaitVisible(`form[action="/profile/complete"]`), chromedp.SendKeys(`input[name="postcode"]`, "SW1A 1AA"),
		chromedp.Click(`form[action="/profile/complete"] button[type="submit"]`), chromedp.WaitVisible(`[data-testid="methods"]`))
	methods, err := chromedp.Run(ctx, chromedp.Text(`[data-testid="methods"]`))
	if err != nil || !strings.Contains(methods, "Acme Coffee account") || !strings.Contains(methods, "sofia@example.com") {
		t.Fatalf("methods on the account page: %q %v", methods, err)
	}
	do(chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`a[href="/social/oidc"]`))
	signInWithBrand()
	do(chromedp.WaitVisible(`[data-testid="methods"]`))
	var n int64
	b.env.DB().Gorm.Raw("SELECT count(*) FROM customers WHERE email = 'sofia@example.com'").Scan(&n)
	if n != 1 {
		t.Fatalf("%d customers for one person", n)
	}
}

// TestGenericOAuth2 signs in through a plain OAuth 2.0 system whose
// userinfo nests its fields, read through the tenant's claim mapping.
func TestGenericOAuth2(t *testing.T) {
	t.Parallel()
	b := newSocialEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	fake.Set(func(f *apptest.FakeOIDC) {
		f.Clients["legacy-client"] = "legacy-secret"
		f.User = apptest.FakeUser{Subject: "L-9", Email: "lou@example.com", EmailVerified: true, GivenName: "Lou"}
	})
	b.withFields(t, "acme", tenants.Field{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureOptional})
	key, _ := config.ParseSecretKey(b.env.Getenv("GATEHOUSE_SECRET_KEY"))
	box, _ := secrets.NewBox(key)
	tn, _ := b.env.Tenants().BySlug(context.Background(), "acme")
	_, _, err := socialapps.NewStore(b.env.DB().Gorm, box).Save(context.Background(), tn.ID, socialapps.OAuth2, socialapps.Input{
		Enabled: true, ClientID: "legacy-client", ClientSecret: "legacy-secret",
		AuthURL: fake.URL + "/authorize", TokenURL: fake.URL + "/token", UserInfoURL: fake.URL + "/userinfo",
		ClaimMapping: map[string]string{"subject": "user.uid", "email": "user.mail", "email_verified": "user.confirmed", "first_name": "user.first"},
	})
	if err != nil {
		t.Fatal(err)
	}
	v := b.srv.Visitor(t)
	start := v.Get("acme.localhost", "/social/oauth2")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(start.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))
	wantRedirect(t, v.Get("acme.localhost", cb.Path+"?"+cb.RawQuery), "/account")
	page := v.Get("acme.localhost", "/account")
	if !strings.Contains(page.Body, "lou@example.com") || !strings.Contains(page.Body, `value="Lou"`) {
		t.Fatalf("account after OAuth 2.0 sign-up:\n%s", page.Body)
	}
}

// TestAppleFormPostBypass: Apple returns the sign-in as a cross-site form
// POST. Exactly that route passes the cross-origin check (its state is
// still checked); any other cross-site POST is refused.
func TestAppleFormPostBypass(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	post := func(path string) int {
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL("acme.localhost", path), strings.NewReader("state=forged&code=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://appleid.apple.com")
		resp, _ := b.srv.Do(t, req)
		if resp.StatusCode == http.StatusSeeOther && !strings.HasPrefix(resp.Header.Get("Location"), "/login?notice=social-state") {
			t.Fatalf("%s: redirected to %s", path, resp.Header.Get("Location"))
		}
		return resp.StatusCode
	}
	if code := post("/social/apple/callback"); code != http.StatusSeeOther {
		t.Fatalf("Apple's form_post was refused: %d", code)
	}
	for _, path := range []string{"/social/google/callback", "/social/oidc/callback", "/login"} {
		if code := post(path); code != http.StatusForbidden {
			t.Fatalf("cross-site POST %s: %d, want 403", path, code)
		}
	}
}

// TestSocialOnlyAddsPasswordAndUnlinks: a customer who arrived through a
// provider cannot remove their only way in, can add a password from
// /account, and may then unlink the provider.
func TestSocialOnlyAddsPasswordAndUnlinks(t *testing.T) {
	t.Parallel()
	b := newSocialEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	fake.Set(func(f *apptest.FakeOIDC) {
		f.User = apptest.FakeUser{Subject: "s-1", Email: "sam@example.com", EmailVerified: true}
	})
	host := "acme.localhost"
	v := b.srv.Visitor(t)
	wantRedirect(t, socialLogin(t, v, host, nil), "/account")
	page := v.Get(host, "/account")
	if strings.Contains(page.Body, "/account/identities/oidc/unlink") || strings.Contains(page.Body, `name="current_password"`) {
		t.Fatal("a social-only account is offered to remove its only sign-in, or asked for a password it has not got")
	}
	wantRedirect(t, v.Post(host, "/account/identities/oidc/unlink", nil), "/account?notice=unlink-refused")
	wantRedirect(t, v.Post(host, "/account/password", url.Values{"new_password": {"sams first passphrase"}}), "/account?notice=password")
	if page := v.Get(host, "/account"); !strings.Contains(page.Body, "/account/identities/oidc/unlink") {
		t.Fatal("with a password set, the provider should be removable")
	}
	wantRedirect(t, v.Post(host, "/account/identities/oidc/unlink", nil), "/account?notice=unlinked")
	wantRedirect(t, login(b.srv.Visitor(t), host, "sam@example.com", "sams first passphrase"), "/account")
	var n int64
	b.env.DB().Gorm.Raw("SELECT count(*) FROM audit_events WHERE action = 'customer.identity.unlinked'").Scan(&n)
	if n != 1 {
		t.Fatalf("%d unlink audit events", n)
	}
}
