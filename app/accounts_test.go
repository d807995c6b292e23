package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/app/mail/mailtest"
	"gatehouse/tenants"
)

// brandEnv is an installation with a server, a worker and tenants made
// with the CLI, as in production.
type brandEnv struct {
	env *apptest.Env
	srv *apptest.Server
}

func newBrandEnv(t *testing.T, slugs ...string) *brandEnv {
	t.Helper()
	env := apptest.New(t)
	// The fake providers these tests sign in through listen on loopback,
	// which the outbound guard refuses outside --dev unless told.
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

// withFields gives a tenant registration fields.
func (b *brandEnv) withFields(t *testing.T, slug string, fields ...tenants.Field) {
	t.Helper()
	svc := b.env.Tenants()
	tn, err := svc.BySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SaveFields(context.Background(), tn.ID, fields); err != nil {
		t.Fatal(err)
	}
}

func (b *brandEnv) withSettings(t *testing.T, slug string, edit func(*tenants.Settings)) {
	t.Helper()
	svc := b.env.Tenants()
	tn, err := svc.BySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	s := tn.Settings
	edit(&s)
	if _, err := svc.UpdateSettings(context.Background(), tn.ID, s); err != nil {
		t.Fatal(err)
	}
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+token=[A-Za-z0-9_\-]+`)

// linkIn returns the path and query of the token link in a mail.
func linkIn(t *testing.T, m mailtest.Message) string {
	t.Helper()
	raw := linkPattern.FindString(m.Text)
	if raw == "" {
		t.Fatalf("no link in mail %q:\n%s", m.Subject, m.Text)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func signup(v *apptest.Visitor, host, email, password string, extra url.Values) apptest.Page {
	form := url.Values{"email": {email}, "password": {password}}
	for k, vs := range extra {
		form[k] = vs
	}
	return v.Post(host, "/register", form)
}

func login(v *apptest.Visitor, host, email, password string) apptest.Page {
	return v.Post(host, "/login", url.Values{"email": {email}, "password": {password}})
}

func wantRedirect(t *testing.T, p apptest.Page, prefix string) {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), prefix) {
		t.Fatalf("%s: got %d to %q, want a redirect to %s\n%s", p.Request.URL.Path, p.StatusCode, p.Header.Get("Location"), prefix, p.Body)
	}
}

const badLogin = "Email or password is incorrect."

func TestAccountLifecycle(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	b.withFields(t, "acme",
		tenants.Field{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
		tenants.Field{Key: "drink", Label: "Favourite drink", Type: tenants.TypeSelect, Capture: tenants.CaptureOptional,
			Options: []tenants.Option{{Value: "tea", Label: "Tea"}, {Value: "coffee", Label: "Coffee"}}},
	)
	host := "acme.localhost"
	v := b.srv.Visitor(t)

	t.Run("sign-up form shows the fields", func(t *testing.T) {
		p := v.Get(host, "/login?mode=signup")
		for _, want := range []string{`name="first_name"`, `name="drink"`, `name="intent" value="signup"`, `autocomplete="new-password"`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("sign-up form lacks %s", want)
			}
		}
	})

	t.Run("missing required field is named and values are kept", func(t *testing.T) {
		p := signup(v, host, "ann@example.com", "correct horse battery", url.Values{"drink": {"tea"}})
		if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "First name is required.") {
			t.Fatalf("%d\n%s", p.StatusCode, p.Body)
		}
		if !strings.Contains(p.Body, `value="ann@example.com"`) || strings.Contains(p.Body, "correct horse battery") {
			t.Fatal("email must be kept and the password never echoed")
		}
	})

	t.Run("common password is refused with a reason", func(t *testing.T) {
		p := signup(v, host, "ann@example.com", "password123", url.Values{"first_name": {"Ann"}})
		if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "most commonly used passwords") {
			t.Fatalf("%d\n%s", p.StatusCode, p.Body)
		}
	})

	var verifyLink string
	t.Run("sign up signs in and mails a verify link", func(t *testing.T) {
		p := signup(v, host, "Ann@Example.com ", "correct horse battery", url.Values{"first_name": {"Ann"}, "drink": {"tea"}})
		wantRedirect(t, p, "/account")
		acct := v.Follow(host, p)
		if acct.StatusCode != 200 || !strings.Contains(acct.Body, "ann@example.com") || !strings.Contains(acct.Body, `value="Ann"`) {
			t.Fatalf("account page: %d\n%s", acct.StatusCode, acct.Body)
		}
		m := b.env.Mail.WaitFor(t, "ann@example.com", 10*time.Second)
		if !strings.Contains(m.Subject, "Acme Coffee") {
			t.Errorf("subject %q does not name the brand", m.Subject)
		}
		verifyLink = linkIn(t, m)
		if !strings.Contains(m.Text, "http://acme.localhost:"+b.srv.Port+"/verify-email?token=") {
			t.Errorf("link is not built from the tenant's host: %s", m.Text)
		}
	})

	t.Run("verify link works once", func(t *testing.T) {
		if p := v.Get(host, verifyLink); p.StatusCode != 200 || !strings.Contains(p.Body, "confirmed") {
			t.Fatalf("%d\n%s", p.StatusCode, p.Body)
		}
		if p := v.Get(host, verifyLink); p.StatusCode != http.StatusGone {
			t.Fatalf("second use: %d", p.StatusCode)
		}
	})

	t.Run("logout is a POST and ends the session on the server", func(t *testing.T) {
		cookies := v.Cookies(host)
		wantRedirect(t, v.Post(host, "/logout", nil), "/login")
		replay := b.srv.Visitor(t)
		replay.SetCookies(host, cookies)
		wantRedirect(t, replay.Get(host, "/account"), "/login?return_to=")
	})

	t.Run("wrong password, unknown email and good login", func(t *testing.T) {
		for _, p := range []apptest.Page{login(v, host, "ann@example.com", "wrong password!"), login(v, host, "nobody@example.com", "whatever password")} {
			if p.StatusCode != http.StatusUnauthorized || !strings.Contains(p.Body, badLogin) {
				t.Fatalf("%d\n%s", p.StatusCode, p.Body)
			}
		}
		wantRedirect(t, login(v, host, "ANN@example.com", "correct horse battery"), "/account")
	})

	var resetLink string
	t.Run("forgot password answers the same for unknown addresses", func(t *testing.T) {
		known := v.Post(host, "/password/forgot", url.Values{"email": {"ann@example.com"}})
		unknown := v.Post(host, "/password/forgot", url.Values{"email": {"ghost@example.com"}})
		if known.StatusCode != 200 || known.StatusCode != unknown.StatusCode {
			t.Fatalf("statuses %d and %d", known.StatusCode, unknown.StatusCode)
		}
		norm := func(s string) string { return strings.ReplaceAll(s, "ghost@example.com", "ann@example.com") }
		if norm(unknown.Body) != known.Body {
			t.Fatal("the forgot-password page differs for unknown addresses")
		}
		m := b.env.Mail.WaitFor(t, "ann@example.com", 10*time.Second)
		resetLink = linkIn(t, m)
		if !strings.Contains(m.Text, "30 minutes") {
			t.Errorf("reset mail does not say how long the link lasts:\n%s", m.Text)
		}
	})

	t.Run("reset page sends no referrer and does not sign in", func(t *testing.T) {
		other := b.srv.Visitor(t) // a second device, signed in before the reset
		wantRedirect(t, login(other, host, "ann@example.com", "correct horse battery"), "/account")

		p := v.Get(host, resetLink)
		if p.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(p.Body, `name="token"`) {
			t.Fatalf("reset page: %q\n%s", p.Header.Get("Referrer-Policy"), p.Body)
		}
		token := strings.TrimPrefix(resetLink, "/password/reset?token=")
		done := v.Post(host, "/password/reset", url.Values{"token": {token}, "password": {"a brand new passphrase"}})
		wantRedirect(t, done, "/login?notice=reset")
		wantRedirect(t, v.Get(host, "/account"), "/login")
		wantRedirect(t, other.Get(host, "/account"), "/login")
		if m := b.env.Mail.WaitFor(t, "ann@example.com", 10*time.Second); !strings.Contains(m.Subject, "password was changed") {
			t.Fatalf("expected the password-changed mail, got %q", m.Subject)
		}
		if p := login(v, host, "ann@example.com", "correct horse battery"); p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("old password still works: %d", p.StatusCode)
		}
		wantRedirect(t, login(v, host, "ann@example.com", "a brand new passphrase"), "/account")
		again := v.Post(host, "/password/reset", url.Values{"token": {token}, "password": {"yet another passphrase"}})
		if again.StatusCode != http.StatusGone || !strings.Contains(again.Body, "expired or was already used") {
			t.Fatalf("reused link: %d\n%s", again.StatusCode, again.Body)
		}
	})

	t.Run("change password keeps this session and ends the others", func(t *testing.T) {
		other := b.srv.Visitor(t)
		wantRedirect(t, login(other, host, "ann@example.com", "a brand new passphrase"), "/account")
		bad := v.Post(host, "/account/password", url.Values{"current_password": {"nope nope nope"}, "new_password": {"third passphrase here"}})
		if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "current password is not correct") {
			t.Fatalf("%d\n%s", bad.StatusCode, bad.Body)
		}
		wantRedirect(t, v.Post(host, "/account/password", url.Values{"current_password": {"a brand new passphrase"}, "new_password": {"third passphrase here"}}), "/account?notice=password")
		if p := v.Get(host, "/account"); p.StatusCode != 200 {
			t.Fatalf("this session ended: %d", p.StatusCode)
		}
		wantRedirect(t, other.Get(host, "/account"), "/login")
	})

	t.Run("profile edit validates every field", func(t *testing.T) {
		p := v.Post(host, "/account", url.Values{"first_name": {""}, "drink": {"whisky"}})
		if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "First name is required.") || !strings.Contains(p.Body, "one of the offered choices") {
			t.Fatalf("%d\n%s", p.StatusCode, p.Body)
		}
		wantRedirect(t, v.Post(host, "/account", url.Values{"first_name": {"Annie"}, "drink": {"coffee"}}), "/account?notice=saved")
		if p := v.Get(host, "/account"); !strings.Contains(p.Body, `value="Annie"`) {
			t.Fatal("profile not saved")
		}
	})
}

// TestAccountsAcrossTenants: one address signs up on two brands with two
// passwords; neither brand's cookie, password or reset token works on the
// other.
func TestAccountsAcrossTenants(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme", "bravo")
	a, bv := b.srv.Visitor(t), b.srv.Visitor(t)
	wantRedirect(t, signup(a, "acme.localhost", "sam@example.com", "acme passphrase one", nil), "/account")
	wantRedirect(t, signup(bv, "bravo.localhost", "sam@example.com", "bravo passphrase two", nil), "/account")

	if p := login(b.srv.Visitor(t), "bravo.localhost", "sam@example.com", "acme passphrase one"); p.StatusCode != http.StatusUnauthorized {
		t.Fatalf("acme's password opened bravo's account: %d", p.StatusCode)
	}

	replay := b.srv.Visitor(t)
	var session []*http.Cookie
	for _, c := range a.Cookies("acme.localhost") {
		session = append(session, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	replay.SetCookies("bravo.localhost", session)
	wantRedirect(t, replay.Get("bravo.localhost", "/account"), "/login")

	a.Post("acme.localhost", "/password/forgot", url.Values{"email": {"sam@example.com"}})
	var link string
	for link == "" {
		m := b.env.Mail.WaitFor(t, "sam@example.com", 10*time.Second)
		if strings.Contains(m.Text, "/password/reset?token=") {
			link = linkIn(t, m)
		}
	}
	token := strings.TrimPrefix(link, "/password/reset?token=")
	p := bv.Post("bravo.localhost", "/password/reset", url.Values{"token": {token}, "password": {"hijacked passphrase"}})
	if p.StatusCode != http.StatusGone {
		t.Fatalf("acme's reset token worked on bravo: %d", p.StatusCode)
	}
	wantRedirect(t, login(b.srv.Visitor(t), "bravo.localhost", "sam@example.com", "bravo passphrase two"), "/account")
}

// TestResetTokenRace: twenty concurrent uses of one reset link, exactly one
// succeeds.
func TestResetTokenRace(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	v := b.srv.Visitor(t)
	wantRedirect(t, signup(v, "acme.localhost", "rae@example.com", "first passphrase", nil), "/account")
	b.env.Mail.WaitFor(t, "rae@example.com", 10*time.Second) // the verify mail
	v.Post("acme.localhost", "/password/forgot", url.Values{"email": {"rae@example.com"}})
	token := strings.TrimPrefix(linkIn(t, b.env.Mail.WaitFor(t, "rae@example.com", 10*time.Second)), "/password/reset?token=")

	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// A 503 is the hashing semaphore shedding load; a client retries.
			for try := 0; ; try++ {
				p := b.srv.Visitor(t).Post("acme.localhost", "/password/reset", url.Values{"token": {token}, "password": {fmt.Sprintf("racing passphrase %02d", i)}})
				if p.StatusCode != http.StatusServiceUnavailable || try == 20 {
					codes <- p.StatusCode
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}(i)
	}
	wg.Wait()
	close(codes)
	wins := 0
	for c := range codes {
		switch c {
		case http.StatusSeeOther:
			wins++
		case http.StatusGone:
		default:
			t.Errorf("unexpected status %d", c)
		}
	}
	if wins != 1 {
		t.Fatalf("%d requests reset the password, want exactly 1", wins)
	}
}

// TestLoginThrottle: fast wrong guesses get 429 with Retry-After, and the
// message never tells an unknown email from a wrong password.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	v := b.srv.Visitor(t)
	wantRedirect(t, signup(v, "acme.localhost", "tia@example.com", "good passphrase", nil), "/account")
	throttled := 0
	for i := 0; i < 30; i++ {
		p := login(b.srv.Visitor(t), "acme.localhost", "tia@example.com", fmt.Sprintf("guess %d!!", i))
		switch p.StatusCode {
		case http.StatusTooManyRequests:
			throttled++
			if p.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		case http.StatusUnauthorized:
			if !strings.Contains(p.Body, badLogin) {
				t.Fatalf("message: %s", p.Body)
			}
		default:
			t.Fatalf("attempt %d: status %d", i, p.StatusCode)
		}
	}
	if throttled < 20 {
		t.Fatalf("only %d of 30 fast wrong attempts were throttled", throttled)
	}
}

// TestSocialOnlyAccountLooksTheSame: an account without a password gets
// the same login answer as a wrong password, and its forgot-password mail
// explains how it signs in instead of sending a link.
func TestSocialOnlyAccountLooksTheSame(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	d := b.env.DB()
	ctx := context.Background()
	tn, err := b.env.Tenants().BySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	custID, identID := "0190f0f0-0000-7000-8000-000000000001", "0190f0f0-0000-7000-8000-000000000002"
	now := time.Now().UTC()
	if err := d.Gorm.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at) VALUES (?, ?, 'soc@example.com', true, 'active', '{}', ?, ?)`, custID, tn.ID, now, now).Error; err != nil {
		t.Fatal(err)
	}
	if err := d.Gorm.Exec(`INSERT INTO identities (id, tenant_id, customer_id, provider, subject, email, claims, created_at, updated_at) VALUES (?, ?, ?, 'google', 'g-1', 'soc@example.com', '{}', ?, ?)`, identID, tn.ID, custID, now, now).Error; err != nil {
		t.Fatal(err)
	}
	v := b.srv.Visitor(t)
	social := login(v, "acme.localhost", "soc@example.com", "any password at all")
	unknown := login(v, "acme.localhost", "nobody@example.com", "any password at all")
	if social.StatusCode != unknown.StatusCode || !strings.Contains(social.Body, badLogin) {
		t.Fatalf("social-only %d vs unknown %d", social.StatusCode, unknown.StatusCode)
	}
	v.Post("acme.localhost", "/password/forgot", url.Values{"email": {"soc@example.com"}})
	m := b.env.Mail.WaitFor(t, "soc@example.com", 10*time.Second)
	if strings.Contains(m.Text, "token=") || !strings.Contains(m.Text, "Google") {
		t.Fatalf("social-only account got:\n%s", m.Text)
	}
}

// TestRequiredVerification: with verification required, login waits for
// the link, and the resend button is rate-limited.
func TestRequiredVerification(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	b.withSettings(t, "acme", func(s *tenants.Settings) { s.EmailVerification = "required" })
	v := b.srv.Visitor(t)
	apptest.Eventually(t, 5*time.Second, func() error {
		p := signup(b.srv.Visitor(t), "acme.localhost", "probe@example.com", "probe passphrase", nil)
		if p.Header.Get("Location") != "/login?notice=verify" {
			return fmt.Errorf("setting not served yet: %s", p.Header.Get("Location"))
		}
		return nil
	})
	wantRedirect(t, signup(v, "acme.localhost", "val@example.com", "val passphrase", nil), "/login?notice=verify")
	link := linkIn(t, b.env.Mail.WaitFor(t, "val@example.com", 10*time.Second))
	p := login(v, "acme.localhost", "val@example.com", "val passphrase")
	if p.StatusCode != http.StatusForbidden || !strings.Contains(p.Body, "/verify-email/resend") {
		t.Fatalf("unverified login: %d\n%s", p.StatusCode, p.Body)
	}
	limited := false
	for i := 0; i < 6; i++ {
		if r := v.Post("acme.localhost", "/verify-email/resend", url.Values{"email": {"val@example.com"}}); r.StatusCode == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("resend is not rate-limited")
	}
	v.Get("acme.localhost", link)
	wantRedirect(t, login(v, "acme.localhost", "val@example.com", "val passphrase"), "/account")
}

// TestProgressiveProfiling: a required field added after sign-up must be
// filled at the next login; optional ones are asked at most once per
// interval and can be skipped.
func TestProgressiveProfiling(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	host := "acme.localhost"
	v := b.srv.Visitor(t)
	wantRedirect(t, signup(v, host, "pat@example.com", "pat passphrase", nil), "/account")
	v.Post(host, "/logout", nil)

	b.withFields(t, "acme",
		tenants.Field{Key: "postcode", Label: "Postcode", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
		tenants.Field{Key: "birthday", Label: "Birthday", Type: tenants.TypeDate, Capture: tenants.CaptureLater},
	)
	var p apptest.Page
	apptest.Eventually(t, 5*time.Second, func() error {
		p = login(v, host, "pat@example.com", "pat passphrase")
		if !strings.HasPrefix(p.Header.Get("Location"), "/profile/complete") {
			v.Post(host, "/logout", nil)
			return fmt.Errorf("went to %s", p.Header.Get("Location"))
		}
		return nil
	})
	form := v.Follow(host, p)
	if !strings.Contains(form.Body, `name="postcode"`) || strings.Contains(form.Body, `name="skip"`) {
		t.Fatalf("prompt with a required field must not be skippable:\n%s", form.Body)
	}
	if r := v.Post(host, "/profile/complete", url.Values{"skip": {"1"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("skipping a required field: %d", r.StatusCode)
	}
	wantRedirect(t, v.Post(host, "/profile/complete", url.Values{"postcode": {"EC1A 1BB"}}), "/account")
	// The optional "later" field was asked just now: not again at the next login.
	v.Post(host, "/logout", nil)
	wantRedirect(t, login(v, host, "pat@example.com", "pat passphrase"), "/account")
}
