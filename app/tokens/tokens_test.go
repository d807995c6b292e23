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

// Platform tokens (a staff member's) belong to no tenant: no tenant can
// use one, a platform call cannot use a tenant's, and each works once
// however many requests race.
func TestPlatformTokens(t *testing.T) {
	ctx := context.Background()
	s, acme, _ := setup(t)
	staff := uuid.Must(uuid.NewV7())
	tok, err := s.IssuePlatform(ctx, staff, tokens.StaffReset, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("other tenant", func(t *testing.T) {
		if err := s.Check(ctx, acme, tokens.StaffReset, tok); err == nil {
			t.Error("a tenant checks a platform token")
		}
		if _, err := s.Redeem(ctx, acme, tokens.StaffReset, tok); err == nil {
			t.Error("a tenant redeems a platform token")
		}
		tenantTok, _ := s.Issue(ctx, acme, staff, tokens.StaffReset, time.Hour, nil)
		if err := s.CheckPlatform(ctx, tokens.StaffReset, tenantTok); err == nil {
			t.Error("a platform check accepts a tenant's token")
		}
	})
	t.Run("wrong purpose", func(t *testing.T) {
		if _, err := s.PeekPlatform(ctx, tokens.Reset, tok); err == nil {
			t.Error("peeked for another purpose")
		}
	})
	t.Run("single use under a race", func(t *testing.T) {
		if red, err := s.PeekPlatform(ctx, tokens.StaffReset, tok); err != nil || red.SubjectID != staff {
			t.Fatalf("peek = %+v, %v", red, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.RedeemPlatform(ctx, tokens.StaffReset, tok); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d redemptions succeeded", wins)
		}
	})
	t.Run("a new link revokes the old", func(t *testing.T) {
		old, _ := s.IssuePlatform(ctx, staff, tokens.StaffReset, time.Hour, nil)
		if err := s.RevokePlatform(ctx, staff, tokens.StaffReset); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckPlatform(ctx, tokens.StaffReset, old); err == nil {
			t.Error("revoked token still valid")
		}
	})
}
