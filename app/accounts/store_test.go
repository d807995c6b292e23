package accounts_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

func TestCustomerStoreIsTenantScoped(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := apptest.MigratedDB(t)
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "A"})
	b, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "B"})
	store := accounts.NewStore(d.Gorm)
	ann := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: "ann@example.com", Status: accounts.StatusActive, Profile: map[string]any{"x": "1"}}

	t.Run("ok", func(t *testing.T) {
		if err := store.For(a.ID).Create(ctx, ann); err != nil {
			t.Fatal(err)
		}
		got, err := store.For(a.ID).ByEmail(ctx, "ann@example.com")
		if err != nil || got.ID != ann.ID || got.Profile["x"] != "1" || got.HasPassword() {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("duplicate email", func(t *testing.T) {
		dup := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: "ann@example.com", Status: accounts.StatusActive}
		if e, ok := apperr.As(store.For(a.ID).Create(ctx, dup)); !ok || e.Code != apperr.Conflict || e.Field != "email" {
			t.Fatalf("duplicate: %v", e)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		other := store.For(b.ID)
		if _, err := other.ByEmail(ctx, "ann@example.com"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("ByEmail from bravo: %v", err)
		}
		if _, err := other.ByID(ctx, ann.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("ByID from bravo: %v", err)
		}
		for name, err := range map[string]error{
			"SetPasswordHash": other.SetPasswordHash(ctx, ann.ID, "$argon2id$x"),
			"SetProfile":      other.SetProfile(ctx, ann.ID, map[string]any{"x": "hacked"}),
			"MarkVerified":    other.MarkVerified(ctx, ann.ID, ann.Email),
		} {
			if !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s from bravo: %v", name, err)
			}
		}
		got, _ := store.For(a.ID).ByID(ctx, ann.ID)
		if got.Profile["x"] != "1" || got.HasPassword() || got.EmailVerified {
			t.Fatalf("bravo changed acme's customer: %+v", got)
		}
		// The same address can sign up on bravo independently.
		twin := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: "ann@example.com", Status: accounts.StatusActive}
		if err := other.Create(ctx, twin); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("nil tenant matches nothing", func(t *testing.T) {
		if _, err := store.For(uuid.Nil).ByEmail(ctx, "ann@example.com"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("nil tenant: %v", err)
		}
	})
}

func TestNormalizeEmail(t *testing.T) {
	tests := map[string]string{
		" Ann@Example.COM ":                  "ann@example.com",
		"a.b+tag@sub.ex.io":                  "a.b+tag@sub.ex.io",
		"":                                   "",
		"ann":                                "",
		"Ann <ann@ex.com>":                   "",
		"ann@localhost":                      "",
		"ann@@example.com":                   "",
		"ann@example.com\n":                  "ann@example.com",
		"an n@example.com":                   "",
		strings.Repeat("a", 250) + "@ex.com": "",
	}
	for in, want := range tests {
		got, err := accounts.NormalizeEmail(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzNormalizeEmail: whatever is accepted is lower-case, trimmed, has one
// @ with a dotted domain, and normalises to itself.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ann@example.com", "A@B.C", "\"x y\"@ex.com", "a@b", "<a@b.c>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := accounts.NormalizeEmail(in)
		if err != nil {
			return
		}
		if out != strings.ToLower(out) || strings.TrimSpace(out) != out || strings.Count(out, "@") != 1 {
			t.Fatalf("%q -> %q", in, out)
		}
		if again, err := accounts.NormalizeEmail(out); err != nil || again != out {
			t.Fatalf("%q -> %q -> %q, %v", in, out, again, err)
		}
	})
}
