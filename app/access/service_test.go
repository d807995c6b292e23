package access_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"gatehouse/app/access"
	"gatehouse/app/apperr"
	"gatehouse/app/audit"
)

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	st := f.create(t, "Ops@Example.com", access.PlatformAdmin, nil)
	if st.Email != "ops@example.com" {
		t.Fatalf("email not case-folded: %q", st.Email)
	}

	t.Run("ok, any case", func(t *testing.T) {
		got, err := f.svc.Authenticate(ctx, "  OPS@example.COM ", goodPassword, "192.0.2.1")
		if err != nil || got.ID != st.ID || got.LastLoginAt.IsZero() {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
	})
	for name, c := range map[string][2]string{
		"wrong password": {"ops@example.com", "not the password"},
		"unknown email":  {"nobody@example.com", goodPassword},
		"malformed":      {"not an email", goodPassword},
		"empty":          {"", ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Authenticate(ctx, c[0], c[1], "192.0.2.1")
			if !errors.Is(err, access.ErrBadCredentials) {
				t.Fatalf("err = %v, want the one bad-credentials error", err)
			}
		})
	}
	t.Run("duplicate email", func(t *testing.T) {
		_, err := f.svc.Create(ctx, access.Actor{}, access.NewStaff{Email: "OPS@example.com", Password: goodPassword, Role: access.PlatformAdmin, Domain: access.PlatformDomain})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Field != "email" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("weak password", func(t *testing.T) {
		_, err := f.svc.Create(ctx, access.Actor{}, access.NewStaff{Email: "new@example.com", Password: "short", Role: access.PlatformAdmin, Domain: access.PlatformDomain})
		if e, ok := apperr.As(err); !ok || e.Field != "password" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("logins are audited", func(t *testing.T) {
		var n, failed int
		var rows []struct{ Action, Actor, Target string }
		f.db.Table("audit_events").Select("action, actor, target").Find(&rows)
		for _, r := range rows {
			switch r.Action {
			case "staff.login":
				n++
				if r.Actor != "staff:ops@example.com" {
					t.Errorf("login actor %q", r.Actor)
				}
			case "staff.login.failed":
				failed++
			}
		}
		if n != 1 || failed != 4 {
			t.Fatalf("logins %d, failures %d; want 1 and 4", n, failed)
		}
	})
}

func TestInvite(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	owner := f.create(t, "owner@acme.test", access.Owner, f.a)
	actor := access.Actor{StaffID: owner.ID, Email: owner.Email}

	res, err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "New@Acme.test", Role: access.Admin})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NewAccount || res.Staff.Status != access.Invited || res.Staff.Email != "new@acme.test" {
		t.Fatalf("result %+v", res)
	}
	mail := f.mail.last(t)
	if mail.To != "new@acme.test" || mail.Token == "" || mail.TenantID != f.a.ID || mail.Role != access.Admin {
		t.Fatalf("mail %+v", mail)
	}
	if ttl := time.Until(mail.Expires); ttl < access.InviteTTL-time.Minute || ttl > access.InviteTTL {
		t.Fatalf("link lasts %s", ttl)
	}

	t.Run("invitee cannot sign in before setting a password", func(t *testing.T) {
		if _, err := f.svc.Authenticate(ctx, "new@acme.test", "", ""); !errors.Is(err, access.ErrBadCredentials) {
			t.Fatal(err)
		}
	})
	t.Run("the token is stored only as a hash", func(t *testing.T) {
		var n int64
		f.db.Table("one_time_tokens").Where("id = ?", mail.Token).Count(&n)
		if n != 0 {
			t.Fatal("raw token in the table")
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		if _, err := f.svc.InviteFor(ctx, "nope"); !errors.Is(err, access.ErrBadInvite) {
			t.Fatal(err)
		}
	})
	t.Run("weak password keeps the link", func(t *testing.T) {
		if _, err := f.svc.AcceptInvite(ctx, mail.Token, "password"); err == nil {
			t.Fatal("accepted a common password")
		}
		if _, err := f.svc.InviteFor(ctx, mail.Token); err != nil {
			t.Fatalf("link spent by a refused password: %v", err)
		}
	})
	t.Run("single use under concurrency", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.svc.AcceptInvite(ctx, mail.Token, goodPassword); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if !errors.Is(err, access.ErrBadInvite) && !apperr.Is(err, apperr.Unavailable) {
					t.Errorf("concurrent accept: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d accepts succeeded, want exactly 1", ok)
		}
		if _, err := f.svc.AcceptInvite(ctx, mail.Token, goodPassword); !errors.Is(err, access.ErrBadInvite) {
			t.Fatalf("reuse: %v", err)
		}
		st, err := f.svc.Authenticate(ctx, "new@acme.test", goodPassword, "")
		if err != nil || st.Status != access.Active {
			t.Fatalf("sign-in after accepting: %+v %v", st, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		if _, err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "late@acme.test", Role: access.Support}); err != nil {
			t.Fatal(err)
		}
		token := f.mail.last(t).Token
		f.db.Table("one_time_tokens").Where("1 = 1 AND used_at IS NULL").Update("expires_at", time.Now().Add(-time.Minute).UTC())
		if _, err := f.svc.AcceptInvite(ctx, token, goodPassword); !errors.Is(err, access.ErrBadInvite) {
			t.Fatalf("expired link: %v", err)
		}
	})
	t.Run("already a member", func(t *testing.T) {
		_, err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "new@acme.test", Role: access.Support})
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("existing account joins another tenant without a link", func(t *testing.T) {
		res, err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.b.ID, Email: "new@acme.test", Role: access.Support})
		if err != nil || res.NewAccount {
			t.Fatalf("%+v %v", res, err)
		}
		if m := f.mail.last(t); m.Token != "" || m.TenantID != f.b.ID {
			t.Fatalf("mail %+v", m)
		}
		roles, _ := f.svc.Tenants(ctx, res.Staff.ID)
		if roles[f.a.ID] != access.Admin || roles[f.b.ID] != access.Support {
			t.Fatalf("roles %v", roles)
		}
	})
	t.Run("bad role", func(t *testing.T) {
		_, err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "x@acme.test", Role: access.PlatformAdmin})
		if e, ok := apperr.As(err); !ok || e.Field != "role" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("audited in the tenant", func(t *testing.T) {
		events, _, err := f.events.List(ctx, f.a.ID, audit.Filter{Action: "staff.invited"})
		if err != nil || len(events) < 1 || events[len(events)-1].Actor != "staff:owner@acme.test" {
			t.Fatalf("%+v %v", events, err)
		}
		other, _, _ := f.events.List(ctx, f.b.ID, audit.Filter{Action: "staff.invite.accepted"})
		if len(other) != 0 {
			t.Fatal("A's acceptance is in B's log")
		}
	})
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"A@B.co":          "a@b.co",
		" x@example.com ": "x@example.com",
		"":                "",
		"no-at":           "",
		"a@localhost":     "",
		"A <a@b.co>":      "",
		"a@b.co\n":        "a@b.co",
	} {
		got, err := access.NormalizeEmail(in)
		if want == "" {
			if err == nil {
				t.Errorf("%q accepted as %q", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
