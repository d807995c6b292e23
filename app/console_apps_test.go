package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

// TestConsoleApps: an admin registers an app in the console, sees its
// secret once, rotates and deletes it; every change is audited and the
// secret appears nowhere else. Another tenant's owner cannot reach it (the
// access walk in TestConsoleAccess covers every role).
func TestConsoleApps(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
	srv := env.Serve()
	b := signedIn(t, srv, "admin@acme.test")

	if r := b.get("/t/acme/apps"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "http://acme.localhost:"+srv.Port) {
		t.Fatalf("apps page: %d", r.StatusCode)
	}
	t.Run("bad input names the field", func(t *testing.T) {
		r := b.post("/t/acme/apps", url.Values{"name": {"Shop"}, "type": {"web"}, "redirect-uri": {"http://shop.example/cb"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-redirect-uri"`) {
			t.Fatalf("%d", r.StatusCode)
		}
	})

	r := b.post("/t/acme/apps", url.Values{"name": {"Shop"}, "type": {"web"}, "redirect-uri": {"https://shop.example/cb"}, "first-party": {"on"}})
	secret := regexp.MustCompile(`ghs_[A-Za-z0-9_-]{43}`).FindString(r.Body)
	clientID := regexp.MustCompile(`data-testid="client-id">([^<]+)<`).FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusCreated || secret == "" || len(clientID) != 2 {
		t.Fatalf("create: %d", r.StatusCode)
	}
	id := clientID[1]
	for _, path := range []string{"/t/acme/apps", "/t/acme/audit"} {
		if p := b.get(path); strings.Contains(p.Body, secret) || !strings.Contains(p.Body, id) {
			t.Fatalf("%s shows the secret, or not the app", path)
		}
	}

	t.Run("other tenant's owner", func(t *testing.T) {
		o := signedIn(t, srv, "owner@bravo.test")
		if p := o.get("/t/acme/apps"); strings.Contains(p.Body, id) || p.StatusCode == http.StatusOK {
			t.Fatalf("bravo's owner sees acme's apps: %d", p.StatusCode)
		}
		if p := o.post("/t/bravo/apps/"+id+"/rotate", url.Values{"grace": {"0"}}); p.StatusCode != http.StatusNotFound {
			t.Fatalf("bravo rotated acme's app through its own tenant: %d", p.StatusCode)
		}
	})

	t.Run("rotate", func(t *testing.T) {
		p := b.post("/t/acme/apps/"+id+"/rotate", url.Values{"grace": {"24h"}})
		next := regexp.MustCompile(`ghs_[A-Za-z0-9_-]{43}`).FindString(p.Body)
		if p.StatusCode != http.StatusOK || next == "" || next == secret || !strings.Contains(p.Body, "keeps working for 24h") {
			t.Fatalf("rotate: %d", p.StatusCode)
		}
	})

	t.Run("delete asks first", func(t *testing.T) {
		if p := b.post("/t/acme/apps/"+id+"/delete", url.Values{}); !strings.Contains(p.Body, `data-testid="confirm-delete"`) {
			t.Fatalf("no confirmation: %d", p.StatusCode)
		}
		if p := b.post("/t/acme/apps/"+id+"/delete", url.Values{"confirm": {"yes"}}); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.StatusCode)
		}
		if p := b.get("/t/acme/apps"); strings.Contains(p.Body, id) {
			t.Fatal("deleted app listed")
		}
	})

	var actions []string
	env.DB().Gorm.Table("audit_events").Where("target = ?", id).Order("at").Pluck("action", &actions)
	if strings.Join(actions, ",") != "app.created,app.secret.rotated,app.deleted" {
		t.Fatalf("audit: %v", actions)
	}
}
