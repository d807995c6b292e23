package app_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/tokens"
)

// TestSetPasswordLink: an imported customer without a password follows the
// campaign's link, chooses a password, and logs in with it; the link then
// no longer works.
func TestSetPasswordLink(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	ctx := context.Background()
	tn, err := b.env.Tenants().BySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	d := b.env.DB()
	id := uuid.Must(uuid.NewV7())
	now := time.Now().UTC()
	if err := d.Gorm.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at) VALUES (?, ?, 'imp@example.com', false, 'active', '{}', ?, ?)`, id, tn.ID, now, now).Error; err != nil {
		t.Fatal(err)
	}
	token, err := tokens.NewStore(d.Gorm).Issue(ctx, tn.ID, id, tokens.SetPassword, 7*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := b.srv.Visitor(t)
	form := v.Get("acme.localhost", "/password/set?token="+url.QueryEscape(token))
	if form.StatusCode != 200 || !strings.Contains(form.Body, `action="/password/set"`) || form.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("set-password page: %d\n%s", form.StatusCode, form.Body)
	}
	weak := v.Post("acme.localhost", "/password/set", url.Values{"token": {token}, "password": {"password123"}})
	if weak.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(weak.Body, "commonly used") {
		t.Fatalf("weak password: %d", weak.StatusCode)
	}
	wantRedirect(t, v.Post("acme.localhost", "/password/set", url.Values{"token": {token}, "password": {"imported at last"}}), "/login?notice=reset")
	wantRedirect(t, login(v, "acme.localhost", "imp@example.com", "imported at last"), "/account")
	if again := b.srv.Visitor(t).Post("acme.localhost", "/password/set", url.Values{"token": {token}, "password": {"someone else now"}}); again.StatusCode != http.StatusGone {
		t.Fatalf("reused link: %d", again.StatusCode)
	}
}

// TestCampaignEndToEnd: customers imported without passwords get the
// campaign's mail; its link sets a password, and the customer logs in.
func TestCampaignEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	mustStaff(t, b.env, "owner@acme.test", "owner", "acme")
	file := t.TempDir() + "/people.csv"
	if err := os.WriteFile(file, []byte("email\nnia@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := b.env.Run("import", "--tenant", "acme", file); r.Code != 0 {
		t.Fatalf("import: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	owner := signedIn(t, b.srv, "owner@acme.test")
	if card := owner.get("/t/acme/imports"); !strings.Contains(card.Body, "1 customer has no password") {
		t.Errorf("the campaign card does not say \"1 customer has\":\n%s", card.Body)
	}
	// "Send the mails" asks first, with the recipients and the throttle,
	// and starts nothing until confirmed.
	ask := owner.post("/t/acme/imports/campaigns", url.Values{"rate": {"60"}, "remind_days": {"3"}})
	if ask.StatusCode != http.StatusOK || !strings.Contains(ask.Body, `data-testid="campaign-confirm"`) ||
		!strings.Contains(ask.Body, "1 customer<") || !strings.Contains(ask.Body, "60 mails a minute") {
		t.Fatalf("confirmation: %d\n%s", ask.StatusCode, ask.Body)
	}
	var started int64
	b.env.DB().Gorm.Raw("SELECT count(*) FROM password_campaigns").Scan(&started)
	if started != 0 {
		t.Fatalf("%d campaigns started before the confirmation", started)
	}
	if r := owner.post("/t/acme/imports/campaigns", url.Values{"rate": {"60"}, "remind_days": {"3"}, "confirm": {"yes"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start campaign: %d\n%s", r.StatusCode, r.Body)
	}
	// Right after the start, the card says a campaign is sending, not that
	// every customer has a password.
	if list := owner.get("/t/acme/imports"); !strings.Contains(list.Body, `data-testid="campaign-running"`) || strings.Contains(list.Body, "Every customer has a password") {
		t.Errorf("the campaign card right after the start:\n%s", list.Body)
	}
	m := b.env.Mail.WaitFor(t, "nia@example.com", 30*time.Second)
	link := linkIn(t, m)
	if !strings.HasPrefix(link, "/password/set?token=") {
		t.Fatalf("campaign link %q", link)
	}
	v := b.srv.Visitor(t)
	token, _ := url.QueryUnescape(strings.TrimPrefix(link, "/password/set?token="))
	wantRedirect(t, v.Post("acme.localhost", "/password/set", url.Values{"token": {token}, "password": {"nia chose this"}}), "/login?notice=reset")
	wantRedirect(t, login(v, "acme.localhost", "nia@example.com", "nia chose this"), "/account")
}
