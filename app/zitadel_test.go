package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// zitadelOP is the example OpenID Provider of github.com/zitadel/oidc,
// started in-process: an independently written provider that, like many
// real ones, puts email and profile claims only at userinfo when it also
// issues an access token.
type zitadelOP struct {
	Issuer string // exactly as its discovery document states it
	srv    *httptest.Server
	// WrongAudience makes the provider address its id_tokens to another
	// client ("someone-else"), as one misconfigured at the provider would.
	WrongAudience atomic.Bool
	// clients is this provider's own client registry. The example's
	// RegisterClients writes one map shared by every provider in the
	// process, so parallel tests registering "someone-else" with their own
	// redirect URIs would overwrite each other's (and race on the map).
	clients map[string]*storage.Client
}

// zitadelUser is one person in the provider's user store.
type zitadelUser struct {
	ID        string `json:"ID"`
	Username  string `json:"Username"`
	Password  string `json:"Password"`
	FirstName string `json:"FirstName"`
	LastName  string `json:"LastName"`
	Email     string `json:"Email"`
	Verified  bool   `json:"EmailVerified"`
}

// startZitadel starts the example provider with users; a trailing slash
// makes its issuer end in "/", as Auth0's do.
func startZitadel(t *testing.T, trailingSlash bool, users ...zitadelUser) *zitadelOP {
	t.Helper()
	z := &zitadelOP{clients: map[string]*storage.Client{}}
	var handler http.Handler
	z.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(z.srv.Close)
	z.Issuer = z.srv.URL
	if trailingSlash {
		z.Issuer += "/"
	}
	byID := map[string]zitadelUser{}
	for _, u := range users {
		byID[u.ID] = u
	}
	b, _ := json.Marshal(byID)
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	us, err := storage.StoreFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A logger of its own: SetupServer makes it the process default.
	handler = z.misaddress(exampleop.SetupServer(z.Issuer, storage.NewStorageWithClients(us, z.clients), slog.New(slog.NewTextHandler(io.Discard, nil)), false))
	return z
}

// misaddress is the knob of WrongAudience: in front of the provider, the
// browser's authorization request and our token request are moved to
// another registered client, so the provider issues an id_token that is
// genuine but addressed to someone else.
func (z *zitadelOP) misaddress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if z.WrongAudience.Load() {
			switch r.URL.Path {
			case "/auth":
				q := r.URL.Query()
				q.Set("client_id", "someone-else")
				r.URL.RawQuery = q.Encode()
			case "/oauth/token":
				r.SetBasicAuth("someone-else", "someone-elses-secret")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// client registers a confidential web client at the provider, before the
// test sends it any request.
func (z *zitadelOP) client(id, secret, redirectURI string) {
	z.clients[id] = storage.WebClient(id, secret, redirectURI)
	z.clients["someone-else"] = storage.WebClient("someone-else", "someone-elses-secret", redirectURI)
}

// zitadelLogin signs in at the provider as username, through its own login
// form, starting and ending in visitor v on host: it returns our
// callback's answer.
func zitadelLogin(t *testing.T, v *apptest.Visitor, host, username, password string) apptest.Page {
	t.Helper()
	start := v.Get(host, "/social/oidc")
	if start.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d\n%s", start.StatusCode, start.Body)
	}
	loc := start.Header.Get("Location")
	if strings.Contains(loc, "/login?notice=") {
		return start
	}
	jar, _ := cookiejar.New(nil)
	var back *url.URL
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.Host, host) {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/login/username") {
		t.Fatalf("provider login page: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	form := url.Values{"username": {username}, "password": {password}, "id": {id}}
	resp, err = browser.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login/username", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if back == nil {
		t.Fatalf("the provider did not send the browser back: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return v.Get(host, back.Path+"?"+back.RawQuery)
}

var zitadelAda = zitadelUser{ID: "id1", Username: "ada", Password: "verysecure", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Verified: true}

// TestZitadelSignIn runs brand sign-in against the zitadel example
// provider, whose issuer ends in "/" and which shares email and profile
// only at userinfo: a first sign-in, then a returning one.
func TestZitadelSignIn(t *testing.T) {
	t.Parallel()
	b := newSocialEnv(t, "acme")
	b.withFields(t, "acme", tenants.Field{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureOptional})
	z := startZitadel(t, true, zitadelAda)
	host := "acme.localhost"
	z.client("acme-zitadel", "acme-zitadel-secret", b.srv.URL(host, "/social/oidc/callback"))
	saveOIDCApp(t, b.env, "acme", z.Issuer, "acme-zitadel", "acme-zitadel-secret")

	t.Run("first sign-in, email and profile from userinfo", func(t *testing.T) {
		v := b.srv.Visitor(t)
		wantRedirect(t, zitadelLogin(t, v, host, "ada", "verysecure"), "/account")
		page := v.Get(host, "/account")
		if !strings.Contains(page.Body, "ada@example.com") || !strings.Contains(page.Body, `value="Ada"`) {
			t.Fatalf("account after the first sign-in:\n%s", page.Body)
		}
	})
	t.Run("returning customer", func(t *testing.T) {
		v := b.srv.Visitor(t)
		wantRedirect(t, zitadelLogin(t, v, host, "ada", "verysecure"), "/account")
		var rows []struct {
			Issuer, Email string
		}
		b.env.DB().Gorm.Raw("SELECT issuer, email FROM identities WHERE subject = 'id1'").Scan(&rows)
		if len(rows) != 1 || rows[0].Issuer != z.Issuer || rows[0].Email != "ada@example.com" {
			t.Fatalf("identities after two sign-ins: %+v", rows)
		}
		var n int64
		b.env.DB().Gorm.Raw("SELECT count(*) FROM customers").Scan(&n)
		if n != 1 {
			t.Fatalf("%d customers for one person", n)
		}
	})
	t.Run("wrong audience", func(t *testing.T) {
		z.WrongAudience.Store(true)
		defer z.WrongAudience.Store(false)
		v := b.srv.Visitor(t)
		wantRedirect(t, zitadelLogin(t, v, host, "ada", "verysecure"), "/login?notice=social-failed")
		notSignedIn(t, v, host)
		if d := failureDetails(t, b.env); len(d) == 0 || !strings.Contains(d[len(d)-1], `"reason":"id_token"`) {
			t.Fatalf("failure events: %v", d)
		}
	})
}

// TestZitadelConsole: the console takes the provider's discovery URL and
// stores the exact issuer (trailing slash kept), "Test connection" reports
// what the provider publishes, and a wrong client secret shows as
// invalid_client on the social page.
func TestZitadelConsole(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true")
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	srv := env.Serve()
	host := "acme.localhost"
	z := startZitadel(t, true, zitadelAda)
	z.client("acme-console", "the-right-secret", srv.URL(host, "/social/oidc/callback"))
	admin := signedIn(t, srv, "admin@acme.test")

	r := admin.post("/t/acme/social/oidc", url.Values{"enabled": {"on"}, "client_id": {"acme-console"}, "client_secret": {"a-wrong-secret"},
		"discovery_url": {strings.TrimSuffix(z.Issuer, "/") + "/.well-known/openid-configuration"}, "scopes": {"openid email profile"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.StatusCode, r.Body)
	}
	var stored string
	env.DB().Gorm.Raw("SELECT discovery_url FROM social_providers WHERE kind = 'oidc'").Scan(&stored)
	if stored != z.Issuer {
		t.Fatalf("stored %q, want the issuer %q", stored, z.Issuer)
	}

	probe := admin.post("/t/acme/social/oidc/test", url.Values{})
	if !strings.Contains(probe.Body, `data-testid="probe-ok"`) || !strings.Contains(probe.Body, z.Issuer) || !strings.Contains(probe.Body, "1 keys") {
		t.Fatalf("test connection:\n%s", probe.Body)
	}
	bad := admin.post("/t/acme/social/oidc/test", url.Values{"discovery_url": {z.srv.URL + "/nowhere"}})
	if !strings.Contains(bad.Body, `data-testid="probe-error"`) {
		t.Fatalf("test connection of a wrong issuer:\n%s", bad.Body)
	}

	v := srv.Visitor(t)
	wantRedirect(t, zitadelLogin(t, v, host, "ada", "verysecure"), "/login?notice=social-failed")
	notSignedIn(t, v, host)
	list := admin.get("/t/acme/social")
	if !strings.Contains(list.Body, "invalid_client") {
		t.Fatalf("the social page does not show invalid_client:\n%s", list.Body)
	}
	// With the right secret the same provider signs in.
	admin.post("/t/acme/social/oidc", url.Values{"enabled": {"on"}, "client_id": {"acme-console"}, "client_secret": {"the-right-secret"},
		"discovery_url": {z.Issuer}, "scopes": {"openid email profile"}})
	wantRedirect(t, zitadelLogin(t, srv.Visitor(t), host, "ada", "verysecure"), "/account")
}

// TestTwoIssuersSameSubject: after the brand points its app at another
// provider, that provider's user with the same sub is another customer,
// not the old one (issue 10, item 3).
func TestTwoIssuersSameSubject(t *testing.T) {
	t.Parallel()
	b := newSocialEnv(t, "acme")
	host := "acme.localhost"
	first := startZitadel(t, true, zitadelAda)
	second := startZitadel(t, false, zitadelUser{ID: "id1", Username: "bob", Password: "verysecure", FirstName: "Bob", Email: "bob@example.com", Verified: true})
	first.client("acme-first", "first-secret", b.srv.URL(host, "/social/oidc/callback"))
	second.client("acme-second", "second-secret", b.srv.URL(host, "/social/oidc/callback"))

	saveOIDCApp(t, b.env, "acme", first.Issuer, "acme-first", "first-secret")
	wantRedirect(t, zitadelLogin(t, b.srv.Visitor(t), host, "ada", "verysecure"), "/account")

	saveOIDCApp(t, b.env, "acme", second.Issuer, "acme-second", "second-secret")
	v := b.srv.Visitor(t)
	wantRedirect(t, zitadelLogin(t, v, host, "bob", "verysecure"), "/account")
	if page := v.Get(host, "/account"); !strings.Contains(page.Body, "bob@example.com") || strings.Contains(page.Body, "ada@example.com") {
		t.Fatalf("the second provider's id1 landed in another account:\n%s", page.Body)
	}
	var n int64
	b.env.DB().Gorm.Raw("SELECT count(DISTINCT customer_id) FROM identities WHERE subject = 'id1'").Scan(&n)
	if n != 2 {
		t.Fatalf("%d customers for sub id1 at two issuers, want 2", n)
	}
	tn, err := b.env.Tenants().BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	stranded, err := accounts.NewStore(b.env.DB().Gorm).For(tn.ID).CountByIssuer(context.Background(), "oidc", second.Issuer)
	if err != nil || stranded != 1 {
		t.Fatalf("stranded by the change of issuer: %d %v", stranded, err)
	}
}
