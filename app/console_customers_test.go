package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestConsoleCustomers: support finds a customer by prefix, sees their
// profile, disables them (which ends their sessions at once) and cannot
// delete; an admin deletes with a typed confirmation; another tenant's
// owner gets nothing.
func TestConsoleCustomers(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme", "bravo")
	mustStaff(t, b.env, "support@acme.test", "support", "acme")
	mustStaff(t, b.env, "admin@acme.test", "admin", "acme")
	mustStaff(t, b.env, "owner@bravo.test", "owner", "bravo")
	host := "acme.localhost"
	cust := b.srv.Visitor(t)
	wantRedirect(t, signup(cust, host, "carla@example.com", "carla passphrase", nil), "/account")
	wantRedirect(t, signup(b.srv.Visitor(t), host, "carl@example.com", "carl passphrase", nil), "/account")
	var id string
	b.env.DB().Gorm.Raw("SELECT CAST(id AS TEXT) FROM customers WHERE email = 'carla@example.com'").Scan(&id)

	support := signedIn(t, b.srv, "support@acme.test")
	t.Run("search by prefix", func(t *testing.T) {
		r := support.get("/t/acme/customers?q=" + url.QueryEscape("carla@"))
		if r.StatusCode != 200 || !strings.Contains(r.Body, "carla@example.com") || strings.Contains(r.Body, "carl@example.com") {
			t.Fatalf("%d\n%s", r.StatusCode, r.Body)
		}
		none := support.get("/t/acme/customers?q=zz")
		if !strings.Contains(none.Body, "customers-empty") {
			t.Fatal("no empty state for a search without results")
		}
	})
	t.Run("customer page", func(t *testing.T) {
		r := support.get("/t/acme/customers/" + id)
		if r.StatusCode != 200 || !strings.Contains(r.Body, "carla@example.com") || !strings.Contains(r.Body, "customer-sessions") || !strings.Contains(r.Body, "customer.signup") {
			t.Fatalf("%d\n%s", r.StatusCode, r.Body)
		}
		if strings.Contains(r.Body, "customer-delete") {
			t.Fatal("support is offered deletion")
		}
	})
	t.Run("disable ends the sessions at once", func(t *testing.T) {
		if r := support.post("/t/acme/customers/"+id+"/status", url.Values{"status": {"disabled"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d", r.StatusCode)
		}
		wantRedirect(t, cust.Get(host, "/account"), "/login")
		if p := login(b.srv.Visitor(t), host, "carla@example.com", "carla passphrase"); p.StatusCode != http.StatusForbidden || !strings.Contains(p.Body, "disabled") {
			t.Fatalf("disabled login: %d", p.StatusCode)
		}
		support.post("/t/acme/customers/"+id+"/status", url.Values{"status": {"active"}})
		wantRedirect(t, login(b.srv.Visitor(t), host, "carla@example.com", "carla passphrase"), "/account")
	})
	t.Run("send reset", func(t *testing.T) {
		support.post("/t/acme/customers/"+id+"/reset", nil)
		for {
			m := b.env.Mail.WaitFor(t, "carla@example.com", 10*time.Second)
			if strings.Contains(m.Text, "/password/reset?token=") {
				break
			}
		}
	})
	t.Run("export has no secrets", func(t *testing.T) {
		r := support.get("/t/acme/customers/" + id + "/export")
		var out map[string]any
		if err := json.Unmarshal([]byte(r.Body), &out); err != nil || out["email"] != "carla@example.com" || out["has_password"] != true {
			t.Fatalf("export: %v %s", err, r.Body)
		}
		if strings.Contains(r.Body, "argon2") {
			t.Fatal("the export holds the password hash")
		}
	})
	t.Run("support cannot delete", func(t *testing.T) {
		if r := support.post("/t/acme/customers/"+id+"/delete", url.Values{"confirm": {"carla@example.com"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("support delete: %d", r.StatusCode)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		other := signedIn(t, b.srv, "owner@bravo.test")
		for _, path := range []string{"/t/acme/customers/" + id, "/t/bravo/customers/" + id} {
			r := other.get(path)
			if r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "carla@example.com") {
				t.Fatalf("%s: %d", path, r.StatusCode)
			}
		}
		if r := other.post("/t/bravo/customers/"+id+"/delete", url.Values{"confirm": {"carla@example.com"}}); r.StatusCode != http.StatusNotFound {
			t.Fatalf("bravo deleting acme's customer: %d", r.StatusCode)
		}
	})
	t.Run("admin deletes with typed confirmation", func(t *testing.T) {
		admin := signedIn(t, b.srv, "admin@acme.test")
		if r := admin.post("/t/acme/customers/"+id+"/delete", url.Values{"confirm": {"someone@else"}}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("wrong confirmation: %d", r.StatusCode)
		}
		if r := admin.post("/t/acme/customers/"+id+"/delete", url.Values{"confirm": {"carla@example.com"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d", r.StatusCode)
		}
		var n int64
		b.env.DB().Gorm.Raw("SELECT count(*) FROM customers WHERE email = 'carla@example.com'").Scan(&n)
		if n != 0 {
			t.Fatal("the customer is still there")
		}
		if p := login(b.srv.Visitor(t), host, "carla@example.com", "carla passphrase"); p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a deleted customer logged in: %d", p.StatusCode)
		}
	})
}
