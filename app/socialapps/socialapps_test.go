package socialapps_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"gorm.io/gorm"

	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/app/secrets"
	"gatehouse/app/socialapps"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustDB(t testing.TB) *gorm.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, apptest.Database(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	return d.Gorm
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	g := mustDB(t)
	svc := tenants.NewService(tenants.NewStore(g), nil, "localhost", quiet)
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Acme"})
	b, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "Bravo"})
	box, _ := secrets.NewBox([]byte(strings.Repeat("k", 32)))
	s := socialapps.NewStore(g, box)

	t.Run("unconfigured", func(t *testing.T) {
		list, err := s.List(ctx, a.ID)
		if err != nil || len(list) != len(socialapps.Kinds) || list[0].Configured || list[0].Kind != socialapps.Google {
			t.Fatalf("%+v %v", list, err)
		}
		if strings.Join(list[0].Scopes, " ") != "openid email profile" {
			t.Fatalf("default scopes %v", list[0].Scopes)
		}
	})
	t.Run("enabling needs an id and a secret", func(t *testing.T) {
		_, _, err := s.Save(ctx, a.ID, socialapps.Google, socialapps.Input{Enabled: true, ClientID: "abc"})
		if e, ok := apperr.As(err); !ok || e.Field != "enabled" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ok; the secret is sealed and write-only", func(t *testing.T) {
		before, after, err := s.Save(ctx, a.ID, socialapps.Google, socialapps.Input{
			Enabled: true, ClientID: "client-a", ClientSecret: "s3cret-a", Scopes: []string{"openid email", "profile email"},
			ClaimMapping: map[string]string{"first_name": "given_name"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if before.Configured || !after.Enabled || !after.HasSecret || strings.Join(after.Scopes, " ") != "openid email profile" {
			t.Fatalf("before %+v after %+v", before, after)
		}
		var sealed string
		g.Raw("SELECT sealed_secret FROM social_providers WHERE tenant_id = ?", a.ID).Scan(&sealed)
		if sealed == "" || strings.Contains(sealed, "s3cret-a") {
			t.Fatalf("stored secret %q", sealed)
		}
		if got, err := s.ClientSecret(ctx, a.ID, socialapps.Google); err != nil || got != "s3cret-a" {
			t.Fatalf("ClientSecret = %q, %v", got, err)
		}
		// Saving without a secret keeps it.
		if _, _, err := s.Save(ctx, a.ID, socialapps.Google, socialapps.Input{Enabled: true, ClientID: "client-a2", ClaimMapping: map[string]string{"first_name": "given_name"}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ClientSecret(ctx, a.ID, socialapps.Google); got != "s3cret-a" {
			t.Fatalf("secret lost on save: %q", got)
		}
		enabled, _ := s.Enabled(ctx, a.ID)
		if len(enabled) != 1 || enabled[0].ClientID != "client-a2" || enabled[0].ClaimMapping["first_name"] != "given_name" {
			t.Fatalf("enabled %+v", enabled)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		got, err := s.Get(ctx, b.ID, socialapps.Google)
		if err != nil || got.Configured || got.ClientID != "" {
			t.Fatalf("B sees A's app: %+v %v", got, err)
		}
		if _, err := s.ClientSecret(ctx, b.ID, socialapps.Google); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("B opens A's secret: %v", err)
		}
		if list, _ := s.Enabled(ctx, b.ID); len(list) != 0 {
			t.Fatalf("B's enabled %+v", list)
		}
		// B's own save does not touch A's row.
		if _, _, err := s.Save(ctx, b.ID, socialapps.Google, socialapps.Input{ClientID: "client-b", ClientSecret: "s3cret-b"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ClientSecret(ctx, a.ID, socialapps.Google); got != "s3cret-a" {
			t.Fatalf("A's secret after B's save: %q", got)
		}
		// A sealed secret copied into another tenant's row does not open.
		var sealedA string
		g.Raw("SELECT sealed_secret FROM social_providers WHERE tenant_id = ?", a.ID).Scan(&sealedA)
		g.Exec("UPDATE social_providers SET sealed_secret = ? WHERE tenant_id = ?", sealedA, b.ID)
		if _, err := s.ClientSecret(ctx, b.ID, socialapps.Google); err == nil {
			t.Fatal("A's sealed secret opened as B's")
		}
	})
	t.Run("validation names the field", func(t *testing.T) {
		for field, in := range map[string]socialapps.Input{
			"discovery_url": {Enabled: true, ClientID: "x", ClientSecret: "y"},
			"client_id":     {ClientID: "has space"},
			"scopes":        {Scopes: []string{`bad"scope`}},
			"claim_mapping": {ClaimMapping: map[string]string{"Bad Key": "x"}},
		} {
			_, _, err := s.Save(ctx, a.ID, socialapps.OIDC, in)
			if e, ok := apperr.As(err); !ok || e.Field != field {
				t.Errorf("%s: err = %v", field, err)
			}
		}
		_, _, err := s.Save(ctx, a.ID, socialapps.OIDC, socialapps.Input{DiscoveryURL: "http://id.example.com/.well-known/openid-configuration"})
		if e, ok := apperr.As(err); !ok || e.Field != "discovery_url" {
			t.Errorf("plain http discovery: %v", err)
		}
		if _, _, err := s.Save(ctx, a.ID, socialapps.OIDC, socialapps.Input{DiscoveryURL: "http://127.0.0.1:9999/.well-known/openid-configuration"}); err != nil {
			t.Errorf("loopback http discovery: %v", err)
		}
		if _, _, err := s.Save(ctx, a.ID, "myspace", socialapps.Input{}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown kind: %v", err)
		}
	})
}
