package apps_test

import (
	"context"
	"strings"
	"testing"

	"gatehouse/app/apps"
	"gatehouse/app/apptest"
	"gatehouse/apperr"
)

func TestBackchannelLogoutURI(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	store := apps.NewStore(d.Gorm)
	acme, bravo := store.For(mustTenant(t, d, "acme")), store.For(mustTenant(t, d, "bravo"))
	web := apps.New{Name: "Shop", Type: apps.Web, RedirectURIs: []string{"https://shop.example/cb"}}

	t.Run("ok at creation", func(t *testing.T) {
		n := web
		n.BackchannelLogoutURI = "https://shop.example/logout?from=gatehouse"
		a, _ := mustApp(t, acme, n)
		got, err := acme.ByClientID(ctx, a.ClientID)
		if err != nil || got.BackchannelLogoutURI != n.BackchannelLogoutURI {
			t.Fatalf("stored %q, %v", got.BackchannelLogoutURI, err)
		}
	})
	for name, c := range map[string]struct {
		typ     apps.Type
		uri     string
		message string
	}{
		"plain http":    {apps.Web, "http://shop.example/logout", "must use https"},
		"not a URL":     {apps.Web, "logout", "must be an https URL"},
		"custom scheme": {apps.Native, "com.example.app:/logout", "must be an https URL"},
		"fragment":      {apps.Web, "https://shop.example/logout#x", "fragment"},
		"machine":       {apps.Machine, "https://svc.example/logout", "no sessions"},
		"wildcard":      {apps.Web, "https://*.example/logout", "wildcards"},
		"user and pass": {apps.Web, "https://u:p@shop.example/logout", "user name"},
	} {
		t.Run(name, func(t *testing.T) {
			n := apps.New{Name: "X", Type: c.typ, BackchannelLogoutURI: c.uri}
			switch c.typ {
			case apps.Web:
				n.RedirectURIs = []string{"https://shop.example/cb"}
			case apps.Native:
				n.RedirectURIs = []string{"com.example.app:/cb"}
			}
			_, _, err := acme.Create(ctx, n)
			e, ok := apperr.As(err)
			if !ok || e.Field != apps.BackchannelField || !strings.Contains(e.Message, c.message) {
				t.Fatalf("got %v, want %s with %q", err, apps.BackchannelField, c.message)
			}
		})
	}
	t.Run("set, clear, and not from another tenant", func(t *testing.T) {
		a, _ := mustApp(t, acme, web)
		if _, err := acme.SetBackchannelLogoutURI(ctx, a.ClientID, "https://shop.example/bc"); err != nil {
			t.Fatal(err)
		}
		if _, err := bravo.SetBackchannelLogoutURI(ctx, a.ClientID, "https://evil.example/bc"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo changed acme's app: %v", err)
		}
		if got, _ := acme.ByClientID(ctx, a.ClientID); got.BackchannelLogoutURI != "https://shop.example/bc" {
			t.Fatalf("after bravo's attempt: %q", got.BackchannelLogoutURI)
		}
		before, err := acme.SetBackchannelLogoutURI(ctx, a.ClientID, "")
		if err != nil || before.BackchannelLogoutURI != "https://shop.example/bc" {
			t.Fatalf("clear: %v, before %q", err, before.BackchannelLogoutURI)
		}
		if got, _ := acme.ByClientID(ctx, a.ClientID); got.BackchannelLogoutURI != "" {
			t.Fatalf("not cleared: %q", got.BackchannelLogoutURI)
		}
	})
}
