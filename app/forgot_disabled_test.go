package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/app/mail/mailtest"
)

// TestForgotPasswordDisabledCustomer: staff disabled a customer, so
// "Forgot password" mails them nothing (the page answers as for any
// address), and a reset link mailed before the account was disabled no
// longer changes its password.
func TestForgotPasswordDisabledCustomer(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	v := b.srv.Visitor(t)
	wantRedirect(t, signup(v, "acme.localhost", "held@example.com", "first password here", nil), "/")
	wantRedirect(t, signup(b.srv.Visitor(t), "acme.localhost", "free@example.com", "second password here", nil), "/")
	// Sign-up mails each a verification link; this test reads what follows.
	for _, addr := range []string{"held@example.com", "free@example.com"} {
		if l := linkIn(t, b.env.Mail.WaitFor(t, addr, 30*time.Second)); !strings.HasPrefix(l, "/verify-email") {
			t.Fatalf("first mail to %s links %q", addr, l)
		}
	}
	// A link mailed while the account was active...
	b.srv.Visitor(t).Post("acme.localhost", "/password/forgot", url.Values{"email": {"held@example.com"}})
	link := linkIn(t, b.env.Mail.WaitFor(t, "held@example.com", 30*time.Second))
	if !strings.HasPrefix(link, "/password/reset?token=") {
		t.Fatalf("reset link %q", link)
	}
	token, _ := url.QueryUnescape(strings.TrimPrefix(link, "/password/reset?token="))

	tn, err := b.env.Tenants().BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.env.DB().Gorm.Table("customers").Where("tenant_id = ? AND email = ?", tn.ID, "held@example.com").
		Update("status", "disabled").Error; err != nil {
		t.Fatal(err)
	}

	// ...is dead once the account is disabled.
	if p := b.srv.Visitor(t).Post("acme.localhost", "/password/reset", url.Values{"token": {token}, "password": {"taken over now"}}); p.StatusCode != http.StatusGone {
		t.Fatalf("reset of a disabled account: %d", p.StatusCode)
	}

	// A new request mails nothing to the disabled address; the active
	// customer's request, made after it, still gets its link. The page
	// answers both alike.
	before := mailsTo(b.env.Mail.Messages(), "held@example.com")
	held := b.srv.Visitor(t).Post("acme.localhost", "/password/forgot", url.Values{"email": {"held@example.com"}})
	free := b.srv.Visitor(t).Post("acme.localhost", "/password/forgot", url.Values{"email": {"free@example.com"}})
	if held.StatusCode != http.StatusOK || free.StatusCode != http.StatusOK {
		t.Fatalf("forgot answers: %d vs %d", held.StatusCode, free.StatusCode)
	}
	b.env.Mail.WaitFor(t, "free@example.com", 30*time.Second)
	time.Sleep(time.Second) // the two jobs may run side by side; let the first finish
	if after := mailsTo(b.env.Mail.Messages(), "held@example.com"); after != before {
		t.Fatalf("a disabled customer was mailed: %d messages before, %d after", before, after)
	}

	// Staff enable the account again: the old password still works, the
	// one the dead link tried does not.
	if err := b.env.DB().Gorm.Table("customers").Where("tenant_id = ? AND email = ?", tn.ID, "held@example.com").
		Update("status", "active").Error; err != nil {
		t.Fatal(err)
	}
	if p := login(b.srv.Visitor(t), "acme.localhost", "held@example.com", "taken over now"); p.StatusCode == http.StatusSeeOther {
		t.Fatal("the dead link changed the password")
	}
	wantRedirect(t, login(b.srv.Visitor(t), "acme.localhost", "held@example.com", "first password here"), "/")
}

func mailsTo(msgs []mailtest.Message, addr string) int {
	n := 0
	for _, m := range msgs {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				n++
			}
		}
	}
	return n
}
