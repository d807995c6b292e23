package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/app/apperr"
)

type customerRow struct {
	ID                uuid.UUID
	TenantID          uuid.UUID
	Email             string
	EmailVerified     bool
	PasswordHash      *string
	Status            string
	Profile           datatypes.JSON
	ProfilePromptedAt *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	LastLoginAt       *time.Time
}

func (customerRow) TableName() string { return "customers" }

type identityRow struct {
	ID         uuid.UUID
	TenantID   uuid.UUID
	CustomerID uuid.UUID
	Provider   string
	Subject    string
	Email      string
	Claims     datatypes.JSON
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (identityRow) TableName() string { return "identities" }

// Store keeps customers. Use For to get a store bound to one tenant: every
// query it makes carries that tenant, so a query without one cannot be
// written by accident.
type Store struct {
	db *gorm.DB
}

// NewStore returns a store on db.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// TenantStore is a Store bound to one tenant.
type TenantStore struct {
	db       *gorm.DB
	tenantID uuid.UUID
}

// For binds the store to tenantID. A nil id gives a store whose queries
// match nothing, never everything.
func (s *Store) For(tenantID uuid.UUID) TenantStore {
	return TenantStore{db: s.db, tenantID: tenantID}
}

var errNoCustomer = apperr.New(apperr.NotFound, "no such customer")

func (s TenantStore) q(ctx context.Context) *gorm.DB {
	if s.tenantID == uuid.Nil {
		return s.db.WithContext(ctx).Where("1 = 0")
	}
	return s.db.WithContext(ctx).Where("tenant_id = ?", s.tenantID)
}

// Create stores a new customer. An address already registered with this
// tenant is a Conflict on the email field.
func (s TenantStore) Create(ctx context.Context, c *Customer) error {
	if s.tenantID == uuid.Nil {
		return apperr.New(apperr.Internal, "accounts: no tenant")
	}
	profile, err := json.Marshal(c.Profile)
	if err != nil || c.Profile == nil {
		profile = []byte("{}")
	}
	r := customerRow{
		ID: c.ID, TenantID: s.tenantID, Email: c.Email, EmailVerified: c.EmailVerified, Status: c.Status,
		Profile: profile, ProfilePromptedAt: c.ProfilePromptedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.passwordHash != "" {
		h := c.passwordHash
		r.PasswordHash = &h
	}
	err = s.db.WithContext(ctx).Create(&r).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return &apperr.Error{Code: apperr.Conflict, Field: "email", Message: "An account with this email already exists. Log in instead."}
	}
	if err != nil {
		return apperr.Wrap(err, "create customer")
	}
	c.TenantID = s.tenantID
	return nil
}

// ByEmail finds a customer by normalised email.
func (s TenantStore) ByEmail(ctx context.Context, email string) (*Customer, error) {
	return s.one(ctx, "email = ?", email)
}

// ByID finds a customer by id.
func (s TenantStore) ByID(ctx context.Context, id uuid.UUID) (*Customer, error) {
	return s.one(ctx, "id = ?", id)
}

func (s TenantStore) one(ctx context.Context, where string, arg any) (*Customer, error) {
	var r customerRow
	err := s.q(ctx).Where(where, arg).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNoCustomer
	}
	if err != nil {
		return nil, apperr.Wrap(err, "find customer")
	}
	return fromRow(r)
}

// update writes columns of one customer of this tenant.
func (s TenantStore) update(ctx context.Context, id uuid.UUID, cols map[string]any) error {
	cols["updated_at"] = time.Now().UTC()
	res := s.q(ctx).Model(&customerRow{}).Where("id = ?", id).Updates(cols)
	if res.Error != nil {
		return apperr.Wrap(res.Error, "update customer")
	}
	if res.RowsAffected == 0 {
		return errNoCustomer
	}
	return nil
}

// SetPasswordHash replaces the password hash.
func (s TenantStore) SetPasswordHash(ctx context.Context, id uuid.UUID, hash string) error {
	return s.update(ctx, id, map[string]any{"password_hash": hash})
}

// SetProfile replaces the profile.
func (s TenantStore) SetProfile(ctx context.Context, id uuid.UUID, profile map[string]any) error {
	b, err := json.Marshal(profile)
	if err != nil {
		return apperr.Wrap(err, "encode profile")
	}
	return s.update(ctx, id, map[string]any{"profile": datatypes.JSON(b)})
}

// MarkVerified records that the customer proved the email address.
func (s TenantStore) MarkVerified(ctx context.Context, id uuid.UUID, email string) error {
	res := s.q(ctx).Model(&customerRow{}).Where("id = ? AND email = ?", id, email).
		Updates(map[string]any{"email_verified": true, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "verify email")
	}
	if res.RowsAffected == 0 {
		return errNoCustomer
	}
	return nil
}

// RecordLogin stamps the login time, and stores newHash when the password
// was re-hashed with current parameters.
func (s TenantStore) RecordLogin(ctx context.Context, id uuid.UUID, at time.Time, newHash string) error {
	cols := map[string]any{"last_login_at": at}
	if newHash != "" {
		cols["password_hash"] = newHash
	}
	return s.update(ctx, id, cols)
}

// SetPrompted stamps when the customer was last asked for optional fields.
func (s TenantStore) SetPrompted(ctx context.Context, id uuid.UUID, at time.Time) error {
	return s.update(ctx, id, map[string]any{"profile_prompted_at": at})
}

// Identities lists the customer's linked sign-ins.
func (s TenantStore) Identities(ctx context.Context, customerID uuid.UUID) ([]Identity, error) {
	var rows []identityRow
	if err := s.q(ctx).Where("customer_id = ?", customerID).Order("provider").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list identities")
	}
	out := make([]Identity, 0, len(rows))
	for _, r := range rows {
		out = append(out, Identity{Provider: r.Provider, Subject: r.Subject, Email: r.Email})
	}
	return out, nil
}

func fromRow(r customerRow) (*Customer, error) {
	c := &Customer{
		ID: r.ID, TenantID: r.TenantID, Email: r.Email, EmailVerified: r.EmailVerified, Status: r.Status,
		ProfilePromptedAt: r.ProfilePromptedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, LastLoginAt: r.LastLoginAt,
	}
	if r.PasswordHash != nil {
		c.passwordHash = *r.PasswordHash
	}
	c.Profile = map[string]any{}
	if len(r.Profile) > 0 {
		if err := json.Unmarshal(r.Profile, &c.Profile); err != nil {
			return nil, apperr.Wrap(err, "decode profile")
		}
	}
	return c, nil
}
