package apps_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/apps"
	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

func mustTenant(t *testing.T, d *db.DB, slug string) uuid.UUID {
	t.Helper()
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", slog.New(slog.NewTextHandler(io.Discard, nil)))
	tn, err := svc.Create(context.Background(), tenants.NewTenant{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

func mustApp(t *testing.T, ts apps.TenantStore, n apps.New) (apps.App, string) {
	t.Helper()
	a, secret, err := ts.Create(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return a, secret
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	store := apps.NewStore(d.Gorm)
	acme, bravo := store.For(mustTenant(t, d, "acme")), store.For(mustTenant(t, d, "bravo"))

	t.Run("web app gets a secret shown once, stored hashed", func(t *testing.T) {
		a, secret := mustApp(t, acme, apps.New{Name: "Shop", Type: apps.Web, RedirectURIs: []string{"https://shop.example/cb"},
			PostLogoutURIs: []string{"https://shop.example/bye"}, FirstParty: true, BackchannelLogoutURI: "https://shop.example/logout"})
		if !strings.HasPrefix(secret, "ghs_") || len(secret) < 4+43 {
			t.Fatalf("secret %q is not 256 bits", secret)
		}
		var stored int64
		d.Gorm.Table("app_secrets").Where("secret_hash = ?", secret).Count(&stored)
		if stored != 0 {
			t.Fatal("the secret is stored in plain text")
		}
		got, err := acme.Authenticate(ctx, a.ClientID, secret)
		if err != nil || got.ID != a.ID {
			t.Fatalf("Authenticate = %v, %v", got.ID, err)
		}
		// Authenticate scans its row by hand: it must give every field
		// the app has, as gorm reads them.
		want, err := acme.ByClientID(ctx, a.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Fatalf("times: %v %v, want %v %v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
		}
		got.CreatedAt, got.UpdatedAt = want.CreatedAt, want.UpdatedAt
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Authenticate's app\n%+v\nByClientID's\n%+v", got, want)
		}
		if _, err := acme.Authenticate(ctx, a.ClientID, secret+"x"); err != apps.ErrBadSecret {
			t.Fatalf("wrong secret: %v", err)
		}
		if a.SigningAlg != apps.ES256 || a.AccessTokenTTL != apps.DefaultAccessTokenTTL {
			t.Fatalf("defaults: %s %s", a.SigningAlg, a.AccessTokenTTL)
		}
	})

	t.Run("public apps have no secret", func(t *testing.T) {
		a, secret := mustApp(t, acme, apps.New{Name: "SPA", Type: apps.SPA, RedirectURIs: []string{"https://app.example/cb"}, CORSOrigins: []string{"https://app.example"}})
		if secret != "" {
			t.Fatal("a spa got a secret")
		}
		if _, err := acme.Authenticate(ctx, a.ClientID, ""); err != apps.ErrBadSecret {
			t.Fatalf("public app authenticated: %v", err)
		}
		if _, err := acme.RotateSecret(ctx, a.ClientID, 0); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("rotating a public app's secret: %v", err)
		}
	})

	t.Run("other tenant", func(t *testing.T) {
		a, secret := mustApp(t, acme, apps.New{Name: "Svc", Type: apps.Machine, Scopes: []string{"orders:read"}})
		if _, err := bravo.ByClientID(ctx, a.ClientID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo sees acme's app: %v", err)
		}
		if _, err := bravo.Authenticate(ctx, a.ClientID, secret); err != apps.ErrBadSecret {
			t.Fatalf("acme's secret works on bravo: %v", err)
		}
		if err := bravo.CheckSecret(ctx, a, secret); err != apps.ErrBadSecret {
			t.Fatalf("bravo's store checked acme's app: %v", err)
		}
		if err := acme.CheckSecret(ctx, a, secret); err != nil {
			t.Fatalf("CheckSecret of the app just loaded: %v", err)
		}
		if err := acme.CheckSecret(ctx, a, secret+"x"); err != apps.ErrBadSecret {
			t.Fatalf("CheckSecret with a wrong secret: %v", err)
		}
		if _, err := bravo.RotateSecret(ctx, a.ClientID, 0); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo rotated acme's secret: %v", err)
		}
		if err := bravo.Delete(ctx, a.ClientID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo deleted acme's app: %v", err)
		}
		list, _ := bravo.List(ctx)
		if len(list) != 0 {
			t.Fatalf("bravo lists %d apps", len(list))
		}
		if _, err := acme.ByClientID(ctx, a.ClientID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("rotation keeps the old secret for the grace period", func(t *testing.T) {
		now := time.Now().UTC()
		apps.SetClock(store, func() time.Time { return now })
		defer apps.SetClock(store, func() time.Time { return time.Now().UTC() })
		a, old := mustApp(t, acme, apps.New{Name: "Rot", Type: apps.Web, RedirectURIs: []string{"https://r.example/cb"}})
		next, err := acme.RotateSecret(ctx, a.ClientID, time.Hour)
		if err != nil || next == old {
			t.Fatalf("rotate: %v", err)
		}
		for _, s := range []string{old, next} {
			if _, err := acme.Authenticate(ctx, a.ClientID, s); err != nil {
				t.Fatalf("during the grace period: %v", err)
			}
		}
		now = now.Add(61 * time.Minute)
		if _, err := acme.Authenticate(ctx, a.ClientID, old); err != apps.ErrBadSecret {
			t.Fatalf("old secret after the grace period: %v", err)
		}
		if _, err := acme.Authenticate(ctx, a.ClientID, next); err != nil {
			t.Fatal(err)
		}
		// No grace: the previous secret stops at once.
		last, err := acme.RotateSecret(ctx, a.ClientID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := acme.Authenticate(ctx, a.ClientID, next); err != apps.ErrBadSecret {
			t.Fatalf("secret rotated without grace still works: %v", err)
		}
		if _, err := acme.Authenticate(ctx, a.ClientID, last); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		a, _ := mustApp(t, acme, apps.New{Name: "Gone", Type: apps.Native, RedirectURIs: []string{"com.acme.app:/cb"}})
		if err := acme.Delete(ctx, a.ClientID); err != nil {
			t.Fatal(err)
		}
		if _, err := acme.ByClientID(ctx, a.ClientID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("deleted app found: %v", err)
		}
	})
}

func TestRegistrationRules(t *testing.T) {
	d := apptest.MigratedDB(t)
	acme := apps.NewStore(d.Gorm).For(mustTenant(t, d, "acme"))
	cases := []struct {
		name  string
		n     apps.New
		field string // "" = accepted
	}{
		{"web https", apps.New{Name: "a", Type: apps.Web, RedirectURIs: []string{"https://a.example/cb"}}, ""},
		{"web localhost http", apps.New{Name: "a", Type: apps.Web, RedirectURIs: []string{"http://localhost:3000/cb"}}, ""},
		{"web plain http", apps.New{Name: "a", Type: apps.Web, RedirectURIs: []string{"http://a.example/cb"}}, "redirect-uri"},
		{"no name", apps.New{Type: apps.Web, RedirectURIs: []string{"https://a.example/cb"}}, "name"},
		{"unknown type", apps.New{Name: "a", Type: "desktop"}, "type"},
		{"web without redirect", apps.New{Name: "a", Type: apps.Web}, "redirect-uri"},
		{"fragment", apps.New{Name: "a", Type: apps.Web, RedirectURIs: []string{"https://a.example/cb#x"}}, "redirect-uri"},
		{"wildcard", apps.New{Name: "a", Type: apps.SPA, RedirectURIs: []string{"https://*.example/cb"}}, "redirect-uri"},
		{"relative", apps.New{Name: "a", Type: apps.SPA, RedirectURIs: []string{"/cb"}}, "redirect-uri"},
		{"custom scheme on web", apps.New{Name: "a", Type: apps.Web, RedirectURIs: []string{"com.acme:/cb"}}, "redirect-uri"},
		{"native custom scheme", apps.New{Name: "a", Type: apps.Native, RedirectURIs: []string{"com.acme.app:/cb"}}, ""},
		{"native non-reverse-DNS scheme", apps.New{Name: "a", Type: apps.Native, RedirectURIs: []string{"myapp:/cb"}}, "redirect-uri"},
		{"native loopback", apps.New{Name: "a", Type: apps.Native, RedirectURIs: []string{"http://127.0.0.1/cb"}}, ""},
		{"machine with redirect", apps.New{Name: "a", Type: apps.Machine, RedirectURIs: []string{"https://a.example/cb"}}, "redirect-uri"},
		{"cors on web", apps.New{Name: "a", Type: apps.Web, RedirectURIs: []string{"https://a.example/cb"}, CORSOrigins: []string{"https://a.example"}}, "cors-origin"},
		{"cors with path", apps.New{Name: "a", Type: apps.SPA, RedirectURIs: []string{"https://a.example/cb"}, CORSOrigins: []string{"https://a.example/x"}}, "cors-origin"},
		{"bad scope", apps.New{Name: "a", Type: apps.Machine, Scopes: []string{"a b"}}, "scope"},
		{"bad alg", apps.New{Name: "a", Type: apps.Machine, SigningAlg: "HS256"}, "signing-alg"},
		{"ttl too long", apps.New{Name: "a", Type: apps.Machine, AccessTokenTTL: 48 * time.Hour}, "access-token-ttl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := acme.Create(context.Background(), c.n)
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Field != c.field {
				t.Fatalf("error %v, want one on field %s", err, c.field)
			}
		})
	}
}

func TestRedirectMatching(t *testing.T) {
	native := apps.App{Type: apps.Native, RedirectURIs: []string{"http://127.0.0.1/cb", "http://[::1]/cb", "com.acme.app:/cb"}}
	web := apps.App{Type: apps.Web, RedirectURIs: []string{"https://shop.example/cb", "http://127.0.0.1:8000/cb"}}
	cases := []struct {
		app  apps.App
		uri  string
		want bool
	}{
		{web, "https://shop.example/cb", true},
		{web, "https://shop.example/cb/", false},
		{web, "https://shop.example/cb?x=1", false},
		{web, "https://SHOP.example/cb", false},
		{web, "http://127.0.0.1:8001/cb", false}, // any port is for native apps only
		{web, "", false},
		{native, "http://127.0.0.1:51234/cb", true},
		{native, "http://127.0.0.1/cb", true},
		{native, "http://[::1]:4000/cb", true},
		{native, "http://127.0.0.1:51234/other", false},
		{native, "http://localhost:51234/cb", false},
		{native, "http://127.0.0.1:51234/cb?x=1", false},
		{native, "com.acme.app:/cb", true},
		{native, "com.acme.app:/cb2", false},
	}
	for _, c := range cases {
		if got := c.app.RedirectAllowed(c.uri); got != c.want {
			t.Errorf("%s RedirectAllowed(%q) = %v, want %v", c.app.Type, c.uri, got, c.want)
		}
	}
}

func FuzzRedirectAllowed(f *testing.F) {
	a := apps.App{Type: apps.Native, RedirectURIs: []string{"http://127.0.0.1/cb", "com.acme.app:/cb"}}
	for _, s := range []string{"http://127.0.0.1:1/cb", "com.acme.app:/cb", "http://127.0.0.1@evil/cb", "http://evil/cb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if a.RedirectAllowed(uri) && !strings.HasPrefix(uri, "http://127.0.0.1") && uri != "com.acme.app:/cb" {
			t.Fatalf("accepted %q", uri)
		}
	})
}
