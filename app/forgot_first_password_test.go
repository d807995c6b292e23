package app_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestForgotPasswordImportedCustomer is the onboarding path the product
// recommends for an imported base: customers imported without a password
// use "Forgot password", get the set-your-password mail (not a "you sign in
// with a provider" mail that names nobody), follow its single-use link,
// choose a password and log in. The link is bound to its tenant.
func TestForgotPasswordImportedCustomer(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme", "bravo")
	file := t.TempDir() + "/people.csv"
	if err := os.WriteFile(file, []byte("email\nimp@example.com\nother@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := b.env.Run("import", "--tenant", "acme", file); r.Code != 0 || !strings.Contains(r.Stdout, "created 2") {
		t.Fatalf("import: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	v := b.srv.Visitor(t)
	forgot := v.Post("acme.localhost", "/password/forgot", url.Values{"email": {"imp@example.com"}})
	unknown := v.Post("acme.localhost", "/password/forgot", url.Values{"email": {"ghost@example.com"}})
	if forgot.StatusCode != 200 || forgot.StatusCode != unknown.StatusCode {
		t.Fatalf("forgot: %d, unknown: %d", forgot.StatusCode, unknown.StatusCode)
	}
	m := b.env.Mail.WaitFor(t, "imp@example.com", 30*time.Second)
	if strings.Contains(m.Text, "social account") || strings.Contains(m.Text, "no password to reset") || !strings.Contains(m.Subject, "Acme Coffee") {
		t.Fatalf("imported customer got %q:\n%s", m.Subject, m.Text)
	}
	link := linkIn(t, m)
	if !strings.HasPrefix(link, "/password/set?token=") {
		t.Fatalf("forgot-password link %q, want the set-password link", link)
	}
	if !strings.Contains(linkPattern.FindString(m.Text), "acme.localhost") {
		t.Fatalf("link not on the tenant's host:\n%s", m.Text)
	}
	token, _ := url.QueryUnescape(strings.TrimPrefix(link, "/password/set?token="))

	// The link is acme's: on bravo's host it sets nothing.
	other := b.srv.Visitor(t)
	if p := other.Get("bravo.localhost", link); p.StatusCode != 200 || strings.Contains(p.Body, `name="token" value="`+token) {
		t.Fatalf("acme's link on bravo's host: %d", p.StatusCode)
	}
	if p := other.Post("bravo.localhost", "/password/set", url.Values{"token": {token}, "password": {"someone else tries"}}); p.StatusCode != http.StatusGone {
		t.Fatalf("acme's link redeemed on bravo: %d", p.StatusCode)
	}

	page := v.Get("acme.localhost", link)
	if page.StatusCode != 200 || !strings.Contains(page.Body, `action="/password/set"`) {
		t.Fatalf("set-password page: %d\n%s", page.StatusCode, page.Body)
	}
	wantRedirect(t, v.Post("acme.localhost", "/password/set", url.Values{"token": {token}, "password": {"imported and back"}}), "/login?notice=reset")
	wantRedirect(t, login(v, "acme.localhost", "imp@example.com", "imported and back"), "/account")
	if again := b.srv.Visitor(t).Post("acme.localhost", "/password/set", url.Values{"token": {token}, "password": {"a second go at it"}}); again.StatusCode != http.StatusGone {
		t.Fatalf("reused link: %d", again.StatusCode)
	}

	// Now that the customer has a password, "Forgot password" sends a reset link.
	v.Post("acme.localhost", "/password/forgot", url.Values{"email": {"imp@example.com"}})
	if l := linkIn(t, b.env.Mail.WaitFor(t, "imp@example.com", 30*time.Second)); !strings.HasPrefix(l, "/password/reset?token=") {
		t.Fatalf("after a password is set, forgot sends %q", l)
	}

	// The audit log says which mail went out.
	tn, err := b.env.Tenants().BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := b.env.DB().Gorm.Table("audit_events").Where("tenant_id = ? AND action = ? AND target = ?", tn.ID, "customer.password.set", "imp@example.com").Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("customer.password.set events: %d, %v", n, err)
	}
}

// TestForgotPasswordNamesProviders: a social-only customer still gets the
// mail explaining how they sign in, and it names each provider as the
// login page does (a brand's own provider by the brand's name), once.
func TestForgotPasswordNamesProviders(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	d := b.env.DB()
	ctx := context.Background()
	tn, err := b.env.Tenants().BySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	custID := "0190f0f0-0000-7000-8000-0000000000a1"
	now := time.Now().UTC()
	if err := d.Gorm.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at) VALUES (?, ?, 'two@example.com', true, 'active', '{}', ?, ?)`, custID, tn.ID, now, now).Error; err != nil {
		t.Fatal(err)
	}
	for i, p := range []struct{ id, provider, subject string }{
		{"0190f0f0-0000-7000-8000-0000000000a2", "google", "g-1"},
		{"0190f0f0-0000-7000-8000-0000000000a3", "oidc", "o-1"},
		{"0190f0f0-0000-7000-8000-0000000000a4", "google", "g-2"},
	} {
		if err := d.Gorm.Exec(`INSERT INTO identities (id, tenant_id, customer_id, provider, subject, email, claims, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'two@example.com', '{}', ?, ?)`,
			p.id, tn.ID, custID, p.provider, p.subject, now.Add(time.Duration(i)*time.Second), now).Error; err != nil {
			t.Fatal(err)
		}
	}
	b.srv.Visitor(t).Post("acme.localhost", "/password/forgot", url.Values{"email": {"two@example.com"}})
	m := b.env.Mail.WaitFor(t, "two@example.com", 30*time.Second)
	text := strings.Join(strings.Fields(m.Text), " ")
	if strings.Contains(text, "token=") || !strings.Contains(text, "with Google and Acme Coffee account, so there is no password to reset") {
		t.Fatalf("social-only mail:\n%s", m.Text)
	}
}
