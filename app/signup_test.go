package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// TestSignupThrottled is item 7's throttle: sign-ups are limited per
// address and per tenant with 429 and Retry-After, every attempt counting,
// and one tenant's limits leave another's alone.
func TestSignupThrottled(t *testing.T) {
	t.Parallel()
	b := newProxiedBrandEnv(t, "acme", "bravo")
	bad := func(v *apptest.Visitor, host string) apptest.Page {
		return signup(v, host, "not-an-address", "short", nil)
	}
	for i := 0; i < 30; i++ {
		if p := bad(b.at(t, "203.0.113.70"), "acme.localhost"); p.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: %d", i, p.StatusCode)
		}
	}
	wantThrottled(t, bad(b.at(t, "203.0.113.70"), "acme.localhost"), "31st sign-up from one address")
	wantThrottled(t, signup(b.at(t, "203.0.113.70"), "acme.localhost", "real@example.com", "a fine passphrase", nil), "a valid sign-up from that address")
	t.Run("other address", func(t *testing.T) {
		wantRedirect(t, signup(b.at(t, "203.0.113.71"), "acme.localhost", "other@example.com", "a fine passphrase", nil), "/account")
	})
	t.Run("other tenant, same address", func(t *testing.T) {
		wantRedirect(t, signup(b.at(t, "203.0.113.70"), "bravo.localhost", "real@example.com", "a fine passphrase", nil), "/account")
	})
	t.Run("per tenant", func(t *testing.T) {
		// 1000 attempts a tenant per window, from as many addresses as it takes.
		spent := 31 // the attempts above that reached the tenant count
		for i := 0; spent < 1000; i++ {
			for j := 0; j < 30 && spent < 1000; j++ {
				if p := bad(b.at(t, fmt.Sprintf("10.20.%d.1", i)), "acme.localhost"); p.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("attempt %d: %d", spent, p.StatusCode)
				}
				spent++
			}
		}
		wantThrottled(t, signup(b.at(t, "198.51.100.80"), "acme.localhost", "late@example.com", "a fine passphrase", nil), "sign-up past the tenant's allowance")
		wantRedirect(t, signup(b.at(t, "198.51.100.80"), "bravo.localhost", "late@example.com", "a fine passphrase", nil), "/account")
	})
}

// TestSignupDoesNotRevealAccounts is item 7's enumeration fix: where the
// tenant requires verification, a taken address gets the same answer as a
// new one, its owner gets one "log in or reset" mail per period, and the
// account is untouched. Where verification is optional the answer differs,
// as the console explains.
func TestSignupDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme", "bravo")
	b.withSettings(t, "acme", func(s *tenants.Settings) { s.EmailVerification = "required" })
	const host, email, password = "acme.localhost", "ida@example.com", "ida's own passphrase"
	apptest.Eventually(t, 5*time.Second, func() error {
		p := signup(b.srv.Visitor(t), host, "probe@example.com", "probe passphrase", nil)
		if p.Header.Get("Location") != "/login?notice=verify" {
			return fmt.Errorf("setting not served yet: %s", p.Header.Get("Location"))
		}
		return nil
	})
	owner := b.srv.Visitor(t)
	wantRedirect(t, signup(owner, host, email, password, nil), "/login?notice=verify")
	verify := linkIn(t, b.env.Mail.WaitFor(t, email, 10*time.Second))

	taken := signup(b.srv.Visitor(t), host, email, "stranger's passphrase", nil)
	fresh := signup(b.srv.Visitor(t), host, "new@example.com", "stranger's passphrase", nil)
	if taken.StatusCode != fresh.StatusCode || taken.Header.Get("Location") != fresh.Header.Get("Location") || taken.Body != fresh.Body {
		t.Fatalf("taken address: %d %q, new address: %d %q", taken.StatusCode, taken.Header.Get("Location"), fresh.StatusCode, fresh.Header.Get("Location"))
	}
	wantRedirect(t, taken, "/login?notice=verify")
	if strings.Contains(taken.Body, "already exists") {
		t.Fatal("the answer says the account exists")
	}
	m := b.env.Mail.WaitFor(t, email, 10*time.Second)
	if !strings.HasPrefix(m.Subject, "You already have") || !strings.Contains(m.Text, "/login") || !strings.Contains(m.Text, "/password/forgot") || strings.Contains(m.Text, "token=") {
		t.Fatalf("owner's notice: %q\n%s", m.Subject, m.Text)
	}
	if m := b.env.Mail.WaitFor(t, "new@example.com", 10*time.Second); !strings.Contains(m.Text, "/verify-email?token=") {
		t.Fatalf("new address got:\n%s", m.Text)
	}

	// A second try within the period is answered the same, but mails no one:
	// the next mail the owner gets is the reset they ask for.
	wantRedirect(t, signup(b.srv.Visitor(t), host, email, "stranger's passphrase", nil), "/login?notice=verify")
	owner.Post(host, "/password/forgot", url.Values{"email": {email}})
	if m := b.env.Mail.WaitFor(t, email, 10*time.Second); !strings.Contains(m.Text, "/password/reset?token=") {
		t.Fatalf("a second notice went out (%q)", m.Subject)
	}
	var n int64
	b.env.DB().Gorm.Raw("SELECT COUNT(*) FROM audit_events WHERE action = 'customer.signup.existing' AND target = ?", email).Scan(&n)
	if n != 2 {
		t.Fatalf("%d sign-up attempts with a taken address audited, want 2", n)
	}

	// The account is untouched: the owner's password, not the stranger's.
	owner.Get(host, verify)
	wantRedirect(t, login(b.srv.Visitor(t), host, email, password), "/account")
	if p := login(b.srv.Visitor(t), host, email, "stranger's passphrase"); p.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the stranger's password: %d", p.StatusCode)
	}

	t.Run("optional verification says so", func(t *testing.T) {
		wantRedirect(t, signup(b.srv.Visitor(t), "bravo.localhost", email, password, nil), "/account")
		p := signup(b.srv.Visitor(t), "bravo.localhost", email, "stranger's passphrase", nil)
		if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "already exists") {
			t.Fatalf("optional verification, taken address: %d", p.StatusCode)
		}
	})
}
