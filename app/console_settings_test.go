package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
)

// settingsForm is a complete customer-settings form.
func settingsForm(verification string, minLen int) url.Values {
	return url.Values{
		"email_verification": {verification}, "min_password_length": {fmt.Sprint(minLen)},
		"session_idle_minutes": {"60"}, "session_max_hours": {"48"}, "profile_prompt_days": {"14"},
	}
}

// TestConsoleSettings: owners and admins edit a tenant's customer
// settings; the page explains the enumeration trade-off of optional
// verification; bad values are named; changes are audited with before and
// after and reach the hosted pages; support staff get a 403, another
// tenant's staff a 404, and neither changes anything.
func TestConsoleSettings(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	mustStaff(t, env, "support@acme.test", "support", "acme")
	mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
	srv := env.Serve()
	admin := signedIn(t, srv, "admin@acme.test")

	page := admin.get("/t/acme/settings")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("settings page: %d", page.StatusCode)
	}
	for _, want := range []string{`value="optional" checked`, "anyone can find out which addresses are customers", `"check your inbox" whether or not the address already has an account`, `name="min_password_length"`, `value="8"`, `href="/t/acme/settings"`} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("settings page lacks %q:\n%s", want, page.Body)
		}
	}

	t.Run("bad values are named", func(t *testing.T) {
		f := settingsForm("required", 12)
		f.Set("session_idle_minutes", "soon")
		r := admin.post("/t/acme/settings", f)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="st-idle-error"`) || !strings.Contains(r.Body, "must be a whole number") {
			t.Fatalf("non-number: %d", r.StatusCode)
		}
		r = admin.post("/t/acme/settings", settingsForm("required", 7))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "between 8 and 64") {
			t.Fatalf("too short: %d", r.StatusCode)
		}
		r = admin.post("/t/acme/settings", settingsForm("sometimes", 12))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "must be optional or required") {
			t.Fatalf("bad verification: %d", r.StatusCode)
		}
		tn, _ := env.Tenants().BySlug(context.Background(), "acme")
		if tn.Settings.EmailVerification != "optional" || tn.Settings.MinPasswordLength != 8 {
			t.Fatalf("a rejected form changed the settings: %+v", tn.Settings)
		}
	})

	t.Run("support gets 403, other tenant's owner 404", func(t *testing.T) {
		support := signedIn(t, srv, "support@acme.test")
		if r := support.get("/t/acme/settings"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("support GET: %d", r.StatusCode)
		}
		if r := support.post("/t/acme/settings", settingsForm("required", 20)); r.StatusCode != http.StatusForbidden {
			t.Fatalf("support POST: %d", r.StatusCode)
		}
		other := signedIn(t, srv, "owner@bravo.test")
		for _, r := range []resp{other.get("/t/acme/settings"), other.post("/t/acme/settings", settingsForm("required", 20))} {
			if r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "Acme Coffee") {
				t.Fatalf("bravo's owner on acme's settings: %d", r.StatusCode)
			}
		}
		// Bravo's owner saving their own page touches only bravo.
		if r := other.post("/t/bravo/settings", settingsForm("optional", 30)); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("bravo's own save: %d\n%s", r.StatusCode, r.Body)
		}
		acme, _ := env.Tenants().BySlug(context.Background(), "acme")
		if acme.Settings.EmailVerification != "optional" || acme.Settings.MinPasswordLength != 8 {
			t.Fatalf("acme's settings changed from outside: %+v", acme.Settings)
		}
	})

	t.Run("save", func(t *testing.T) {
		if r := admin.post("/t/acme/settings", settingsForm("required", 12)); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", r.StatusCode, r.Body)
		}
		if p := admin.get("/t/acme/settings"); !strings.Contains(p.Body, `value="required" checked`) || !strings.Contains(p.Body, `value="12"`) {
			t.Fatal("saved values not shown")
		}
		var raw string
		env.DB().Gorm.Raw("SELECT detail FROM audit_events a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme' AND a.action = 'settings.updated'").Scan(&raw)
		var detail struct{ Before, After map[string]any }
		if err := json.Unmarshal([]byte(raw), &detail); err != nil {
			t.Fatalf("audit detail %q: %v", raw, err)
		}
		if detail.Before["email_verification"] != "optional" || detail.After["email_verification"] != "required" ||
			detail.Before["min_password_length"] != float64(8) || detail.After["min_password_length"] != float64(12) ||
			detail.After["session_max_hours"] != float64(48) {
			t.Fatalf("audit detail: %s", raw)
		}
		// The hosted pages follow: the sign-up form wants 12 characters and
		// answers "check your inbox".
		apptest.Eventually(t, 5*time.Second, func() error {
			v := srv.Visitor(t)
			short := v.Post("acme.localhost", "/register", url.Values{"email": {"s@example.com"}, "password": {"elevenchars"}})
			if short.StatusCode != http.StatusUnprocessableEntity {
				return fmt.Errorf("11 characters: %d", short.StatusCode)
			}
			return nil
		})
		ok := srv.Visitor(t).Post("acme.localhost", "/register", url.Values{"email": {"s@example.com"}, "password": {"twelve chars"}})
		if ok.StatusCode != http.StatusSeeOther || ok.Header.Get("Location") != "/login?notice=verify" {
			t.Fatalf("sign-up after the change: %d %q", ok.StatusCode, ok.Header.Get("Location"))
		}
	})
}
