package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/app/audit"
	"gatehouse/app/passwords"
	"gatehouse/apperr"
)

// MinPasswordLength is the shortest staff password: staff can change every
// tenant's sign-in, so they get more than the customer floor of 8.
const MinPasswordLength = 12

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

// invitePurpose marks invitation tokens in one_time_tokens.
const invitePurpose = "staff_invite"

// Mailer sends the invitation mail; app wires it to the mail queue. Every
// invitation carries a token: nothing is granted until its link is used.
type Mailer interface {
	StaffInvited(ctx context.Context, m InviteMail) error
}

// InviteMail is what an invitation mail says.
type InviteMail struct {
	TenantID  uuid.UUID
	To        string
	Role      Role
	InvitedBy string
	Token     string // the raw single-use token; only ever in the mail
	Expires   time.Time
}

// Auditor records audit events; audit.Recorder is one.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Actor is who makes a change, for the audit trail.
type Actor struct {
	StaffID uuid.UUID
	Email   string
	IP      string
}

// Name is the actor as audit events name it.
func (a Actor) Name() string {
	if a.Email == "" {
		if a.IP != "" {
			return "anonymous"
		}
		return "system"
	}
	return "staff:" + a.Email
}

// Service is staff accounts: sign-in, creation, invitations and the roles
// they hold, with an audit event for every change.
type Service struct {
	db     *gorm.DB
	staff  staffStore
	rbac   *RBAC
	hasher *passwords.Hasher
	policy *passwords.Policy
	mailer Mailer
	audit  Auditor
	now    func() time.Time
}

// NewService returns the staff service. mailer may be nil where no mail is
// sent (the CLI); then Invite fails.
func NewService(db *gorm.DB, rbac *RBAC, hasher *passwords.Hasher, policy *passwords.Policy, mailer Mailer, auditor Auditor) *Service {
	return &Service{db: db, staff: staffStore{db: db}, rbac: rbac, hasher: hasher, policy: policy, mailer: mailer, audit: auditor,
		now: func() time.Time { return time.Now().UTC() }}
}

// RBAC returns the enforcer the service changes, for the console's guard.
func (s *Service) RBAC() *RBAC { return s.rbac }

// ErrBadCredentials is the one answer to a failed sign-in, whether the
// email is unknown, the password wrong, or the account not active.
var ErrBadCredentials = apperr.New(apperr.Unauthorized, "Wrong email or password.")

// Authenticate checks an email and password from ip. Every failure costs
// one hash and returns ErrBadCredentials, so neither the answer nor its
// timing tells whether the account exists. A hash with outdated parameters
// is replaced. Both outcomes are audited (staff.login, staff.login.failed).
func (s *Service) Authenticate(ctx context.Context, email, password, ip string) (Staff, error) {
	st, err := s.authenticate(ctx, email, password)
	switch {
	case err == nil:
		s.record(ctx, Actor{StaffID: st.ID, Email: st.Email, IP: ip}, PlatformDomain, "staff.login", st.Email, nil)
	case errors.Is(err, ErrBadCredentials):
		target := strings.ToLower(strings.TrimSpace(email))
		if len(target) > 254 {
			target = target[:254]
		}
		s.record(ctx, Actor{IP: ip}, PlatformDomain, "staff.login.failed", target, nil)
	}
	return st, err
}

func (s *Service) authenticate(ctx context.Context, email, password string) (Staff, error) {
	var row staffRow
	var encoded string
	norm, err := NormalizeEmail(email)
	if err == nil {
		row, err = s.staff.byEmail(ctx, norm)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return Staff{}, err
		}
		if err == nil && row.PasswordHash != nil && row.Status == string(Active) {
			encoded = *row.PasswordHash
		}
	}
	ok, rehash, verr := s.hasher.Verify(ctx, encoded, password)
	if verr != nil {
		return Staff{}, verr
	}
	if !ok || encoded == "" {
		return Staff{}, ErrBadCredentials
	}
	now := s.now()
	cols := map[string]any{"last_login_at": now}
	if rehash {
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			cols["password_hash"] = h
		}
	}
	if err := s.staff.update(ctx, s.db, row.ID, cols); err != nil {
		return Staff{}, err
	}
	out := row.staff()
	out.LastLoginAt = now
	return out, nil
}

// ByID returns one staff member.
func (s *Service) ByID(ctx context.Context, id uuid.UUID) (Staff, error) {
	r, err := s.staff.byID(ctx, id)
	if err != nil {
		return Staff{}, err
	}
	return r.staff(), nil
}

// ByEmail returns one staff member.
func (s *Service) ByEmail(ctx context.Context, email string) (Staff, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return Staff{}, err
	}
	r, err := s.staff.byEmail(ctx, norm)
	if err != nil {
		return Staff{}, err
	}
	return r.staff(), nil
}

// NewStaff is an account made by an operator (the CLI, dev seeding).
type NewStaff struct {
	Email    string
	Password string
	Role     Role
	Domain   string // PlatformDomain for platform-admin, else a TenantDomain
}

// Create makes an active staff account with one role, in one transaction.
func (s *Service) Create(ctx context.Context, actor Actor, n NewStaff) (Staff, error) {
	email, err := NormalizeEmail(n.Email)
	if err != nil {
		return Staff{}, err
	}
	if err := s.policy.Check("password", n.Password, MinPasswordLength, email); err != nil {
		return Staff{}, err
	}
	hash, err := s.hasher.Hash(ctx, n.Password)
	if err != nil {
		return Staff{}, err
	}
	now := s.now()
	row := staffRow{ID: uuid.Must(uuid.NewV7()), Email: email, PasswordHash: &hash, Status: string(Active), CreatedAt: now, UpdatedAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.staff.insert(ctx, tx, &row); err != nil {
			return err
		}
		return s.rbac.assign(ctx, tx, row.ID, n.Role, n.Domain)
	})
	if err != nil {
		return Staff{}, err
	}
	s.record(ctx, actor, n.Domain, "staff.created", email, map[string]any{"role": string(n.Role)})
	return row.staff(), s.rbac.changed(ctx)
}

// SetPassword replaces a staff member's password and activates an
// invited account (an operator's reset from the CLI).
func (s *Service) SetPassword(ctx context.Context, actor Actor, email, password string) (Staff, error) {
	st, err := s.ByEmail(ctx, email)
	if err != nil {
		return Staff{}, err
	}
	if err := s.policy.Check("password", password, MinPasswordLength, st.Email); err != nil {
		return Staff{}, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return Staff{}, err
	}
	cols := map[string]any{"password_hash": hash}
	if st.Status == Invited {
		cols["status"] = string(Active)
	}
	if err := s.staff.update(ctx, s.db, st.ID, cols); err != nil {
		return Staff{}, err
	}
	s.record(ctx, actor, PlatformDomain, "staff.password.set", st.Email, nil)
	return s.ByID(ctx, st.ID)
}

// Grant gives an existing staff member a role in domain.
func (s *Service) Grant(ctx context.Context, actor Actor, staffID uuid.UUID, role Role, domain string) error {
	st, err := s.ByID(ctx, staffID)
	if err != nil {
		return err
	}
	before, _, err := s.rbac.RoleIn(ctx, staffID, domain)
	if err != nil {
		return err
	}
	if err := s.rbac.Assign(ctx, staffID, role, domain); err != nil {
		return err
	}
	s.record(ctx, actor, domain, "staff.role.granted", st.Email, map[string]any{"before": string(before), "after": string(role)})
	return nil
}

// Member is a staff member with their role in one tenant.
type Member struct {
	Staff
	Role Role
}

// Members lists a tenant's staff, by email.
func (s *Service) Members(ctx context.Context, tenantID uuid.UUID) ([]Member, error) {
	ms, err := s.rbac.Members(ctx, TenantDomain(tenantID))
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.StaffID)
	}
	rows, err := s.staff.byIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		if r, ok := rows[m.StaffID]; ok {
			out = append(out, Member{Staff: r.staff(), Role: m.Role})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, nil
}

// Member returns one member of a tenant; someone who is not one is
// NotFound, whoever they are elsewhere.
func (s *Service) Member(ctx context.Context, tenantID, staffID uuid.UUID) (Member, error) {
	domain := TenantDomain(tenantID)
	ms, err := s.rbac.Memberships(ctx, staffID)
	if err != nil {
		return Member{}, err
	}
	for _, m := range ms {
		if m.Domain == domain {
			st, err := s.ByID(ctx, staffID)
			if err != nil {
				return Member{}, err
			}
			return Member{Staff: st, Role: m.Role}, nil
		}
	}
	return Member{}, errNoStaff
}

// SetRole changes a tenant member's role. Someone who is not a member of
// the tenant is NotFound: an owner cannot pull in staff by id.
func (s *Service) SetRole(ctx context.Context, actor Actor, tenantID, staffID uuid.UUID, role Role) error {
	if !slices.Contains(TenantRoles, role) {
		return apperr.Field("role", "%q is not a tenant role", role)
	}
	m, err := s.Member(ctx, tenantID, staffID)
	if err != nil {
		return err
	}
	if m.Role == role {
		return nil
	}
	domain := TenantDomain(tenantID)
	if err := s.rbac.Assign(ctx, staffID, role, domain); err != nil {
		return err
	}
	s.record(ctx, actor, domain, "staff.role.changed", m.Email, map[string]any{"before": string(m.Role), "after": string(role)})
	return nil
}

// Remove takes a member's role in the tenant away. Their account stays:
// they may belong to other tenants.
func (s *Service) Remove(ctx context.Context, actor Actor, tenantID, staffID uuid.UUID) error {
	m, err := s.Member(ctx, tenantID, staffID)
	if err != nil {
		return err
	}
	domain := TenantDomain(tenantID)
	if err := s.rbac.Unassign(ctx, staffID, domain); err != nil {
		return err
	}
	s.record(ctx, actor, domain, "staff.removed", m.Email, map[string]any{"before": string(m.Role)})
	return nil
}

// Tenants returns the tenant ids staffID holds a role in, with the role.
// A platform admin's "*" membership is left out; see IsPlatformAdmin.
func (s *Service) Tenants(ctx context.Context, staffID uuid.UUID) (map[uuid.UUID]Role, error) {
	ms, err := s.rbac.Memberships(ctx, staffID)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID]Role{}
	for _, m := range ms {
		if id, err := uuid.Parse(m.Domain); err == nil {
			out[id] = m.Role
		}
	}
	return out, nil
}

// IsPlatformAdmin reports whether staffID holds platform-admin.
func (s *Service) IsPlatformAdmin(ctx context.Context, staffID uuid.UUID) (bool, error) {
	return s.rbac.Allowed(ctx, staffID, PlatformDomain, Perm{Platform, Read})
}

// HasPlatformAdmin reports whether anyone holds platform-admin (dev seeding).
func (s *Service) HasPlatformAdmin(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&ruleRow{}).Where("ptype = ? AND v1 = ? AND v2 = ?", "g", string(PlatformAdmin), PlatformDomain).Count(&n).Error
	if err != nil {
		return false, apperr.Wrap(err, "count platform admins")
	}
	return n > 0, nil
}

// Invitation is an owner's request to bring someone into a tenant.
type Invitation struct {
	TenantID uuid.UUID
	Email    string
	Role     Role
}

// tokenRow is an invitation in one_time_tokens, stored by its SHA-256.
// The role it grants is in Data; the tenant is the row's own tenant_id.
type tokenRow struct {
	ID        string
	TenantID  *uuid.UUID
	SubjectID uuid.UUID
	Purpose   string
	Data      datatypes.JSON
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (tokenRow) TableName() string { return "one_time_tokens" }

// inviteData is what an invitation token carries besides its tenant and
// invitee.
type inviteData struct {
	Role      Role   `json:"role"`
	InvitedBy string `json:"invited_by,omitempty"`
}

// Invite asks email to join the tenant with a role, by a single-use link
// valid for InviteTTL. Nothing is granted until the invitee accepts:
// someone without an account chooses a password (AcceptInvite), someone
// with one signs in and accepts (AcceptInviteAs). So that one tenant's
// owner learns nothing about other tenants, the answer, the audit detail
// and the mail do not depend on whether the address already has an
// account. A person who is already a member is a Conflict; a new
// invitation to the same person replaces a pending one.
func (s *Service) Invite(ctx context.Context, actor Actor, in Invitation) error {
	if s.mailer == nil {
		return apperr.New(apperr.Unavailable, "invitations need mail, which is not set up")
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return err
	}
	if !slices.Contains(TenantRoles, in.Role) {
		return apperr.Field("role", "choose owner, admin or support")
	}
	domain := TenantDomain(in.TenantID)
	now := s.now()
	var token string
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := staffStore{db: tx}.byEmail(ctx, email)
		switch {
		case apperr.Is(err, apperr.NotFound):
			// An account that cannot sign in until its password is chosen.
			row = staffRow{ID: uuid.Must(uuid.NewV7()), Email: email, Status: string(Invited), CreatedAt: now, UpdatedAt: now}
			if err := s.staff.insert(ctx, tx, &row); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			var n int64
			if err := tx.Model(&ruleRow{}).Where("ptype = ? AND v0 = ? AND v2 = ?", "g", row.ID.String(), domain).Count(&n).Error; err != nil {
				return apperr.Wrap(err, "check membership")
			}
			if n > 0 {
				return &apperr.Error{Code: apperr.Conflict, Field: "email", Message: email + " is already a member of this tenant"}
			}
		}
		if err := revokeInvites(ctx, tx, in.TenantID, row.ID, now); err != nil {
			return err
		}
		token, err = s.newToken(ctx, tx, in.TenantID, row.ID, inviteData{Role: in.Role, InvitedBy: actor.Email}, now)
		return err
	})
	if err != nil {
		return err
	}
	s.record(ctx, actor, domain, "staff.invited", email, map[string]any{"role": string(in.Role)})
	mailErr := s.mailer.StaffInvited(ctx, InviteMail{TenantID: in.TenantID, To: email, Role: in.Role, InvitedBy: actor.Email, Token: token, Expires: now.Add(InviteTTL)})
	if mailErr != nil {
		return apperr.Wrap(mailErr, "queue invitation mail")
	}
	return nil
}

// revokeInvites spends every pending invitation of staffID to tenantID.
func revokeInvites(ctx context.Context, tx *gorm.DB, tenantID, staffID uuid.UUID, now time.Time) error {
	err := tx.WithContext(ctx).Model(&tokenRow{}).
		Where("tenant_id = ? AND subject_id = ? AND purpose = ? AND used_at IS NULL", tenantID, staffID, invitePurpose).
		Update("used_at", now).Error
	if err != nil {
		return apperr.Wrap(err, "revoke invitations")
	}
	return nil
}

// newToken stores a fresh invitation token's hash and returns the token:
// 256 bits from crypto/rand.
func (s *Service) newToken(ctx context.Context, tx *gorm.DB, tenantID, staffID uuid.UUID, data inviteData, now time.Time) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", apperr.Wrap(err, "invitation token")
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	b, err := json.Marshal(data)
	if err != nil {
		return "", apperr.Wrap(err, "invitation data")
	}
	tid := tenantID
	r := tokenRow{ID: hashToken(token), TenantID: &tid, SubjectID: staffID, Purpose: invitePurpose, Data: datatypes.JSON(b), CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
	if err := tx.WithContext(ctx).Create(&r).Error; err != nil {
		return "", apperr.Wrap(err, "store invitation token")
	}
	return token, nil
}

// PendingInvite is an invitation to a tenant that has been neither
// accepted, revoked nor left to expire. It says nothing about whether the
// invitee has an account, which is none of the tenant's business.
type PendingInvite struct {
	StaffID   uuid.UUID // the id to revoke it by
	Email     string
	Role      Role
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Invitations lists a tenant's pending invitations, by email.
func (s *Service) Invitations(ctx context.Context, tenantID uuid.UUID) ([]PendingInvite, error) {
	if tenantID == uuid.Nil {
		return nil, nil
	}
	var rows []tokenRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", tenantID, invitePurpose, s.now()).
		Find(&rows).Error
	if err != nil {
		return nil, apperr.Wrap(err, "list invitations")
	}
	ids := make([]uuid.UUID, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.SubjectID)
	}
	staff, err := s.staff.byIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]PendingInvite, 0, len(rows))
	for _, r := range rows {
		st, ok := staff[r.SubjectID]
		if !ok {
			continue
		}
		var d inviteData
		_ = json.Unmarshal(r.Data, &d)
		out = append(out, PendingInvite{StaffID: r.SubjectID, Email: st.Email, Role: d.Role, InvitedBy: d.InvitedBy, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, nil
}

// ErrNoInvite is RevokeInvite's answer when the tenant has no pending
// invitation of that person, whoever they are elsewhere.
var ErrNoInvite = apperr.New(apperr.NotFound, "no such invitation")

// RevokeInvite withdraws the tenant's pending invitation of staffID: the
// link stops working. An invitation of another tenant is NotFound.
func (s *Service) RevokeInvite(ctx context.Context, actor Actor, tenantID, staffID uuid.UUID) error {
	if tenantID == uuid.Nil {
		return ErrNoInvite
	}
	st, err := s.staff.byID(ctx, staffID)
	if err != nil {
		return ErrNoInvite
	}
	res := s.db.WithContext(ctx).Model(&tokenRow{}).
		Where("tenant_id = ? AND subject_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", tenantID, staffID, invitePurpose, s.now()).
		Update("used_at", s.now())
	if res.Error != nil {
		return apperr.Wrap(res.Error, "revoke invitation")
	}
	if res.RowsAffected == 0 {
		return ErrNoInvite
	}
	s.record(ctx, actor, TenantDomain(tenantID), "staff.invite.revoked", st.Email, nil)
	return nil
}

// ErrBadInvite is the one answer for an unknown, used, revoked or expired
// link.
var ErrBadInvite = &apperr.Error{Code: apperr.NotFound, Field: "token", Message: "This invitation link is invalid, has been used, or has expired. Ask for a new invitation."}

// ErrNotInvitee refuses an invitation accepted by a signed-in staff
// member other than the one it was sent to; the link stays usable.
var ErrNotInvitee = apperr.New(apperr.Forbidden, "This invitation is for another account. Sign out, then sign in as the person it was sent to.")

// ErrSignInToAccept says an invitation to someone who already has an
// account is accepted signed in, not by choosing a password.
var ErrSignInToAccept = apperr.New(apperr.Unauthorized, "Sign in to accept this invitation.")

// InviteLink is a live invitation as its link's page shows it.
type InviteLink struct {
	Staff    Staff
	TenantID uuid.UUID
	Role     Role
	// NeedsPassword is true when the invitee has no password yet and
	// accepts by choosing one; otherwise they accept signed in.
	NeedsPassword bool
}

// InviteFor returns the live invitation a token stands for.
func (s *Service) InviteFor(ctx context.Context, token string) (InviteLink, error) {
	if token == "" || len(token) > 100 {
		return InviteLink{}, ErrBadInvite
	}
	var r tokenRow
	err := s.db.WithContext(ctx).Where("id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), invitePurpose, s.now()).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return InviteLink{}, ErrBadInvite
	}
	if err != nil {
		return InviteLink{}, apperr.Wrap(err, "find invitation")
	}
	return inviteOf(ctx, s.db, r)
}

// inviteOf reads the invitation r on db. An invitation made before roles
// waited for acceptance carries no role: its role was granted when it was
// sent, and accepting it only sets the password.
func inviteOf(ctx context.Context, db *gorm.DB, r tokenRow) (InviteLink, error) {
	row, err := staffStore{db: db}.byID(ctx, r.SubjectID)
	if err != nil || row.Status == string(Disabled) || r.TenantID == nil {
		return InviteLink{}, ErrBadInvite
	}
	var d inviteData
	_ = json.Unmarshal(r.Data, &d)
	if d.Role == "" {
		var rules []ruleRow
		if err := db.WithContext(ctx).Where("ptype = ? AND v0 = ? AND v2 = ?", "g", row.ID.String(), TenantDomain(*r.TenantID)).Limit(1).Find(&rules).Error; err != nil {
			return InviteLink{}, apperr.Wrap(err, "read invitation role")
		}
		if len(rules) == 1 {
			d.Role = Role(rules[0].V1)
		}
	}
	if !slices.Contains(TenantRoles, d.Role) {
		return InviteLink{}, ErrBadInvite
	}
	return InviteLink{Staff: row.staff(), TenantID: *r.TenantID, Role: d.Role, NeedsPassword: row.PasswordHash == nil}, nil
}

// AcceptInvite accepts an invitation to someone without a password: it
// sets the password, activates the account and grants the role in the
// invitation's own tenant, in one transaction that also spends the token
// by a conditional update, so two concurrent submissions cannot both
// succeed. An invitee who already has a password gets ErrSignInToAccept.
func (s *Service) AcceptInvite(ctx context.Context, token, password string) (Staff, error) {
	inv, err := s.InviteFor(ctx, token)
	if err != nil {
		return Staff{}, err
	}
	if !inv.NeedsPassword {
		return Staff{}, ErrSignInToAccept
	}
	if err := s.policy.Check("password", password, MinPasswordLength, inv.Staff.Email); err != nil {
		return Staff{}, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return Staff{}, err
	}
	inv, err = s.accept(ctx, token, func(tx *gorm.DB, inv InviteLink) error {
		if !inv.NeedsPassword {
			return ErrSignInToAccept
		}
		return s.staff.update(ctx, tx, inv.Staff.ID, map[string]any{"password_hash": hash, "status": string(Active)})
	})
	if err != nil {
		return Staff{}, err
	}
	return s.ByID(ctx, inv.Staff.ID)
}

// AcceptInviteAs accepts an invitation for the signed-in staff member
// staffID, who must be its invitee (ErrNotInvitee otherwise, and the link
// stays usable). The role is granted in the invitation's own tenant, which
// is returned; the token is spent exactly once.
func (s *Service) AcceptInviteAs(ctx context.Context, token string, staffID uuid.UUID) (InviteLink, error) {
	inv, err := s.InviteFor(ctx, token)
	if err != nil {
		return InviteLink{}, err
	}
	if inv.Staff.ID != staffID {
		return InviteLink{}, ErrNotInvitee
	}
	return s.accept(ctx, token, func(tx *gorm.DB, inv InviteLink) error {
		if inv.Staff.ID != staffID {
			return ErrNotInvitee
		}
		return nil
	})
}

// accept spends token and grants its role in its tenant, with prepare run
// first in the same transaction.
func (s *Service) accept(ctx context.Context, token string, prepare func(tx *gorm.DB, inv InviteLink) error) (InviteLink, error) {
	if token == "" || len(token) > 100 {
		return InviteLink{}, ErrBadInvite
	}
	now := s.now()
	var inv InviteLink
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&tokenRow{}).
			Where("id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), invitePurpose, now).
			Update("used_at", now)
		if res.Error != nil {
			return apperr.Wrap(res.Error, "spend invitation")
		}
		if res.RowsAffected != 1 {
			return ErrBadInvite
		}
		var r tokenRow
		if err := tx.Where("id = ?", hashToken(token)).Take(&r).Error; err != nil {
			return apperr.Wrap(err, "read invitation")
		}
		var err error
		if inv, err = inviteOf(ctx, tx, r); err != nil {
			return err
		}
		if err := prepare(tx, inv); err != nil {
			return err
		}
		domain := TenantDomain(inv.TenantID)
		var n int64
		if err := tx.Model(&ruleRow{}).Where("ptype = ? AND v0 = ? AND v2 = ?", "g", inv.Staff.ID.String(), domain).Count(&n).Error; err != nil {
			return apperr.Wrap(err, "check membership")
		}
		if n > 0 {
			// Already a member (given a role since, or an invitation from
			// before roles waited): the role they hold stays.
			return nil
		}
		return s.rbac.assign(ctx, tx, inv.Staff.ID, inv.Role, domain)
	})
	if err != nil {
		return InviteLink{}, err
	}
	if err := s.rbac.changed(ctx); err != nil {
		return InviteLink{}, err
	}
	s.record(ctx, Actor{StaffID: inv.Staff.ID, Email: inv.Staff.Email}, TenantDomain(inv.TenantID), "staff.invite.accepted", inv.Staff.Email, map[string]any{"role": string(inv.Role)})
	return inv, nil
}

// record writes an audit event in domain's tenant (none for "*"). A
// failure is logged by the recorder and does not undo the change.
func (s *Service) record(ctx context.Context, actor Actor, domain, action, target string, detail map[string]any) {
	if s.audit == nil {
		return
	}
	e := audit.Event{Actor: actor.Name(), Action: action, Target: target, IP: actor.IP, Detail: detail}
	if id, err := uuid.Parse(domain); err == nil {
		e.TenantID = id
	}
	_ = s.audit.Record(ctx, e)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
