package access_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/access"
	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/db"
	"gatehouse/app/passwords"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// mustDB returns a fresh migrated database: PostgreSQL when
// GATEHOUSE_TEST_DATABASE_URL is set, else SQLite.
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

func mustTenant(t testing.TB, g *gorm.DB, slug string) *tenants.Tenant {
	t.Helper()
	svc := tenants.NewService(tenants.NewStore(g), nil, "localhost", quiet)
	tn, err := svc.Create(context.Background(), tenants.NewTenant{Slug: slug, Name: "Brand " + slug})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func mustRBAC(t testing.TB, g *gorm.DB, clock access.Clock) *access.RBAC {
	t.Helper()
	r, err := access.NewRBAC(context.Background(), g, clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeMailer keeps the invitations it was asked to send.
type fakeMailer struct {
	mu   sync.Mutex
	sent []access.InviteMail
}

func (m *fakeMailer) StaffInvited(_ context.Context, im access.InviteMail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, im)
	return nil
}

func (m *fakeMailer) last(t testing.TB) access.InviteMail {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no invitation mailed")
	}
	return m.sent[len(m.sent)-1]
}

type fixture struct {
	db     *gorm.DB
	svc    *access.Service
	rbac   *access.RBAC
	mail   *fakeMailer
	a, b   *tenants.Tenant
	events *audit.Recorder
}

func newFixture(t testing.TB) *fixture {
	g := mustDB(t)
	f := &fixture{db: g, mail: &fakeMailer{}, events: audit.NewRecorder(g, quiet)}
	f.rbac = mustRBAC(t, g, &access.LocalClock{})
	hasher := passwords.NewHasher(passwords.Params{Memory: 64, Time: 1, Threads: 1}, 0, time.Second)
	f.svc = access.NewService(g, f.rbac, hasher, passwords.NewPolicy(), f.mail, f.events)
	f.a = mustTenant(t, g, "acme")
	f.b = mustTenant(t, g, "bravo")
	return f
}

const goodPassword = "correct horse battery"

func (f *fixture) create(t testing.TB, email string, role access.Role, tenant *tenants.Tenant) access.Staff {
	t.Helper()
	domain := access.PlatformDomain
	if tenant != nil {
		domain = access.TenantDomain(tenant.ID)
	}
	st, err := f.svc.Create(context.Background(), access.Actor{}, access.NewStaff{Email: email, Password: goodPassword, Role: role, Domain: domain})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return st
}

func TestRolesPerTenant(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	admin := f.create(t, "root@example.com", access.PlatformAdmin, nil)
	owner := f.create(t, "owner@acme.test", access.Owner, f.a)
	adm := f.create(t, "admin@acme.test", access.Admin, f.a)
	sup := f.create(t, "support@acme.test", access.Support, f.a)
	ownerB := f.create(t, "owner@bravo.test", access.Owner, f.b)

	perms := []access.Perm{
		{access.Overview, access.Read}, {access.Settings, access.Read}, {access.Settings, access.Write},
		{access.Users, access.Read}, {access.Users, access.Write}, {access.Users, access.Delete},
		{access.Imports, access.Write}, {access.Team, access.Read}, {access.Team, access.Write},
		{access.Audit, access.Read}, {access.Platform, access.Read},
	}
	// want[who][i] says whether perms[i] is allowed in tenant A.
	want := map[string][]bool{
		"platform admin": {true, true, true, true, true, true, true, true, true, true, true},
		"owner":          {true, true, true, true, true, true, true, true, true, true, false},
		"admin":          {true, true, true, true, true, true, true, false, false, true, false},
		"support":        {true, false, false, true, true, false, false, false, false, false, false},
		"owner of B":     {false, false, false, false, false, false, false, false, false, false, false},
	}
	who := map[string]uuid.UUID{"platform admin": admin.ID, "owner": owner.ID, "admin": adm.ID, "support": sup.ID, "owner of B": ownerB.ID}
	for name, id := range who {
		t.Run(name, func(t *testing.T) {
			for i, p := range perms {
				got, err := f.rbac.Allowed(ctx, id, access.TenantDomain(f.a.ID), p)
				if err != nil {
					t.Fatal(err)
				}
				if got != want[name][i] {
					t.Errorf("%s %s in tenant A: allowed=%v, want %v", p.Action, p.Object, got, want[name][i])
				}
			}
		})
	}

	t.Run("platform domain is for platform admins only", func(t *testing.T) {
		for name, id := range who {
			got, _ := f.rbac.Allowed(ctx, id, access.PlatformDomain, access.Perm{access.Platform, access.Read})
			if got != (name == "platform admin") {
				t.Errorf("%s: platform allowed=%v", name, got)
			}
		}
	})

	t.Run("role in", func(t *testing.T) {
		for _, c := range []struct {
			id     uuid.UUID
			domain string
			role   access.Role
			ok     bool
		}{
			{owner.ID, access.TenantDomain(f.a.ID), access.Owner, true},
			{sup.ID, access.TenantDomain(f.a.ID), access.Support, true},
			{ownerB.ID, access.TenantDomain(f.a.ID), "", false},
			{owner.ID, access.TenantDomain(f.b.ID), "", false},
			{admin.ID, access.TenantDomain(f.b.ID), access.PlatformAdmin, true},
		} {
			role, ok, err := f.rbac.RoleIn(ctx, c.id, c.domain)
			if err != nil || role != c.role || ok != c.ok {
				t.Errorf("RoleIn(%s) = %q %v %v, want %q %v", c.domain, role, ok, err, c.role, c.ok)
			}
		}
	})

	t.Run("tenant roles stay in tenants", func(t *testing.T) {
		if err := f.rbac.Assign(ctx, owner.ID, access.Owner, access.PlatformDomain); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("owner in *: %v", err)
		}
		if err := f.rbac.Assign(ctx, owner.ID, access.PlatformAdmin, access.TenantDomain(f.a.ID)); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("platform-admin in a tenant: %v", err)
		}
	})

	t.Run("members are per tenant", func(t *testing.T) {
		ms, err := f.svc.Members(ctx, f.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, m := range ms {
			emails = append(emails, m.Email+"="+string(m.Role))
		}
		if len(ms) != 3 || emails[0] != "admin@acme.test=admin" || emails[1] != "owner@acme.test=owner" || emails[2] != "support@acme.test=support" {
			t.Fatalf("members of A = %v", emails)
		}
		ms, _ = f.svc.Members(ctx, f.b.ID)
		if len(ms) != 1 || ms[0].Email != "owner@bravo.test" {
			t.Fatalf("members of B = %+v", ms)
		}
	})

	t.Run("other tenant", func(t *testing.T) {
		// B's owner cannot reach A's staff by id, through any method.
		if err := f.svc.SetRole(ctx, access.Actor{}, f.b.ID, sup.ID, access.Owner); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("SetRole of A's member through B: %v", err)
		}
		if err := f.svc.Remove(ctx, access.Actor{}, f.b.ID, sup.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("Remove of A's member through B: %v", err)
		}
		if _, err := f.svc.Member(ctx, f.b.ID, sup.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("Member of A through B: %v", err)
		}
		if ok, _ := f.rbac.Allowed(ctx, sup.ID, access.TenantDomain(f.b.ID), access.Perm{access.Users, access.Read}); ok {
			t.Error("A's support may read B's users")
		}
	})

	t.Run("last owner stays", func(t *testing.T) {
		if err := f.svc.SetRole(ctx, access.Actor{}, f.a.ID, owner.ID, access.Admin); !errors.Is(err, access.ErrLastOwner) {
			t.Fatalf("demoting the only owner: %v", err)
		}
		if err := f.svc.Remove(ctx, access.Actor{}, f.a.ID, owner.ID); !errors.Is(err, access.ErrLastOwner) {
			t.Fatalf("removing the only owner: %v", err)
		}
		if err := f.svc.SetRole(ctx, access.Actor{}, f.a.ID, adm.ID, access.Owner); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetRole(ctx, access.Actor{}, f.a.ID, owner.ID, access.Support); err != nil {
			t.Fatalf("demoting one of two owners: %v", err)
		}
		if ok, _ := f.rbac.Allowed(ctx, owner.ID, access.TenantDomain(f.a.ID), access.Perm{access.Team, access.Write}); ok {
			t.Fatal("a demoted owner still manages staff")
		}
		if err := f.svc.Remove(ctx, access.Actor{}, f.a.ID, owner.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := f.rbac.RoleIn(ctx, owner.ID, access.TenantDomain(f.a.ID)); ok {
			t.Fatal("a removed member keeps a role")
		}
	})

	t.Run("changes are audited with before and after", func(t *testing.T) {
		events, _, err := f.events.List(ctx, f.a.ID, audit.Filter{Action: "staff.role.changed"})
		if err != nil || len(events) == 0 {
			t.Fatalf("events %v %v", events, err)
		}
		e := events[len(events)-1]
		if e.Detail["before"] != "admin" || e.Detail["after"] != "owner" || e.Target != "admin@acme.test" {
			t.Fatalf("event %+v", e)
		}
	})
}

// TestPolicyReachesOtherNodes: two enforcers on one database and one clock
// stand for two serve nodes; a role taken away on one is gone on the other
// at its next check.
func TestPolicyReachesOtherNodes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	clock := &access.LocalClock{}
	one := mustRBAC(t, f.db, clock)
	two := mustRBAC(t, f.db, clock)
	id := uuid.Must(uuid.NewV7())
	domain := access.TenantDomain(f.a.ID)
	read := access.Perm{access.Users, access.Read}
	if err := one.Assign(ctx, id, access.Support, domain); err != nil {
		t.Fatal(err)
	}
	if ok, _ := two.Allowed(ctx, id, domain, read); !ok {
		t.Fatal("node two does not see the grant")
	}
	if err := one.Unassign(ctx, id, domain); err != nil {
		t.Fatal(err)
	}
	if ok, _ := two.Allowed(ctx, id, domain, read); ok {
		t.Fatal("node two still allows a revoked role")
	}
}

func TestAdapter(t *testing.T) {
	g := mustDB(t)
	m, err := model.NewModelFromString(`
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`)
	if err != nil {
		t.Fatal(err)
	}
	a := access.NewAdapter(g)
	e, err := casbin.NewEnforcer(m, a)
	if err != nil {
		t.Fatal(err)
	}
	// The table starts with whatever the migration left: nothing.
	e.ClearPolicy()
	if err := e.SavePolicy(); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]string{{"reader", "doc", "read"}, {"writer", "doc", "write"}} {
		if _, err := e.AddPolicy(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.AddGroupingPolicy("alice", "reader"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddGroupingPolicy("bob", "writer"); err != nil {
		t.Fatal(err)
	}

	reload := func() *casbin.Enforcer {
		e2, err := casbin.NewEnforcer(m.Copy(), access.NewAdapter(g))
		if err != nil {
			t.Fatal(err)
		}
		return e2
	}
	e2 := reload()
	if ok, _ := e2.Enforce("alice", "doc", "read"); !ok {
		t.Fatal("alice lost read after reload")
	}
	if ok, _ := e2.Enforce("alice", "doc", "write"); ok {
		t.Fatal("alice may write")
	}
	if _, err := e.RemoveGroupingPolicy("alice", "reader"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := reload().Enforce("alice", "doc", "read"); ok {
		t.Fatal("removed grouping policy survived")
	}
	if _, err := e.RemoveFilteredPolicy(0, "writer"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := reload().Enforce("bob", "doc", "write"); ok {
		t.Fatal("filtered removal left the rule")
	}
}
