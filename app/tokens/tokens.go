// Package tokens issues and redeems one-time tokens: password resets, email
// verification and invitations. A token has 256 bits from crypto/rand and is
// stored only as its SHA-256; it expires, and redeeming it is one guarded
// UPDATE, so two concurrent redemptions cannot both succeed.
package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/apperr"
	"gatehouse/txn"
)

// Purpose keeps a token for one job from being used for another.
type Purpose string

// The purposes.
const (
	Reset       Purpose = "password_reset"
	Verify      Purpose = "email_verify"
	SetPassword Purpose = "set_password" // "set your password" campaigns for imported customers
	// StaffReset is a staff member's forgotten-password link. Staff
	// belong to no one tenant, so its tokens are platform tokens
	// (IssuePlatform and the like), under the same rules as customers'.
	StaffReset Purpose = "staff_password_reset"
)

// platform scopes a token to no tenant: tenant_id IS NULL. Only the
// Platform methods use it, so a tenant's call can never reach one.
var platform = uuid.Nil

type row struct {
	ID        string
	TenantID  *uuid.UUID
	SubjectID uuid.UUID
	Purpose   string
	Data      datatypes.JSON
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (row) TableName() string { return "one_time_tokens" }

// Store issues and redeems tokens.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStore returns a store on db.
func NewStore(db *gorm.DB) *Store {
	return &Store{db: db, now: func() time.Time { return time.Now().UTC() }}
}

// ErrInvalid is the one answer for an unknown, expired, used or foreign
// token: the caller learns nothing about which.
var ErrInvalid = apperr.New(apperr.Invalid, "This link has expired or was already used.")

// Issue makes a token for subject in tenant, valid for ttl. Data is kept
// with it (for example the email a verification link confirms).
func (s *Store) Issue(ctx context.Context, tenantID, subjectID uuid.UUID, purpose Purpose, ttl time.Duration, data map[string]string) (string, error) {
	if tenantID == uuid.Nil {
		return "", apperr.New(apperr.Internal, "tokens: a tenant is required")
	}
	return s.issue(ctx, tenantID, subjectID, purpose, ttl, data)
}

// IssuePlatform is Issue for a token of no tenant (a staff member's).
func (s *Store) IssuePlatform(ctx context.Context, subjectID uuid.UUID, purpose Purpose, ttl time.Duration, data map[string]string) (string, error) {
	return s.issue(ctx, platform, subjectID, purpose, ttl, data)
}

func (s *Store) issue(ctx context.Context, tenantID, subjectID uuid.UUID, purpose Purpose, ttl time.Duration, data map[string]string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", apperr.Wrap(err, "token")
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	b, _ := json.Marshal(data)
	if data == nil {
		b = []byte("{}")
	}
	now := s.now()
	r := row{ID: hash(token), TenantID: tenantColumn(tenantID), SubjectID: subjectID, Purpose: string(purpose), Data: b, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := txn.DB(ctx, s.db).Create(&r).Error; err != nil {
		return "", apperr.Wrap(err, "issue token")
	}
	return token, nil
}

// Redeemed is what a used token was for.
type Redeemed struct {
	SubjectID uuid.UUID
	Data      map[string]string
}

// Redeem uses token once. It succeeds only if the token exists for this
// tenant and purpose, has not expired and has not been used; the check and
// the marking are one UPDATE, so of many concurrent calls exactly one wins.
func (s *Store) Redeem(ctx context.Context, tenantID uuid.UUID, purpose Purpose, token string) (Redeemed, error) {
	if tenantID == uuid.Nil {
		return Redeemed{}, ErrInvalid
	}
	return s.redeem(ctx, tenantID, purpose, token)
}

// RedeemPlatform is Redeem for a token of no tenant.
func (s *Store) RedeemPlatform(ctx context.Context, purpose Purpose, token string) (Redeemed, error) {
	return s.redeem(ctx, platform, purpose, token)
}

func (s *Store) redeem(ctx context.Context, tenantID uuid.UUID, purpose Purpose, token string) (Redeemed, error) {
	if token == "" || len(token) > 100 {
		return Redeemed{}, ErrInvalid
	}
	id := hash(token)
	now := s.now()
	var out Redeemed
	err := txn.DB(ctx, s.db).Transaction(func(tx *gorm.DB) error {
		res := inTenant(tx.Model(&row{}), tenantID).
			Where("id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", id, string(purpose), now).
			Update("used_at", now)
		if res.Error != nil {
			return apperr.Wrap(res.Error, "redeem token")
		}
		if res.RowsAffected != 1 {
			return ErrInvalid
		}
		var r row
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return apperr.Wrap(err, "read token")
		}
		out.SubjectID = r.SubjectID
		_ = json.Unmarshal(r.Data, &out.Data)
		return nil
	})
	return out, err
}

// Check reports whether token is currently redeemable, without using it,
// so a form can say "expired" before the customer types a new password.
func (s *Store) Check(ctx context.Context, tenantID uuid.UUID, purpose Purpose, token string) error {
	if tenantID == uuid.Nil {
		return ErrInvalid
	}
	return s.check(ctx, tenantID, purpose, token)
}

// CheckPlatform is Check for a token of no tenant.
func (s *Store) CheckPlatform(ctx context.Context, purpose Purpose, token string) error {
	return s.check(ctx, platform, purpose, token)
}

func (s *Store) check(ctx context.Context, tenantID uuid.UUID, purpose Purpose, token string) error {
	if token == "" || len(token) > 100 {
		return ErrInvalid
	}
	var n int64
	err := inTenant(s.db.WithContext(ctx).Model(&row{}), tenantID).
		Where("id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hash(token), string(purpose), s.now()).
		Count(&n).Error
	if err != nil {
		return apperr.Wrap(err, "check token")
	}
	if n != 1 {
		return ErrInvalid
	}
	return nil
}

// Revoke invalidates every unused token of subject for purpose: a new reset
// link makes the older ones worthless.
func (s *Store) Revoke(ctx context.Context, tenantID, subjectID uuid.UUID, purpose Purpose) error {
	if tenantID == uuid.Nil {
		return nil // no tenant's tokens: nothing to revoke
	}
	return s.revoke(ctx, tenantID, subjectID, purpose)
}

// RevokePlatform is Revoke for tokens of no tenant.
func (s *Store) RevokePlatform(ctx context.Context, subjectID uuid.UUID, purpose Purpose) error {
	return s.revoke(ctx, platform, subjectID, purpose)
}

func (s *Store) revoke(ctx context.Context, tenantID, subjectID uuid.UUID, purpose Purpose) error {
	err := inTenant(txn.DB(ctx, s.db).Model(&row{}), tenantID).
		Where("subject_id = ? AND purpose = ? AND used_at IS NULL", subjectID, string(purpose)).
		Update("used_at", s.now()).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.Wrap(err, "revoke tokens")
	}
	return nil
}

// inTenant scopes q to tenantID's tokens, or to the platform's (no
// tenant) for the platform scope.
func inTenant(q *gorm.DB, tenantID uuid.UUID) *gorm.DB {
	if tenantID == platform {
		return q.Where("tenant_id IS NULL")
	}
	return q.Where("tenant_id = ?", tenantID)
}

func tenantColumn(tenantID uuid.UUID) *uuid.UUID {
	if tenantID == platform {
		return nil
	}
	return &tenantID
}

func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Peek returns what a redeemable token is for, without using it: a
// multi-step flow reads its state on every step and redeems the token
// only on the last one.
func (s *Store) Peek(ctx context.Context, tenantID uuid.UUID, purpose Purpose, token string) (Redeemed, error) {
	if tenantID == uuid.Nil {
		return Redeemed{}, ErrInvalid
	}
	return s.peek(ctx, tenantID, purpose, token)
}

// PeekPlatform is Peek for a token of no tenant.
func (s *Store) PeekPlatform(ctx context.Context, purpose Purpose, token string) (Redeemed, error) {
	return s.peek(ctx, platform, purpose, token)
}

func (s *Store) peek(ctx context.Context, tenantID uuid.UUID, purpose Purpose, token string) (Redeemed, error) {
	if token == "" || len(token) > 100 {
		return Redeemed{}, ErrInvalid
	}
	var r row
	err := inTenant(s.db.WithContext(ctx), tenantID).
		Where("id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hash(token), string(purpose), s.now()).
		Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Redeemed{}, ErrInvalid
	}
	if err != nil {
		return Redeemed{}, apperr.Wrap(err, "peek token")
	}
	out := Redeemed{SubjectID: r.SubjectID}
	_ = json.Unmarshal(r.Data, &out.Data)
	return out, nil
}
