package access_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"gatehouse/app/access"
	"gatehouse/app/audit"
	"gatehouse/apperr"
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

	if err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "New@Acme.test", Role: access.Admin}); err != nil {
		t.Fatal(err)
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
	t.Run("pending, not a member", func(t *testing.T) {
		inv, err := f.svc.InviteFor(ctx, mail.Token)
		if err != nil || !inv.NeedsPassword || inv.TenantID != f.a.ID || inv.Role != access.Admin || inv.Staff.Email != "new@acme.test" {
			t.Fatalf("%+v %v", inv, err)
		}
		if roles, _ := f.svc.Tenants(ctx, inv.Staff.ID); len(roles) != 0 {
			t.Fatalf("roles before accepting: %v", roles)
		}
		pending, err := f.svc.Invitations(ctx, f.a.ID)
		if err != nil || len(pending) != 1 || pending[0].Email != "new@acme.test" || pending[0].Role != access.Admin || pending[0].InvitedBy != "owner@acme.test" {
			t.Fatalf("pending %+v %v", pending, err)
		}
		if other, _ := f.svc.Invitations(ctx, f.b.ID); len(other) != 0 {
			t.Fatalf("A's invitation listed in B: %+v", other)
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
				} else if !errors.Is(err, access.ErrBadInvite) && !errors.Is(err, access.ErrSignInToAccept) && !apperr.Is(err, apperr.Unavailable) {
					// (A loser that reads the invitation after the winner set
					// the password is told to sign in: also a refusal.)
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
		roles, _ := f.svc.Tenants(ctx, st.ID)
		if len(roles) != 1 || roles[f.a.ID] != access.Admin {
			t.Fatalf("roles after accepting: %v", roles)
		}
		if pending, _ := f.svc.Invitations(ctx, f.a.ID); len(pending) != 0 {
			t.Fatalf("an accepted invitation is still pending: %+v", pending)
		}
	})
	t.Run("expired", func(t *testing.T) {
		if err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "late@acme.test", Role: access.Support}); err != nil {
			t.Fatal(err)
		}
		token := f.mail.last(t).Token
		f.db.Table("one_time_tokens").Where("1 = 1 AND used_at IS NULL").Update("expires_at", time.Now().Add(-time.Minute).UTC())
		if _, err := f.svc.AcceptInvite(ctx, token, goodPassword); !errors.Is(err, access.ErrBadInvite) {
			t.Fatalf("expired link: %v", err)
		}
		if pending, _ := f.svc.Invitations(ctx, f.a.ID); len(pending) != 0 {
			t.Fatalf("an expired invitation is listed: %+v", pending)
		}
	})
	t.Run("already a member", func(t *testing.T) {
		err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "new@acme.test", Role: access.Support})
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad role", func(t *testing.T) {
		err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "x@acme.test", Role: access.PlatformAdmin})
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

// TestInviteExistingAccountNeedsConsent (security review, issue 9 item 8):
// an invitation to someone who already has an account grants nothing until
// they accept, signed in as themselves; the inviting tenant's audit log
// reads the same as for a new address; the link works once, and only in
// the tenant that sent it.
func TestInviteExistingAccountNeedsConsent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	owner := f.create(t, "owner@acme.test", access.Owner, f.a)
	bravoOwner := f.create(t, "owner@bravo.test", access.Owner, f.b)
	actor := access.Actor{StaffID: owner.ID, Email: owner.Email}

	if err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "owner@bravo.test", Role: access.Support}); err != nil {
		t.Fatal(err)
	}
	token := f.mail.last(t).Token
	if err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "fresh@acme.test", Role: access.Support}); err != nil {
		t.Fatal(err)
	}
	freshMail := f.mail.last(t)

	t.Run("no role until accepted", func(t *testing.T) {
		roles, _ := f.svc.Tenants(ctx, bravoOwner.ID)
		if len(roles) != 1 || roles[f.b.ID] != access.Owner {
			t.Fatalf("roles before accepting: %v", roles)
		}
		if ok, _ := f.rbac.Allowed(ctx, bravoOwner.ID, access.TenantDomain(f.a.ID), access.Perm{Object: access.Users, Action: access.Read}); ok {
			t.Fatal("the invitee can read acme's customers before accepting")
		}
		if _, err := f.svc.Member(ctx, f.a.ID, bravoOwner.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a member before accepting: %v", err)
		}
	})
	t.Run("the same audit detail and mail as a new address", func(t *testing.T) {
		events, _, err := f.events.List(ctx, f.a.ID, audit.Filter{Action: "staff.invited"})
		if err != nil || len(events) != 2 {
			t.Fatalf("%d events, %v", len(events), err)
		}
		if !reflect.DeepEqual(events[0].Detail, events[1].Detail) || events[0].Actor != events[1].Actor {
			t.Fatalf("details differ: %v vs %v", events[0].Detail, events[1].Detail)
		}
		if _, ok := events[0].Detail["new_account"]; ok {
			t.Fatalf("detail tells whether the account existed: %v", events[0].Detail)
		}
		if token == "" || freshMail.Token == "" {
			t.Fatal("an invitation without a link")
		}
	})
	t.Run("a password cannot accept for an existing account", func(t *testing.T) {
		if _, err := f.svc.AcceptInvite(ctx, token, goodPassword+" other"); !errors.Is(err, access.ErrSignInToAccept) {
			t.Fatalf("err = %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "owner@bravo.test", goodPassword, ""); err != nil {
			t.Fatalf("the password changed: %v", err)
		}
	})
	t.Run("someone else cannot accept it", func(t *testing.T) {
		if _, err := f.svc.AcceptInviteAs(ctx, token, owner.ID); !errors.Is(err, access.ErrNotInvitee) {
			t.Fatalf("err = %v", err)
		}
		if _, err := f.svc.InviteFor(ctx, token); err != nil {
			t.Fatalf("a refused acceptance spent the link: %v", err)
		}
	})
	t.Run("accepted once, in its own tenant", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				inv, err := f.svc.AcceptInviteAs(ctx, token, bravoOwner.ID)
				switch {
				case err == nil:
					if inv.TenantID != f.a.ID {
						t.Errorf("accepted into %s", inv.TenantID)
					}
					mu.Lock()
					ok++
					mu.Unlock()
				case !errors.Is(err, access.ErrBadInvite) && !apperr.Is(err, apperr.Unavailable):
					t.Errorf("concurrent accept: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d accepts succeeded, want exactly 1", ok)
		}
		roles, _ := f.svc.Tenants(ctx, bravoOwner.ID)
		if len(roles) != 2 || roles[f.a.ID] != access.Support || roles[f.b.ID] != access.Owner {
			t.Fatalf("roles after accepting: %v", roles)
		}
		if _, err := f.svc.AcceptInviteAs(ctx, token, bravoOwner.ID); !errors.Is(err, access.ErrBadInvite) {
			t.Fatalf("reuse: %v", err)
		}
	})
	t.Run("revoke only in its own tenant", func(t *testing.T) {
		fresh, err := f.svc.InviteFor(ctx, freshMail.Token)
		if err != nil {
			t.Fatal(err)
		}
		bravoActor := access.Actor{StaffID: bravoOwner.ID, Email: bravoOwner.Email}
		if err := f.svc.RevokeInvite(ctx, bravoActor, f.b.ID, fresh.Staff.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("B revokes A's invitation: %v", err)
		}
		if _, err := f.svc.InviteFor(ctx, freshMail.Token); err != nil {
			t.Fatalf("B's revoke spent A's link: %v", err)
		}
		if err := f.svc.RevokeInvite(ctx, actor, f.a.ID, fresh.Staff.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptInvite(ctx, freshMail.Token, goodPassword); !errors.Is(err, access.ErrBadInvite) {
			t.Fatalf("a revoked link: %v", err)
		}
		if err := f.svc.RevokeInvite(ctx, actor, f.a.ID, fresh.Staff.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("revoke twice: %v", err)
		}
	})
	t.Run("a new invitation replaces the pending one", func(t *testing.T) {
		for _, r := range []access.Role{access.Support, access.Admin} {
			if err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: "twice@acme.test", Role: r}); err != nil {
				t.Fatal(err)
			}
		}
		pending, _ := f.svc.Invitations(ctx, f.a.ID)
		if len(pending) != 1 || pending[0].Role != access.Admin {
			t.Fatalf("pending %+v", pending)
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

// TestInviteSentBeforeConsent: a link mailed before invitations waited for
// acceptance carries no role, because its role was granted when it was
// sent. It still lets the invitee choose a password and keeps that role;
// such a link whose role was taken away since grants nothing.
func TestInviteSentBeforeConsent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	owner := f.create(t, "owner@acme.test", access.Owner, f.a)
	actor := access.Actor{StaffID: owner.ID, Email: owner.Email}
	legacy := func(email string, granted bool) string {
		t.Helper()
		if err := f.svc.Invite(ctx, actor, access.Invitation{TenantID: f.a.ID, Email: email, Role: access.Support}); err != nil {
			t.Fatal(err)
		}
		token := f.mail.last(t).Token
		inv, err := f.svc.InviteFor(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.db.Table("one_time_tokens").Where("subject_id = ?", inv.Staff.ID).Update("data", "{}").Error; err != nil {
			t.Fatal(err)
		}
		if granted {
			if err := f.rbac.Assign(ctx, inv.Staff.ID, access.Admin, access.TenantDomain(f.a.ID)); err != nil {
				t.Fatal(err)
			}
		}
		return token
	}
	token := legacy("old@acme.test", true)
	st, err := f.svc.AcceptInvite(ctx, token, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if roles, _ := f.svc.Tenants(ctx, st.ID); len(roles) != 1 || roles[f.a.ID] != access.Admin {
		t.Fatalf("roles %v", roles)
	}
	if _, err := f.svc.AcceptInvite(ctx, legacy("gone@acme.test", false), goodPassword); !errors.Is(err, access.ErrBadInvite) {
		t.Fatalf("a legacy link without a role: %v", err)
	}
}
