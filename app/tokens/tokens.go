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
)

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
	r := row{ID: hash(token), TenantID: &tenantID, SubjectID: subjectID, Purpose: string(purpose), Data: b, CreatedAt: now, ExpiresAt: now.Add(ttl)}
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
	if token == "" || len(token) > 100 || tenantID == uuid.Nil {
		return Redeemed{}, ErrInvalid
	}
	id := hash(token)
	now := s.now()
	var out Redeemed
	err := txn.DB(ctx, s.db).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&row{}).
			Where("id = ? AND tenant_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", id, tenantID, string(purpose), now).
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
	if token == "" || len(token) > 100 || tenantID == uuid.Nil {
		return ErrInvalid
	}
	var n int64
	err := s.db.WithContext(ctx).Model(&row{}).
		Where("id = ? AND tenant_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hash(token), tenantID, string(purpose), s.now()).
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
	err := s.db.WithContext(ctx).Model(&row{}).
		Where("tenant_id = ? AND subject_id = ? AND purpose = ? AND used_at IS NULL", tenantID, subjectID, string(purpose)).
		Update("used_at", s.now()).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.Wrap(err, "revoke tokens")
	}
	return nil
}

func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Peek returns what a redeemable token is for, without using it: a
// multi-step flow reads its state on every step and redeems the token
// only on the last one.
func (s *Store) Peek(ctx context.Context, tenantID uuid.UUID, purpose Purpose, token string) (Redeemed, error) {
	if token == "" || len(token) > 100 || tenantID == uuid.Nil {
		return Redeemed{}, ErrInvalid
	}
	var r row
	err := s.db.WithContext(ctx).
		Where("id = ? AND tenant_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hash(token), tenantID, string(purpose), s.now()).
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
