package tokens_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/apptest"
	"gatehouse/app/tokens"
	"gatehouse/tenants"
)

func setup(t *testing.T) (*tokens.Store, uuid.UUID, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := apptest.MigratedDB(t)
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "A"})
	b, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "B"})
	return tokens.NewStore(d.Gorm), a.ID, b.ID
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	store, a, b := setup(t)
	subject := uuid.Must(uuid.NewV7())

	t.Run("ok, once", func(t *testing.T) {
		tok, err := store.Issue(ctx, a, subject, tokens.Reset, time.Hour, map[string]string{"k": "v"})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Check(ctx, a, tokens.Reset, tok); err != nil {
			t.Fatal(err)
		}
		red, err := store.Redeem(ctx, a, tokens.Reset, tok)
		if err != nil || red.SubjectID != subject || red.Data["k"] != "v" {
			t.Fatalf("Redeem = %+v, %v", red, err)
		}
		if _, err := store.Redeem(ctx, a, tokens.Reset, tok); err != tokens.ErrInvalid {
			t.Fatalf("second redeem: %v", err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		tok, _ := store.Issue(ctx, a, subject, tokens.Reset, time.Hour, nil)
		if _, err := store.Redeem(ctx, b, tokens.Reset, tok); err != tokens.ErrInvalid {
			t.Fatalf("redeemed on bravo: %v", err)
		}
		if err := store.Revoke(ctx, b, subject, tokens.Reset); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Redeem(ctx, a, tokens.Reset, tok); err != nil {
			t.Fatalf("bravo's revoke touched acme's token: %v", err)
		}
	})
	t.Run("other purpose", func(t *testing.T) {
		tok, _ := store.Issue(ctx, a, subject, tokens.Verify, time.Hour, nil)
		if _, err := store.Redeem(ctx, a, tokens.Reset, tok); err != tokens.ErrInvalid {
			t.Fatalf("a verify token reset a password: %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		tok, _ := store.Issue(ctx, a, subject, tokens.Reset, -time.Second, nil)
		if _, err := store.Redeem(ctx, a, tokens.Reset, tok); err != tokens.ErrInvalid {
			t.Fatalf("expired token redeemed: %v", err)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		tok, _ := store.Issue(ctx, a, subject, tokens.Reset, time.Hour, nil)
		if err := store.Revoke(ctx, a, subject, tokens.Reset); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Redeem(ctx, a, tokens.Reset, tok); err != tokens.ErrInvalid {
			t.Fatalf("revoked token redeemed: %v", err)
		}
	})
	t.Run("twenty at once, one wins", func(t *testing.T) {
		tok, _ := store.Issue(ctx, a, subject, tokens.Reset, time.Hour, nil)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := store.Redeem(ctx, a, tokens.Reset, tok); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if err != tokens.ErrInvalid {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d redemptions succeeded", wins)
		}
	})
}
