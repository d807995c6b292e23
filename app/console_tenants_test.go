package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
)

// auditActions lists the actions recorded for a tenant, oldest first.
func auditActions(t testing.TB, env *apptest.Env, slug string) []string {
	t.Helper()
	d, err := dbOf(env)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var actions []string
	d.Gorm.Raw("SELECT a.action FROM audit_events a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = ? ORDER BY a.id", slug).Scan(&actions)
	return actions
}

// TestConsoleTenants: a platform admin creates, finds, suspends and resumes
// tenants and manages their custom domains, each change audited.
func TestConsoleTenants(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustStaff(t, env, "root@example.com", "platform-admin", "")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	srv := env.Serve()
	b := signedIn(t, srv, "root@example.com")

	t.Run("create", func(t *testing.T) {
		r := b.post("/tenants", url.Values{"slug": {"acme"}, "name": {"Acme Coffee"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/tenants/acme" {
			t.Fatalf("create: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
		}
		page := b.get("/tenants/acme")
		if page.StatusCode != 200 || !strings.Contains(page.Body, "Tenant acme created") || !strings.Contains(page.Body, "http://acme.localhost:"+srv.Port+"/login") {
			t.Fatalf("detail page after create: %d\n%s", page.StatusCode, page.Body)
		}
		if again := b.get("/tenants/acme"); strings.Contains(again.Body, "Tenant acme created") {
			t.Fatal("the flash message shows twice")
		}
		apptest.Eventually(t, 3*time.Second, func() error {
			if r, _ := srv.Get(t, "acme.localhost", "/login"); r.StatusCode != 200 {
				return fmt.Errorf("acme.localhost/login: %d", r.StatusCode)
			}
			return nil
		})
	})
	t.Run("invalid and duplicate slugs are named", func(t *testing.T) {
		// Each error is a sentence, under its field.
		for slug, want := range map[string]struct {
			status   int
			sentence string
		}{
			"Bad Slug": {422, `The slug &#34;Bad Slug&#34; may contain only lower-case letters, digits and hyphens.`},
			"acme":     {409, `A tenant with slug &#34;acme&#34; already exists. Choose another slug.`},
			"console":  {422, `The slug &#34;console&#34; is reserved; choose another.`},
		} {
			r := b.post("/tenants", url.Values{"slug": {slug}, "name": {"X"}})
			if r.StatusCode != want.status || !strings.Contains(r.Body, `<p class="field-error" id="slug-error">`+want.sentence+`</p>`) {
				t.Errorf("slug %q: %d, want %d with %q under the slug field\n%s", slug, r.StatusCode, want.status, want.sentence, r.Body)
			}
		}
		r := b.post("/tenants", url.Values{"slug": {"fine"}, "name": {""}})
		if r.StatusCode != 422 || !strings.Contains(r.Body, `<p class="field-error" id="name-error">Enter a brand name.</p>`) {
			t.Errorf("empty name: %d\n%s", r.StatusCode, r.Body)
		}
	})
	t.Run("search", func(t *testing.T) {
		r := b.get("/tenants?q=acm")
		if !strings.Contains(r.Body, "Acme Coffee") || strings.Contains(r.Body, "Bravo Tea") {
			t.Fatal("search for acm")
		}
		frag := b.getOn(consoleHost, "/tenants?q=tea", true)
		if frag.StatusCode != 200 || strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, "Bravo Tea") || strings.Contains(frag.Body, "Acme Coffee") {
			t.Fatalf("htmx search fragment:\n%s", frag.Body)
		}
		if none := b.get("/tenants?q=zzz"); !strings.Contains(none.Body, `data-testid="empty"`) {
			t.Fatal("no empty state")
		}
	})
	t.Run("suspend asks first, then takes the hosts offline; resume", func(t *testing.T) {
		r := b.post("/tenants/acme/status", url.Values{"status": {"suspended"}})
		if r.StatusCode != 200 || !strings.Contains(r.Body, `data-testid="confirm"`) {
			t.Fatalf("suspend without confirming: %d", r.StatusCode)
		}
		if r, _ := srv.Get(t, "acme.localhost", "/login"); r.StatusCode != 200 {
			t.Fatal("asking suspended the tenant already")
		}
		r = b.post("/tenants/acme/status", url.Values{"status": {"suspended"}, "confirm": {"yes"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("suspend: %d", r.StatusCode)
		}
		apptest.Eventually(t, 3*time.Second, func() error {
			if r, _ := srv.Get(t, "acme.localhost", "/login"); r.StatusCode != 503 {
				return fmt.Errorf("suspended tenant answers %d", r.StatusCode)
			}
			return nil
		})
		b.post("/tenants/acme/status", url.Values{"status": {"active"}})
		apptest.Eventually(t, 3*time.Second, func() error {
			if r, _ := srv.Get(t, "acme.localhost", "/login"); r.StatusCode != 200 {
				return fmt.Errorf("resumed tenant answers %d", r.StatusCode)
			}
			return nil
		})
		if r := b.post("/tenants/acme/status", url.Values{"status": {"deleted"}}); r.StatusCode != 422 {
			t.Fatalf("bad status: %d", r.StatusCode)
		}
	})
	t.Run("domains: added unverified, verified by a platform admin, removed", func(t *testing.T) {
		r := b.post("/tenants/acme/domains", url.Values{"domain": {"Login.Acme.test"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("add: %d %s", r.StatusCode, r.Body)
		}
		page := b.get("/tenants/acme")
		if !strings.Contains(page.Body, "_gatehouse.login.acme.test") || !strings.Contains(page.Body, "gatehouse-verification=") {
			t.Fatal("the page does not say which TXT record to publish")
		}
		if r, _ := srv.Get(t, "login.acme.test", "/login"); r.StatusCode != 404 {
			t.Fatalf("an unverified domain serves: %d", r.StatusCode)
		}
		if r := b.post("/tenants/acme/domains", url.Values{"domain": {"https://x.test/"}}); r.StatusCode != 422 || !strings.Contains(r.Body, `id="domain-error"`) {
			t.Fatalf("bad domain: %d", r.StatusCode)
		}
		if r := b.post("/tenants/bravo/domains/mark-verified", url.Values{"domain": {"login.acme.test"}, "confirm": {"yes"}}); r.StatusCode != 422 {
			t.Fatalf("verifying acme's domain through bravo: %d", r.StatusCode)
		}
		if r := b.post("/tenants/acme/domains/mark-verified", url.Values{"domain": {"login.acme.test"}}); !strings.Contains(r.Body, `data-testid="confirm"`) {
			t.Fatal("mark verified does not ask first")
		}
		if r := b.post("/tenants/acme/domains/mark-verified", url.Values{"domain": {"login.acme.test"}, "confirm": {"yes"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("mark verified: %d", r.StatusCode)
		}
		apptest.Eventually(t, 3*time.Second, func() error {
			if r, body := srv.Get(t, "login.acme.test", "/login"); r.StatusCode != 200 || !strings.Contains(body, "Acme Coffee") {
				return fmt.Errorf("verified domain answers %d", r.StatusCode)
			}
			return nil
		})
		b.post("/tenants/acme/domains/remove", url.Values{"domain": {"login.acme.test"}, "confirm": {"yes"}})
		apptest.Eventually(t, 3*time.Second, func() error {
			if r, _ := srv.Get(t, "login.acme.test", "/login"); r.StatusCode != 404 {
				return fmt.Errorf("removed domain answers %d", r.StatusCode)
			}
			return nil
		})
	})
	t.Run("every change is audited", func(t *testing.T) {
		got := strings.Join(auditActions(t, env, "acme"), ",")
		want := "tenant.created,tenant.suspended,tenant.resumed,domain.added,domain.verified,domain.removed"
		if got != want {
			t.Fatalf("audit actions %s\nwant %s", got, want)
		}
	})
}
