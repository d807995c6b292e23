package app_test

import (
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"gatehouse/app"
	"gatehouse/app/access"
	"gatehouse/app/apptest"
	"gatehouse/app/console"
)

// TestConsoleAccess walks every console route, GET and POST, as a full
// page and as an htmx fragment, for every kind of visitor, and checks that
// the guard lets exactly the right ones through. Tenant B's owner must get
// a 404 on every tenant A page and never see tenant A's data.
func TestConsoleAccess(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	// --dev with no SMTP: the dev outbox pages exist and invitations land there.
	env.Set("GATEHOUSE_SMTP_URL", "")
	mustTenantCLI(t, env, "acme", "Acme Secret Coffee")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	mustStaff(t, env, "root@example.com", "platform-admin", "")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	mustStaff(t, env, "support@acme.test", "support", "acme")
	mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
	srv := env.Serve("--dev")

	// Things the routes' parameters point at: a field, a staff member, a
	// custom domain and a mail in the outbox.
	owner := signedIn(t, srv, "owner@acme.test")
	owner.post("/t/acme/fields", url.Values{"key": {"first_name"}, "label": {"Secret Field Label"}, "type": {"text"}, "capture": {"optional"}})
	owner.post("/t/acme/staff", url.Values{"email": {"invitee@acme.test"}, "role": {"support"}})
	if r := owner.upload("/t/acme/theme/logo", "logo.png", pngBytes(t, 16, 16)); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logo upload: %d", r.StatusCode)
	}
	root := signedIn(t, srv, "root@example.com")
	root.post("/tenants/acme/domains", url.Values{"domain": {"login.acme.test"}})
	// A webhook endpoint of acme, for the webhooks pages; the customer's
	// sign-up below gives it a delivery.
	hook := endpointRe.FindStringSubmatch(owner.post("/t/acme/webhooks", url.Values{"url": {"http://127.0.0.1:9/hook"}, "events": {"customer.created"}}).Body)
	if hook == nil {
		t.Fatal("no webhook endpoint to walk the webhooks pages with")
	}
	// A customer of acme, for the customers pages.
	customer := srv.Visitor(t)
	customer.Post("acme.localhost", "/register", url.Values{"email": {"cust@example.com"}, "password": {"customer passphrase"}})
	var custID string
	env.DB().Gorm.Raw("SELECT CAST(id AS TEXT) FROM customers WHERE email = 'cust@example.com'").Scan(&custID)
	if custID == "" {
		t.Fatal("no customer to walk the customers pages with")
	}
	// An app of acme, for the apps pages.
	acmeApp := createApp(t, env, "--tenant", "acme", "--name", "Walk", "--type", "web", "--redirect-uri", "https://walk.example/cb")
	// An import job and a campaign of acme, for the imports pages.
	if r := owner.uploadField("/t/acme/imports", "file", "customers.csv", []byte("email\nimported@example.com\n")); r.StatusCode >= 400 {
		t.Fatalf("import upload: %d %s", r.StatusCode, r.Body)
	}
	var jobID string
	env.DB().Gorm.Raw("SELECT CAST(id AS TEXT) FROM import_jobs LIMIT 1").Scan(&jobID)
	campaignID := "0190f0f0-0000-7000-8000-00000000c0de"
	var tenantID string
	env.DB().Gorm.Raw("SELECT CAST(id AS TEXT) FROM tenants WHERE slug = 'acme'").Scan(&tenantID)
	if err := env.DB().Gorm.Exec(`INSERT INTO password_campaigns (id, tenant_id, status, rate_per_minute, created_at, updated_at) VALUES (?, ?, 'running', 10, ?, ?)`,
		campaignID, tenantID, time.Now().UTC(), time.Now().UTC()).Error; err != nil {
		t.Fatal(err)
	}
	var deliveryID string
	env.DB().Gorm.Raw("SELECT CAST(id AS TEXT) FROM webhook_deliveries LIMIT 1").Scan(&deliveryID)
	params := map[string]string{
		"job": jobID, "campaign": campaignID,
		"slug": "acme", "key": "first_name", "provider": "google",
		"id":   staffID(t, env, "support@acme.test"),
		"name": outboxName(t, env, srv, "invitee@acme.test"),
		"cid":  custID, "sid": "no-such-session", "client": acmeApp.ClientID,
		"endpoint": hook[1], "delivery": deliveryID, "kind": "verify",
	}

	who := []string{"anonymous", "support", "admin", "owner", "owner of B", "platform admin"}
	emails := map[string]string{
		"support": "support@acme.test", "admin": "admin@acme.test", "owner": "owner@acme.test",
		"owner of B": "owner@bravo.test", "platform admin": "root@example.com",
	}
	routes := app.ConsoleRoutes(true)
	// Sign-out ends the session the walk uses; it goes last.
	sort.SliceStable(routes, func(i, j int) bool { return routes[j].Path == "/logout" })

	for _, name := range who {
		t.Run(name, func(t *testing.T) {
			b := newBrowser(t, srv)
			if name != "anonymous" {
				b.login(emails[name], staffPassword)
			}
			for _, r := range routes {
				path := fill(r.Path, params)
				for _, htmx := range []bool{false, true} {
					if htmx && r.Path == "/logout" {
						continue // the first sign-out ended the session
					}
					var res resp
					if r.Method == http.MethodGet {
						res = b.getOn(consoleHost, path, htmx)
					} else {
						res = b.postOn(path, url.Values{}, htmx)
					}
					label := r.Method + " " + path
					if htmx {
						label += " (htmx)"
					}
					if res.StatusCode >= 500 {
						t.Errorf("%s: status %d", label, res.StatusCode)
						continue
					}
					if r.Rule.Scope == console.Public {
						continue // the handler answers, with its own 401s and 404s
					}
					want := allowed(name, r.Rule)
					if got := passedGuard(res); got != want {
						t.Errorf("%s: passed the guard = %v (status %d, location %q), want %v", label, got, res.StatusCode, res.Header.Get("Location"), want)
					}
					if want {
						continue
					}
					// Staff of tenant A may see its name on a refusal; nobody else
					// may see anything of it.
					if strings.Contains(res.Body, "Secret Field Label") ||
						(name == "anonymous" || name == "owner of B") && strings.Contains(res.Body, "Acme Secret Coffee") {
						t.Errorf("%s: a denied response shows tenant A's data", label)
					}
					if code := deniedStatus(name, r.Rule, htmx); res.StatusCode != code {
						t.Errorf("%s: denied with %d, want %d", label, res.StatusCode, code)
					}
				}
			}
		})
	}
}

// allowed is the expected answer, written out from the role table
// rather than from access.RolePolicies, so a policy mistake shows here.
func allowed(who string, rule console.Rule) bool {
	switch rule.Scope {
	case console.Public:
		return true
	case console.SignedIn:
		return who != "anonymous"
	case console.PlatformOnly:
		return who == "platform admin"
	}
	p := rule.Perm
	switch who {
	case "platform admin", "owner":
		return true
	case "admin":
		return p.Object != access.Team
	case "support":
		return p.Object == access.Overview || p.Object == access.Users && p.Action != access.Delete
	}
	return false
}

// deniedStatus is how the guard says no: sign in first; a 403 to staff of
// the tenant whose role lacks the permission; and to everyone else the
// same 404 an unknown tenant gets, so they learn nothing about it.
func deniedStatus(who string, rule console.Rule, htmx bool) int {
	switch {
	case who == "anonymous" && htmx:
		return http.StatusUnauthorized
	case who == "anonymous":
		return http.StatusSeeOther
	case rule.Scope == console.InTenant && (who == "support" || who == "admin"):
		return http.StatusForbidden
	}
	return http.StatusNotFound
}

// passedGuard tells a handler's answer from the guard's: the guard
// answers with a redirect to sign in, a 401, a 403 or a 404.
func passedGuard(r resp) bool {
	switch r.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return false
	case http.StatusSeeOther, http.StatusFound:
		return !strings.HasPrefix(r.Header.Get("Location"), "/login?return_to=") && r.Header.Get("Location") != "/login"
	}
	return true
}

func fill(path string, params map[string]string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = url.PathEscape(params[p[1:]])
		}
	}
	return strings.Join(parts, "/")
}

// staffID reads a staff member's id from the database.
func staffID(t testing.TB, env *apptest.Env, email string) string {
	t.Helper()
	d, err := dbOf(env)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var id string
	if err := d.Gorm.Raw("SELECT id FROM staff WHERE email = ?", email).Scan(&id).Error; err != nil || id == "" {
		t.Fatalf("staff %s: %v", email, err)
	}
	return id
}

// outboxName waits for a mail to to land in the dev outbox and returns its
// file name.
func outboxName(t testing.TB, env *apptest.Env, srv *apptest.Server, to string) string {
	t.Helper()
	var name string
	apptest.Eventually(t, 10*time.Second, func() error {
		entries, err := os.ReadDir(env.Getenv("GATEHOUSE_DATA_DIR") + "/outbox")
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.Contains(e.Name(), strings.ReplaceAll(to, "+", "_")) {
				name = e.Name()
				return nil
			}
		}
		return os.ErrNotExist
	})
	return name
}
