package accounts_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// TestIfUnmodified: a write conditional on a version read earlier fails
// with Precondition once another write has moved the row, and changes
// nothing; on the current version it goes through; another tenant's
// customer is still not found.
func TestIfUnmodified(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := apptest.MigratedDB(t)
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "A"})
	b, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "B"})
	store := accounts.NewStore(d.Gorm)
	c := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: "cy@example.com", Status: accounts.StatusActive}
	if err := store.For(a.ID).Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	read, err := store.For(a.ID).ByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	stale := accounts.IfUnmodified(ctx, read.UpdatedAt)

	t.Run("current version", func(t *testing.T) {
		if err := store.For(a.ID).SetProfile(stale, c.ID, map[string]any{"n": "1"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("stale version", func(t *testing.T) {
		time.Sleep(2 * time.Millisecond)
		err := store.For(a.ID).SetProfile(stale, c.ID, map[string]any{"n": "2"})
		if !apperr.Is(err, apperr.Precondition) {
			t.Fatalf("stale write: %v", err)
		}
		got, _ := store.For(a.ID).ByID(ctx, c.ID)
		if got.Profile["n"] != "1" {
			t.Fatalf("stale write changed the row: %v", got.Profile)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		err := store.For(b.ID).SetProfile(accounts.IfUnmodified(ctx, read.UpdatedAt), c.ID, map[string]any{"n": "3"})
		if !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("other tenant: %v", err)
		}
	})
}
