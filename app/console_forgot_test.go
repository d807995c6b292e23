package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/app/access"
	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
)

var staffResetLink = regexp.MustCompile(`http://console\.localhost[^\s"]*/login/reset\?token=([A-Za-z0-9_\-]+)`)

// TestConsoleForgotPassword walks a staff member's forgotten password:
// the sign-in page links to the form; every address gets the same
// answer, and only a staff member's gets a mail, through the outbox and
// the worker; the link works once and not after it expires, sets a
// password under the policy, ends every session of the account and signs
// nobody in, so two-factor sign-in still asks for its code. Requests are
// throttled per address without changing the answer.
func TestConsoleForgotPassword(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	mustStaff(t, env, "twofactor@acme.test", "admin", "acme")
	mustStaff(t, env, "busy@acme.test", "support", "acme")
	srv := env.Serve()
	env.Worker()
	const newPassword = "a brand new staff password"

	if access.ResetTTL != accounts.ResetTTL {
		t.Fatalf("staff reset links last %v, customers' %v", access.ResetTTL, accounts.ResetTTL)
	}

	forgot := func(b *browser, email string) resp {
		t.Helper()
		r := b.post("/login/forgot", url.Values{"email": {email}})
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `data-testid="forgot-sent"`) {
			t.Fatalf("forgot %s: %d\n%s", email, r.StatusCode, r.Body)
		}
		return r
	}
	linkFor := func(email string) string {
		t.Helper()
		msg := env.Mail.WaitFor(t, email, 15*time.Second)
		m := staffResetLink.FindStringSubmatch(msg.Text)
		if m == nil || !strings.Contains(msg.Subject, "Gatehouse console") {
			t.Fatalf("reset mail %q:\n%s", msg.Subject, msg.Text)
		}
		return m[1]
	}

	t.Run("the sign-in page links to the form", func(t *testing.T) {
		b := newBrowser(t, srv)
		if r := b.get("/login"); !strings.Contains(r.Body, `href="/login/forgot"`) || !strings.Contains(r.Body, "Forgot your password?") {
			t.Fatalf("no forgot link on the sign-in page:\n%s", r.Body)
		}
		if r := b.get("/login/forgot"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `action="/login/forgot"`) {
			t.Fatalf("forgot page: %d", r.StatusCode)
		}
		if r := b.post("/login/forgot", url.Values{"email": {"not an address"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="email-error"`) {
			t.Fatalf("a malformed address: %d", r.StatusCode)
		}
	})

	var token string
	t.Run("an unknown address gets the same answer and no mail", func(t *testing.T) {
		b := newBrowser(t, srv)
		unknown := forgot(b, "nobody@acme.test")
		known := forgot(b, "owner@acme.test")
		strip := func(s, email string) string { return strings.ReplaceAll(s, email, "") }
		if strip(unknown.Body, "nobody@acme.test") != strip(known.Body, "owner@acme.test") {
			t.Error("the answers for a known and an unknown address differ")
		}
		token = linkFor("owner@acme.test")
		time.Sleep(300 * time.Millisecond)
		for _, m := range env.Mail.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, "nobody@acme.test") {
					t.Fatal("an unknown address got a mail")
				}
			}
		}
		if n := auditCount(t, env, "staff.password.reset_requested", "owner@acme.test"); n != 1 {
			t.Errorf("%d reset_requested events", n)
		}
	})

	t.Run("the link sets a password once, ends the sessions and signs nobody in", func(t *testing.T) {
		other := signedIn(t, srv, "owner@acme.test") // a session elsewhere
		b := newBrowser(t, srv)
		page := b.get("/login/reset?token=" + token)
		if page.StatusCode != http.StatusOK || page.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(page.Body, `name="token"`) {
			t.Fatalf("reset page: %d, Referrer-Policy %q", page.StatusCode, page.Header.Get("Referrer-Policy"))
		}
		// The policy is checked first; a weak password leaves the link usable.
		if r := b.post("/login/reset", url.Values{"token": {token}, "password": {"short"}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="password-error"`) {
			t.Fatalf("weak password: %d", r.StatusCode)
		}
		r := b.post("/login/reset", url.Values{"token": {token}, "password": {newPassword}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?reset=1" {
			t.Fatalf("reset: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
		}
		if home := b.get("/"); home.StatusCode != http.StatusSeeOther {
			t.Errorf("the reset signed the browser in: %d", home.StatusCode)
		}
		if home := other.get("/t/acme"); home.StatusCode != http.StatusSeeOther || !strings.HasPrefix(home.Header.Get("Location"), "/login") {
			t.Errorf("another session survived the reset: %d", home.StatusCode)
		}
		// Used once, the link is dead, even for a good password.
		if again := b.post("/login/reset", url.Values{"token": {token}, "password": {"yet another staff password"}}); again.StatusCode != http.StatusNotFound || !strings.Contains(again.Body, `data-testid="reset-error"`) {
			t.Errorf("second use: %d", again.StatusCode)
		}
		if p := b.get("/login/reset?token=" + token); p.StatusCode != http.StatusNotFound {
			t.Errorf("used link's page: %d", p.StatusCode)
		}
		if r := b.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {staffPassword}}); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("the old password still works: %d", r.StatusCode)
		}
		b.login("owner@acme.test", newPassword)
		if n := auditCount(t, env, "staff.password.reset", "owner@acme.test"); n != 1 {
			t.Errorf("%d staff.password.reset events", n)
		}
	})

	t.Run("an expired link is refused", func(t *testing.T) {
		b := newBrowser(t, srv)
		forgot(b, "owner@acme.test")
		tok := linkFor("owner@acme.test")
		d, err := dbOf(env)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.Gorm.Exec("UPDATE one_time_tokens SET expires_at = ? WHERE purpose = 'staff_password_reset' AND used_at IS NULL", time.Now().UTC().Add(-time.Minute)).Error; err != nil {
			t.Fatal(err)
		}
		if p := b.get("/login/reset?token=" + tok); p.StatusCode != http.StatusNotFound || !strings.Contains(p.Body, "expired") {
			t.Errorf("expired link's page: %d", p.StatusCode)
		}
		if r := b.post("/login/reset", url.Values{"token": {tok}, "password": {"an expired link password"}}); r.StatusCode != http.StatusNotFound {
			t.Errorf("expired link: %d", r.StatusCode)
		}
		b.login("owner@acme.test", newPassword)
	})

	t.Run("two-factor sign-in still asks for the code", func(t *testing.T) {
		b := signedIn(t, srv, "twofactor@acme.test")
		m := secretRe.FindStringSubmatch(b.post("/account/security/totp/start", nil).Body)
		if m == nil {
			t.Fatal("no TOTP secret")
		}
		secret := strings.ReplaceAll(m[1], " ", "")
		if r := b.post("/account/security/totp/confirm", url.Values{"code": {totpCode(t, secret, 0)}}); r.StatusCode != http.StatusOK {
			t.Fatalf("confirm: %d", r.StatusCode)
		}
		v := newBrowser(t, srv)
		forgot(v, "twofactor@acme.test")
		tok := linkFor("twofactor@acme.test")
		if r := v.post("/login/reset", url.Values{"token": {tok}, "password": {newPassword}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("reset: %d", r.StatusCode)
		}
		r := v.post("/login", url.Values{"email": {"twofactor@acme.test"}, "password": {newPassword}})
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login/totp") {
			t.Fatalf("sign-in after the reset went to %d %q, not the code page", r.StatusCode, r.Header.Get("Location"))
		}
		if home := v.get("/"); home.StatusCode != http.StatusSeeOther {
			t.Errorf("signed in without the code: %d", home.StatusCode)
		}
	})

	t.Run("throttled per address, with the same answer", func(t *testing.T) {
		b := newBrowser(t, srv)
		for range 7 {
			forgot(b, "busy@acme.test")
		}
		for range 5 {
			env.Mail.WaitFor(t, "busy@acme.test", 15*time.Second)
		}
		time.Sleep(time.Second)
		n := 0
		for _, m := range env.Mail.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, "busy@acme.test") {
					n++
				}
			}
		}
		if n != 5 {
			t.Errorf("%d mails for 7 requests; want 5", n)
		}
	})
}
