package sessions_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/app/sessions"
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

func TestSessions(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	store := sessions.NewStore(d.Gorm)
	a, b := mustTenant(t, d, "acme"), mustTenant(t, d, "bravo")
	alice := uuid.Must(uuid.NewV7())
	newSession := func(tenant uuid.UUID, host string, idle time.Duration) string {
		tok, sess, err := store.Create(ctx, sessions.New{Kind: sessions.Customer, TenantID: tenant, SubjectID: alice, Host: host, Idle: idle, Max: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) < 43 || sess.ID == tok || sess.ID != sessions.IDOf(tok) {
			t.Fatalf("token %q / id %q: the id must be the hash, the token 256 bits", tok, sess.ID)
		}
		return tok
	}
	tok := newSession(a, "acme.localhost", time.Hour)

	t.Run("ok", func(t *testing.T) {
		s, err := store.Lookup(ctx, tok, sessions.Customer, a, "acme.localhost")
		if err != nil || s.SubjectID != alice || s.TenantID != a {
			t.Fatalf("Lookup = %+v, %v", s, err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		if _, err := store.Lookup(ctx, tok, sessions.Customer, b, "acme.localhost"); err != sessions.ErrNoSession {
			t.Fatalf("found from bravo: %v", err)
		}
		if err := store.RevokeID(ctx, sessions.Customer, b, alice, sessions.IDOf(tok)); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("revoked from bravo: %v", err)
		}
		if list, _ := store.List(ctx, sessions.Customer, b, alice); len(list) != 0 {
			t.Fatalf("bravo lists acme's sessions: %v", list)
		}
	})
	t.Run("other host of the same tenant", func(t *testing.T) {
		if _, err := store.Lookup(ctx, tok, sessions.Customer, a, "login.acme.test"); err != sessions.ErrNoSession {
			t.Fatalf("found on another host: %v", err)
		}
	})
	t.Run("staff kind", func(t *testing.T) {
		if _, err := store.Lookup(ctx, tok, sessions.Staff, uuid.Nil, "acme.localhost"); err != sessions.ErrNoSession {
			t.Fatalf("a customer session served as staff: %v", err)
		}
	})
	t.Run("nil tenant matches nothing", func(t *testing.T) {
		if _, err := store.Lookup(ctx, tok, sessions.Customer, uuid.Nil, "acme.localhost"); err != sessions.ErrNoSession {
			t.Fatalf("nil tenant: %v", err)
		}
	})
	t.Run("idle timeout", func(t *testing.T) {
		short := newSession(a, "acme.localhost", time.Nanosecond)
		time.Sleep(2 * time.Millisecond)
		if _, err := store.Lookup(ctx, short, sessions.Customer, a, "acme.localhost"); err != sessions.ErrNoSession {
			t.Fatalf("idle session still valid: %v", err)
		}
	})
	t.Run("revoke all but one", func(t *testing.T) {
		keep := newSession(a, "acme.localhost", time.Hour)
		other := newSession(b, "bravo.localhost", time.Hour) // same subject id on another tenant: untouched
		if err := store.RevokeAll(ctx, sessions.Customer, a, alice, keep); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Lookup(ctx, tok, sessions.Customer, a, "acme.localhost"); err != sessions.ErrNoSession {
			t.Fatal("revoked session still valid")
		}
		if _, err := store.Lookup(ctx, keep, sessions.Customer, a, "acme.localhost"); err != nil {
			t.Fatal("the kept session was revoked")
		}
		if _, err := store.Lookup(ctx, other, sessions.Customer, b, "bravo.localhost"); err != nil {
			t.Fatal("revoking on acme ended a bravo session")
		}
	})
}

// A session keeps how it began (RFC 8176 amr) for the OpenID Provider's
// id_tokens; one made without says nothing.
func TestSessionAMR(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	store := sessions.NewStore(d.Gorm)
	a := mustTenant(t, d, "acme")
	for _, tc := range []struct {
		name string
		amr  []string
	}{{"fed and pwd", []string{"fed", "pwd"}}, {"none", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, err := store.Create(ctx, sessions.New{Kind: sessions.Customer, TenantID: a, SubjectID: uuid.Must(uuid.NewV7()), Host: "acme.localhost", Idle: time.Hour, Max: time.Hour, AMR: tc.amr})
			if err != nil {
				t.Fatal(err)
			}
			s, err := store.Lookup(ctx, tok, sessions.Customer, a, "acme.localhost")
			if err != nil || len(s.AMR) != len(tc.amr) || (len(tc.amr) > 0 && (s.AMR[0] != tc.amr[0] || s.AMR[1] != tc.amr[1])) {
				t.Fatalf("Lookup AMR = %v, %v; want %v", s.AMR, err, tc.amr)
			}
		})
	}
}
