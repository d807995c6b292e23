package app_test

import (
	"context"
	"net/http"
	"net/url"
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
