package app_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"gatehouse/app/apptest"
	"gatehouse/app/secrets"
	"gatehouse/app/socialapps"
	"gatehouse/config"
)

// saveOIDCApp points a tenant's brand OpenID app at discovery (an issuer or
// a discovery URL), straight through the store, as an owner could.
func saveOIDCApp(t *testing.T, env *apptest.Env, slug, discovery, clientID, secret string) {
	t.Helper()
	key, err := config.ParseSecretKey(env.Getenv("GATEHOUSE_SECRET_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	box, _ := secrets.NewBox(key)
	tn, err := env.Tenants().BySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := socialapps.NewStore(env.DB().Gorm, box).Save(context.Background(), tn.ID, socialapps.OIDC, socialapps.Input{
		Enabled: true, ClientID: clientID, ClientSecret: secret, DiscoveryURL: discovery, Scopes: []string{"openid", "email", "profile"},
	}); err != nil {
		t.Fatal(err)
	}
}

// counting answers every request with status and counts them.
func counting(t *testing.T, status int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// failureDetails are the details of the tenant's social.failed events, as
// compact JSON whatever the database's own spelling (jsonb adds spaces).
func failureDetails(t *testing.T, env *apptest.Env) []string {
	t.Helper()
	var raw []string
	env.DB().Gorm.Raw("SELECT detail FROM audit_events WHERE action = 'social.failed' ORDER BY id").Scan(&raw)
	details := make([]string, 0, len(raw))
	for _, r := range raw {
		var m map[string]any
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			t.Fatalf("audit detail %q: %v", r, err)
		}
		b, _ := json.Marshal(m)
		details = append(details, string(b))
	}
	return details
}

// TestOutboundGuard (issue 9): a social app pointed at loopback, at a name
// that resolves to loopback, or at the cloud metadata address is refused
// when the connection is dialled, so no request leaves; with loopback
// allowed (--dev, tests) the same kind of provider works.
func TestOutboundGuard(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	guarded := env.Serve() // no GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK, no --dev: the production default
	target, hits := counting(t, http.StatusOK)
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())

	for _, tc := range []struct{ name, discovery string }{
		{"loopback address", target.URL},
		{"name resolving to loopback", "http://localhost:" + port},
		{"cloud metadata", "https://169.254.169.254/latest/meta-data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(failureDetails(t, env))
			saveOIDCApp(t, env, "acme", tc.discovery, "acme-client", "acme-secret")
			wantRedirect(t, guarded.Visitor(t).Get("acme.localhost", "/social/oidc"), "/login?notice=social-failed")
			details := failureDetails(t, env)
			if len(details) != before+1 {
				t.Fatalf("%d failure events, want %d", len(details), before+1)
			}
			last := details[len(details)-1]
			if !strings.Contains(last, `"reason":"discovery"`) || !strings.Contains(last, "outbound address guard") {
				t.Fatalf("failure not reported as a refused dial: %s", last)
			}
		})
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests reached the loopback server through the guard", hits.Load())
	}

	// The same installation with loopback allowed signs in through a fake
	// provider on loopback.
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true")
	open := env.Serve()
	fake := apptest.StartFakeOIDC(t)
	fake.Set(func(f *apptest.FakeOIDC) {
		f.Clients["acme-client"] = "acme-secret"
		f.User = apptest.FakeUser{Subject: "g-1", Email: "gus@example.com", EmailVerified: true}
	})
	saveOIDCApp(t, env, "acme", fake.URL, "acme-client", "acme-secret")
	wantRedirect(t, socialLogin(t, open.Visitor(t), "acme.localhost", nil), "/account")
}

// TestDiscoveryFailureIsCached (issue 9): anonymous visitors cannot make the
// server fetch a failing discovery document on every visit; a change of
// the app's settings tries again at once.
func TestDiscoveryFailureIsCached(t *testing.T) {
	t.Parallel()
	b := newSocialEnv(t, "acme")
	down, hits := counting(t, http.StatusServiceUnavailable)
	saveOIDCApp(t, b.env, "acme", down.URL, "acme-client", "acme-secret")
	for range 6 {
		wantRedirect(t, b.srv.Visitor(t).Get("acme.localhost", "/social/oidc"), "/login?notice=social-failed")
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("6 visits made %d discovery fetches, want 1", n)
	}
	saveOIDCApp(t, b.env, "acme", down.URL, "acme-client", "acme-secret-2")
	wantRedirect(t, b.srv.Visitor(t).Get("acme.localhost", "/social/oidc"), "/login?notice=social-failed")
	if n := hits.Load(); n != 2 {
		t.Fatalf("after a settings change %d fetches, want 2", n)
	}
}
