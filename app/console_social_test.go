package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

// TestConsoleSocial: the social apps page shows each provider's exact
// callback URL; a client secret is stored sealed and never shown again.
func TestConsoleSocial(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	srv := env.Serve()
	b := signedIn(t, srv, "admin@acme.test")

	list := b.get("/t/acme/social")
	for _, want := range []string{"http://acme.localhost:" + srv.Port + "/social/google/callback", "http://acme.localhost:" + srv.Port + "/social/oidc/callback", "not set up"} {
		if !strings.Contains(list.Body, want) {
			t.Fatalf("list lacks %q", want)
		}
	}
	const secret = "very-secret-value-42"
	t.Run("enabling needs a secret", func(t *testing.T) {
		r := b.post("/t/acme/social/google", url.Values{"enabled": {"on"}, "client_id": {"cid"}, "scopes": {"openid email"}})
		if r.StatusCode != 422 || !strings.Contains(r.Body, `id="s-enabled-error"`) {
			t.Fatalf("%d", r.StatusCode)
		}
	})
	t.Run("save; the secret is write-only", func(t *testing.T) {
		r := b.post("/t/acme/social/google", url.Values{"enabled": {"on"}, "client_id": {"cid.apps.googleusercontent.com"},
			"client_secret": {secret}, "scopes": {"openid email profile"}, "claim_mapping": {"first_name = given_name"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", r.StatusCode, r.Body)
		}
		for _, path := range []string{"/t/acme/social", "/t/acme/social/google", "/t/acme/audit"} {
			if page := b.get(path); strings.Contains(page.Body, secret) {
				t.Fatalf("%s shows the secret", path)
			}
		}
		edit := b.get("/t/acme/social/google")
		if !strings.Contains(edit.Body, "A secret is saved") || !strings.Contains(edit.Body, "first_name = given_name") || !strings.Contains(edit.Body, "checked") {
			t.Fatal("edit page")
		}
		d, _ := dbOf(env)
		defer d.Close()
		var sealed string
		d.Gorm.Raw("SELECT sealed_secret FROM social_providers").Scan(&sealed)
		if sealed == "" || strings.Contains(sealed, secret) {
			t.Fatalf("stored %q", sealed)
		}
		// Saving again with an empty secret keeps it.
		b.post("/t/acme/social/google", url.Values{"enabled": {"on"}, "client_id": {"cid2"}, "scopes": {"openid"}})
		var again string
		d.Gorm.Raw("SELECT sealed_secret FROM social_providers").Scan(&again)
		if again != sealed {
			t.Fatal("an empty secret field replaced the secret")
		}
	})
	t.Run("oidc needs an https discovery URL", func(t *testing.T) {
		page := b.get("/t/acme/social/oidc")
		if !strings.Contains(page.Body, `name="discovery_url"`) {
			t.Fatal("no discovery URL field")
		}
		r := b.post("/t/acme/social/oidc", url.Values{"client_id": {"x"}, "discovery_url": {"http://id.example.com/.well-known/openid-configuration"}})
		if r.StatusCode != 422 || !strings.Contains(r.Body, `id="s-discovery-error"`) {
			t.Fatalf("%d", r.StatusCode)
		}
		if r := b.get("/t/acme/social/myspace"); r.StatusCode != 404 {
			t.Fatalf("unknown provider: %d", r.StatusCode)
		}
	})
	t.Run("audited without the secret", func(t *testing.T) {
		d, _ := dbOf(env)
		defer d.Close()
		var details []string
		d.Gorm.Raw("SELECT detail FROM audit_events WHERE action = 'social.updated'").Scan(&details)
		if len(details) != 2 {
			t.Fatalf("%d events", len(details))
		}
		for _, dt := range details {
			if strings.Contains(dt, secret) || strings.Contains(dt, "v1.") {
				t.Fatalf("secret in audit: %s", dt)
			}
		}
	})
}
