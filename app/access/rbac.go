package access

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/apperr"
)

// Role is what a staff member is in one domain.
type Role string

// The roles. PlatformAdmin is held in the domain "*" and allows everything
// everywhere; the others are held per tenant.
const (
	PlatformAdmin Role = "platform-admin"
	Owner         Role = "owner"   // everything in the tenant, staff included
	Admin         Role = "admin"   // settings, users and imports; not staff
	Support       Role = "support" // customers: search, view, edit, disable; no settings, no deletes
)

// TenantRoles are the roles a tenant's owner may hand out, most powerful first.
var TenantRoles = []Role{Owner, Admin, Support}

// ParseRole returns the role named s, or an Invalid error on field "role".
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if r == PlatformAdmin || slices.Contains(TenantRoles, r) {
		return r, nil
	}
	return "", apperr.Field("role", "%q is not a role: use platform-admin, owner, admin or support", s)
}

// Label is the role as the console shows it.
func (r Role) Label() string {
	switch r {
	case PlatformAdmin:
		return "Platform admin"
	case Owner:
		return "Owner"
	case Admin:
		return "Admin"
	case Support:
		return "Support"
	}
	return string(r)
}

// Object is a part of the console a permission covers.
type Object string

// The objects.
const (
	Platform Object = "platform" // tenants, domains, the dev outbox
	Overview Object = "tenant"   // a tenant's overview page
	Settings Object = "settings" // theme, registration fields, social apps
	Users    Object = "users"    // the tenant's customers
	Imports  Object = "imports"
	Team     Object = "staff" // the tenant's staff and invitations
	Audit    Object = "audit"
)

// Action is what is done to an object.
type Action string

// The actions.
const (
	Read   Action = "read"
	Write  Action = "write"
	Delete Action = "delete"
)

// Perm is one permission: an action on an object.
type Perm struct {
	Object Object
	Action Action
}

// PlatformDomain is the casbin domain of platform-wide roles.
const PlatformDomain = "*"

// TenantDomain is the casbin domain of a tenant.
func TenantDomain(id uuid.UUID) string { return id.String() }

// rbacModel is RBAC with domains. A role held in "*" applies in every
// domain; only platform-admin is ever granted there (Assign refuses the
// rest), so the "*" branch is what makes a platform admin one.
const rbacModel = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, "*")) && (p.dom == "*" || p.dom == r.dom) && (p.obj == "*" || p.obj == r.obj) && (p.act == "*" || p.act == r.act)
`

// RolePolicies are what each role may do, as casbin p rules (role, domain,
// object, action). They are written to casbin_rules at start-up, so the
// table holds the whole policy, and changed here, in code review, only.
var RolePolicies = [][]string{
	{string(PlatformAdmin), "*", "*", "*"},

	{string(Owner), "*", string(Overview), string(Read)},
	{string(Owner), "*", string(Settings), string(Read)},
	{string(Owner), "*", string(Settings), string(Write)},
	{string(Owner), "*", string(Users), string(Read)},
	{string(Owner), "*", string(Users), string(Write)},
	{string(Owner), "*", string(Users), string(Delete)},
	{string(Owner), "*", string(Imports), string(Read)},
	{string(Owner), "*", string(Imports), string(Write)},
	{string(Owner), "*", string(Team), string(Read)},
	{string(Owner), "*", string(Team), string(Write)},
	{string(Owner), "*", string(Audit), string(Read)},

	{string(Admin), "*", string(Overview), string(Read)},
	{string(Admin), "*", string(Settings), string(Read)},
	{string(Admin), "*", string(Settings), string(Write)},
	{string(Admin), "*", string(Users), string(Read)},
	{string(Admin), "*", string(Users), string(Write)},
	{string(Admin), "*", string(Users), string(Delete)},
	{string(Admin), "*", string(Imports), string(Read)},
	{string(Admin), "*", string(Imports), string(Write)},
	{string(Admin), "*", string(Audit), string(Read)},

	{string(Support), "*", string(Overview), string(Read)},
	{string(Support), "*", string(Users), string(Read)},
	{string(Support), "*", string(Users), string(Write)},
}

// Clock is the policy version every node shares. Whoever changes a role
// ticks it; a node whose enforcer was loaded at another version reloads
// before it answers. RedisClock is the real one.
type Clock interface {
	Now(ctx context.Context) (string, error)
	Tick(ctx context.Context) error
}

// RBAC answers "may this staff member do this here?" with a casbin
// enforcer, and changes role assignments in the database.
type RBAC struct {
	db       *gorm.DB
	enforcer *casbin.SyncedEnforcer
	clock    Clock
	maxAge   time.Duration

	mu       sync.Mutex
	version  string
	loadedAt time.Time
}

// NewRBAC builds the enforcer on db's casbin_rules, writes RolePolicies
// there if they differ, and loads the policy. maxAge bounds how long a node
// trusts its copy when the clock says nothing changed (a CLI that could not
// reach Redis), and defaults to 30 seconds.
func NewRBAC(ctx context.Context, db *gorm.DB, clock Clock, maxAge time.Duration) (*RBAC, error) {
	m, err := model.NewModelFromString(rbacModel)
	if err != nil {
		return nil, fmt.Errorf("access: casbin model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, NewAdapter(db))
	if err != nil {
		return nil, fmt.Errorf("access: casbin enforcer: %w", err)
	}
	// Writes go through RBAC's own transactions, never the enforcer's.
	e.EnableAutoSave(false)
	if maxAge <= 0 {
		maxAge = 30 * time.Second
	}
	r := &RBAC{db: db, enforcer: e, clock: clock, maxAge: maxAge}
	changed, err := r.syncRolePolicies(ctx)
	if err != nil {
		return nil, err
	}
	if changed {
		if err := clock.Tick(ctx); err != nil {
			return nil, apperr.Wrap(err, "announce policy change")
		}
	}
	if err := r.refresh(ctx, true); err != nil {
		return nil, err
	}
	return r, nil
}

// syncRolePolicies makes the p rules in the table exactly RolePolicies.
func (r *RBAC) syncRolePolicies(ctx context.Context) (bool, error) {
	changed := false
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []ruleRow
		if err := tx.Where("ptype = ?", "p").Find(&rows).Error; err != nil {
			return apperr.Wrap(err, "read policies")
		}
		want := map[[4]string]bool{}
		for _, p := range RolePolicies {
			want[[4]string{p[0], p[1], p[2], p[3]}] = true
		}
		have := map[[4]string]bool{}
		for _, row := range rows {
			k := [4]string{row.V0, row.V1, row.V2, row.V3}
			if !want[k] || row.V4 != "" || row.V5 != "" {
				if err := tx.Where("id = ?", row.ID).Delete(&ruleRow{}).Error; err != nil {
					return apperr.Wrap(err, "remove stale policy")
				}
				changed = true
				continue
			}
			have[k] = true
		}
		for _, p := range RolePolicies {
			k := [4]string{p[0], p[1], p[2], p[3]}
			if have[k] {
				continue
			}
			row := newRule("p", p)
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return apperr.Wrap(err, "write policy")
			}
			changed = true
		}
		return nil
	})
	return changed, err
}

// refresh reloads the policy when the shared clock moved or the copy is
// older than maxAge (or always, with force).
func (r *RBAC) refresh(ctx context.Context, force bool) error {
	v, err := r.clock.Now(ctx)
	if err != nil {
		return apperr.Wrap(err, "read policy version")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !force && v == r.version && time.Since(r.loadedAt) < r.maxAge {
		return nil
	}
	if err := r.enforcer.LoadPolicy(); err != nil {
		return apperr.Wrap(err, "load policy")
	}
	r.version, r.loadedAt = v, time.Now()
	return nil
}

// Allowed reports whether staffID may do p in domain (a TenantDomain or
// PlatformDomain).
func (r *RBAC) Allowed(ctx context.Context, staffID uuid.UUID, domain string, p Perm) (bool, error) {
	if staffID == uuid.Nil || domain == "" || p.Object == "" || p.Action == "" {
		return false, nil
	}
	if err := r.refresh(ctx, false); err != nil {
		return false, err
	}
	ok, err := r.enforcer.Enforce(staffID.String(), domain, string(p.Object), string(p.Action))
	if err != nil {
		return false, apperr.Wrap(err, "enforce")
	}
	return ok, nil
}

// RoleIn returns staffID's role in domain: its tenant role, else
// PlatformAdmin when it holds that; ok is false when it has none, which the
// console answers with 404 so a stranger learns nothing about the tenant.
func (r *RBAC) RoleIn(ctx context.Context, staffID uuid.UUID, domain string) (Role, bool, error) {
	if err := r.refresh(ctx, false); err != nil {
		return "", false, err
	}
	id := staffID.String()
	if domain != PlatformDomain {
		if roles := r.enforcer.GetRolesForUserInDomain(id, domain); len(roles) > 0 {
			return Role(roles[0]), true, nil
		}
	}
	if slices.Contains(r.enforcer.GetRolesForUserInDomain(id, PlatformDomain), string(PlatformAdmin)) {
		return PlatformAdmin, true, nil
	}
	return "", false, nil
}

// Membership is one role one staff member holds in one domain.
type Membership struct {
	StaffID uuid.UUID
	Role    Role
	Domain  string
}

// Memberships returns every role staffID holds, read from the database.
func (r *RBAC) Memberships(ctx context.Context, staffID uuid.UUID) ([]Membership, error) {
	var rows []ruleRow
	if err := r.db.WithContext(ctx).Where("ptype = ? AND v0 = ?", "g", staffID.String()).Order("v2").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list memberships")
	}
	return memberships(rows), nil
}

// Members returns every role held in domain, read from the database.
func (r *RBAC) Members(ctx context.Context, domain string) ([]Membership, error) {
	if domain == "" {
		return nil, apperr.New(apperr.Invalid, "domain required")
	}
	var rows []ruleRow
	if err := r.db.WithContext(ctx).Where("ptype = ? AND v2 = ?", "g", domain).Order("v0").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list members")
	}
	return memberships(rows), nil
}

func memberships(rows []ruleRow) []Membership {
	out := make([]Membership, 0, len(rows))
	for _, row := range rows {
		id, err := uuid.Parse(row.V0)
		if err != nil {
			continue
		}
		out = append(out, Membership{StaffID: id, Role: Role(row.V1), Domain: row.V2})
	}
	return out
}

// ErrLastOwner refuses a change that would leave a tenant without an owner,
// and with it nobody who can manage its staff.
var ErrLastOwner = &apperr.Error{Code: apperr.Conflict, Field: "role", Message: "a tenant needs at least one owner; make someone else owner first"}

// assign gives staffID role in domain, replacing any role it held there,
// inside tx. A tenant role in "*", or platform-admin in a tenant, is
// refused. It does not tick the clock; the caller does after commit.
func (r *RBAC) assign(ctx context.Context, tx *gorm.DB, staffID uuid.UUID, role Role, domain string) error {
	switch {
	case role == PlatformAdmin && domain != PlatformDomain:
		return apperr.Field("role", "platform-admin is not a tenant role")
	case role != PlatformAdmin && domain == PlatformDomain:
		return apperr.Field("tenant", "the role %s needs a tenant", role)
	case role != PlatformAdmin && !slices.Contains(TenantRoles, role):
		return apperr.Field("role", "%q is not a role", role)
	}
	if role != Owner && domain != PlatformDomain {
		if err := r.keepAnOwner(ctx, tx, staffID, domain); err != nil {
			return err
		}
	}
	id := staffID.String()
	if err := tx.WithContext(ctx).Where("ptype = ? AND v0 = ? AND v2 = ?", "g", id, domain).Delete(&ruleRow{}).Error; err != nil {
		return apperr.Wrap(err, "replace role")
	}
	row := newRule("g", []string{id, string(role), domain})
	if err := tx.WithContext(ctx).Create(&row).Error; err != nil {
		return apperr.Wrap(err, "grant role")
	}
	return nil
}

// unassign takes staffID's role in domain away, inside tx.
func (r *RBAC) unassign(ctx context.Context, tx *gorm.DB, staffID uuid.UUID, domain string) error {
	if domain != PlatformDomain {
		if err := r.keepAnOwner(ctx, tx, staffID, domain); err != nil {
			return err
		}
	}
	res := tx.WithContext(ctx).Where("ptype = ? AND v0 = ? AND v2 = ?", "g", staffID.String(), domain).Delete(&ruleRow{})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "revoke role")
	}
	if res.RowsAffected == 0 {
		return errNoStaff
	}
	return nil
}

// keepAnOwner fails with ErrLastOwner when staffID is domain's only owner.
// On PostgreSQL the owners' rows are locked, so two owners demoting each
// other at once cannot both succeed; SQLite serialises writers anyway.
func (r *RBAC) keepAnOwner(ctx context.Context, tx *gorm.DB, staffID uuid.UUID, domain string) error {
	q := tx.WithContext(ctx).Where("ptype = ? AND v1 = ? AND v2 = ?", "g", string(Owner), domain)
	if tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var owners []ruleRow
	if err := q.Find(&owners).Error; err != nil {
		return apperr.Wrap(err, "count owners")
	}
	isOwner := false
	for _, o := range owners {
		if o.V0 == staffID.String() {
			isOwner = true
		}
	}
	if isOwner && len(owners) == 1 {
		return ErrLastOwner
	}
	return nil
}

// changed ticks the clock after a committed change and reloads this node
// at once. A failed tick is returned: the change is saved, and other nodes
// see it within maxAge.
func (r *RBAC) changed(ctx context.Context) error {
	tickErr := r.clock.Tick(ctx)
	if err := r.refresh(ctx, true); err != nil {
		return err
	}
	if tickErr != nil {
		return apperr.Wrap(tickErr, "announce policy change")
	}
	return nil
}

// Assign gives staffID role in domain in its own transaction.
func (r *RBAC) Assign(ctx context.Context, staffID uuid.UUID, role Role, domain string) error {
	if err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return r.assign(ctx, tx, staffID, role, domain)
	}); err != nil {
		return err
	}
	return r.changed(ctx)
}

// Unassign takes staffID's role in domain away in its own transaction.
func (r *RBAC) Unassign(ctx context.Context, staffID uuid.UUID, domain string) error {
	if err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return r.unassign(ctx, tx, staffID, domain)
	}); err != nil {
		return err
	}
	return r.changed(ctx)
}

// LocalClock is a Clock for one process (tests, a CLI with no Redis).
type LocalClock struct {
	mu sync.Mutex
	n  int
}

// Now returns the local version.
func (c *LocalClock) Now(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.n), nil
}

// Tick moves the local version.
func (c *LocalClock) Tick(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return nil
}
