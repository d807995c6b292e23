// Package access is who may use the console and what they may do there:
// staff accounts (email, argon2id password, status), their sign-in, the
// invitations that bring new staff in, and role-based access control with
// casbin, where each tenant is a casbin domain and platform admins hold
// their role in the domain "*".
//
// The database is the source of truth for both accounts and roles; the
// casbin enforcer is a read model of the casbin_rules table that every node
// reloads when the shared policy clock moves, so a role taken away on one
// node is gone on all of them before the next request.
package access

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

// Status says whether a staff member may sign in.
type Status string

// The statuses.
const (
	Active   Status = "active"   // may sign in
	Invited  Status = "invited"  // invited, has not set a password yet
	Disabled Status = "disabled" // may not sign in; sessions were ended
)

// Staff is a console user as the rest of the program sees it. It has no
// password hash, so none can reach a view.
type Staff struct {
	ID          uuid.UUID
	Email       string
	Status      Status
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt time.Time // zero when never signed in
}

type staffRow struct {
	ID           uuid.UUID
	Email        string
	PasswordHash *string
	Status       string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  *time.Time
}

func (staffRow) TableName() string { return "staff" }

func (r staffRow) staff() Staff {
	s := Staff{ID: r.ID, Email: r.Email, Status: Status(r.Status), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.LastLoginAt != nil {
		s.LastLoginAt = r.LastLoginAt.UTC()
	}
	return s
}

// staffStore keeps staff rows. Staff are platform-wide, not tenant-scoped:
// what ties a person to a tenant is a role in casbin_rules.
type staffStore struct {
	db *gorm.DB
}

func (s staffStore) insert(ctx context.Context, tx *gorm.DB, r *staffRow) error {
	var n int64
	if err := tx.WithContext(ctx).Model(&staffRow{}).Where("email = ?", r.Email).Count(&n).Error; err != nil {
		return apperr.Wrap(err, "check staff email")
	}
	if n > 0 {
		return &apperr.Error{Code: apperr.Conflict, Field: "email", Message: r.Email + " already has a staff account"}
	}
	if err := tx.WithContext(ctx).Create(r).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return &apperr.Error{Code: apperr.Conflict, Field: "email", Message: r.Email + " already has a staff account"}
		}
		return apperr.Wrap(err, "create staff")
	}
	return nil
}

func (s staffStore) byEmail(ctx context.Context, email string) (staffRow, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, errNoStaff
	}
	if err != nil {
		return r, apperr.Wrap(err, "find staff")
	}
	return r, nil
}

func (s staffStore) byID(ctx context.Context, id uuid.UUID) (staffRow, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, errNoStaff
	}
	if err != nil {
		return r, apperr.Wrap(err, "find staff")
	}
	return r, nil
}

func (s staffStore) byIDs(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]staffRow, error) {
	out := make(map[uuid.UUID]staffRow, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []staffRow
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list staff")
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

func (s staffStore) update(ctx context.Context, tx *gorm.DB, id uuid.UUID, cols map[string]any) error {
	cols["updated_at"] = time.Now().UTC()
	res := tx.WithContext(ctx).Model(&staffRow{}).Where("id = ?", id).Updates(cols)
	if res.Error != nil {
		return apperr.Wrap(res.Error, "update staff")
	}
	if res.RowsAffected == 0 {
		return errNoStaff
	}
	return nil
}

var errNoStaff = apperr.New(apperr.NotFound, "no such staff member")

// NormalizeEmail returns email trimmed and case-folded, or an Invalid error
// on field "email". Staff emails are compared case-insensitively, so the
// folded form is what is stored and looked up.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return "", apperr.Field("email", "is required")
	}
	if utf8.RuneCountInString(e) > 254 || !utf8.ValidString(e) {
		return "", apperr.Field("email", "is not a valid email address")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || !strings.Contains(e[strings.LastIndexByte(e, '@'):], ".") {
		return "", apperr.Field("email", "%q is not a valid email address", email)
	}
	return e, nil
}
