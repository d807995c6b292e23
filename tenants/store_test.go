package tenants_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"

	"gatehouse/app/apptest"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// mustStore returns a store on a fresh, migrated database: PostgreSQL when
// GATEHOUSE_TEST_DATABASE_URL is set, else SQLite.
func mustStore(t testing.TB) *tenants.Store {
	t.Helper()
	return tenants.NewStore(apptest.MigratedDB(t).Gorm)
}

func mustService(t testing.TB, store *tenants.Store) *tenants.Service {
	return tenants.NewService(store, nil, "localhost", quiet)
}

func mustCreate(t testing.TB, svc *tenants.Service, slug string, domains ...string) *tenants.Tenant {
	t.Helper()
	tn, err := svc.Create(context.Background(), tenants.NewTenant{Slug: slug, Name: "Brand " + slug, Domains: domains})
	if err != nil {
		t.Fatalf("create %s: %v", slug, err)
	}
	return tn
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t)
	svc := mustService(t, store)
	a := mustCreate(t, svc, "acme", "login.acme.test")
	b := mustCreate(t, svc, "bravo")

	t.Run("ok", func(t *testing.T) {
		got, err := store.BySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.Name != "Brand acme" || got.Status != tenants.Active {
			t.Fatalf("got %+v", got)
		}
		if len(got.Domains) != 1 || got.Domains[0].Hostname != "login.acme.test" || !got.Domains[0].Verified {
			t.Fatalf("domains %+v", got.Domains)
		}
		if got.Theme != tenants.DefaultTheme() || got.Settings != tenants.DefaultSettings() {
			t.Fatalf("new tenant should carry the defaults, got %+v %+v", got.Theme, got.Settings)
		}
		byDomain, err := store.ByDomain(ctx, "login.acme.test")
		if err != nil || byDomain.ID != a.ID {
			t.Fatalf("ByDomain = %v, %v", byDomain, err)
		}
		list, err := store.List(ctx)
		if err != nil || len(list) != 2 || list[0].Slug != "acme" || list[1].Slug != "bravo" {
			t.Fatalf("List = %v, %v", list, err)
		}
	})

	t.Run("duplicate slug", func(t *testing.T) {
		_, err := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Other"})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Field != "slug" {
			t.Fatalf("err = %v, want Conflict on slug", err)
		}
	})

	t.Run("duplicate domain", func(t *testing.T) {
		_, err := svc.Create(ctx, tenants.NewTenant{Slug: "charlie", Name: "C", Domains: []string{"LOGIN.acme.test"}})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Field != "domain" {
			t.Fatalf("err = %v, want Conflict on domain", err)
		}
		if _, err := store.BySlug(ctx, "charlie"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a failed create must write nothing, got %v", err)
		}
	})

	t.Run("unverified domain does not serve", func(t *testing.T) {
		if err := svc.AddDomain(ctx, b.ID, "pending.bravo.test", false); err != nil {
			t.Fatal(err)
		}
		if _, err := store.ByDomain(ctx, "pending.bravo.test"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unverified domain resolved: %v", err)
		}
	})

	t.Run("other tenant", func(t *testing.T) {
		// Bravo cannot remove Acme's domain, and its theme change leaves Acme alone.
		err := svc.RemoveDomain(ctx, b.ID, "login.acme.test")
		if !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("removing another tenant's domain: %v, want NotFound", err)
		}
		if got, _ := store.ByDomain(ctx, "login.acme.test"); got == nil || got.ID != a.ID {
			t.Fatal("acme's domain was touched from bravo")
		}
		th := tenants.DefaultTheme()
		th.PrimaryColor = "#ff0000"
		if _, err := svc.UpdateTheme(ctx, b.ID, th); err != nil {
			t.Fatal(err)
		}
		gotA, _ := store.ByID(ctx, a.ID)
		gotB, _ := store.ByID(ctx, b.ID)
		if gotA.Theme.PrimaryColor != tenants.DefaultTheme().PrimaryColor || gotB.Theme.PrimaryColor != "#ff0000" {
			t.Fatalf("theme leaked: acme %s bravo %s", gotA.Theme.PrimaryColor, gotB.Theme.PrimaryColor)
		}
	})

	t.Run("not found", func(t *testing.T) {
		if _, err := store.ByID(ctx, uuid.Must(uuid.NewV7())); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("err = %v", err)
		}
		if err := svc.SetStatus(ctx, uuid.Nil, tenants.Suspended); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("SetStatus on no tenant: %v", err)
		}
	})

	t.Run("invalid theme writes nothing", func(t *testing.T) {
		th := tenants.DefaultTheme()
		th.PrimaryColor = "red;}body{display:none"
		if _, err := svc.UpdateTheme(ctx, a.ID, th); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("err = %v", err)
		}
		got, _ := store.ByID(ctx, a.ID)
		if got.Theme.PrimaryColor != tenants.DefaultTheme().PrimaryColor {
			t.Fatalf("theme changed to %s", got.Theme.PrimaryColor)
		}
	})
}
