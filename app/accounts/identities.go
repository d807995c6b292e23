package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/apperr"
	"gatehouse/txn"
)

// Claims is what a social or brand provider asserted about the person
// signing in, already checked (state, nonce, signature) by the caller.
type Claims struct {
	Provider string
	// Issuer names the system whose subjects these are: the OpenID issuer
	// for oidc and Apple, the token URL for oauth2, and the kind for
	// Google, Facebook and GitHub. A subject means nothing without it: two
	// brand providers may both have a user "42".
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool              // the provider vouches for the address
	Profile       map[string]string // registration field key → value, from the claim mapping
	Raw           map[string]any    // every claim, kept on the identity
}

// issuerOf is the issuer an identity is keyed by: the claims' own, or the
// kind for providers with one issuer (Google, Facebook, GitHub).
func issuerOf(cl Claims) string {
	if cl.Issuer != "" {
		return cl.Issuer
	}
	return cl.Provider
}

// IdentityOwner returns the customer a (provider, issuer, subject) belongs
// to. The same subject from another issuer is another person.
func (s TenantStore) IdentityOwner(ctx context.Context, cl Claims) (uuid.UUID, error) {
	var r identityRow
	err := s.q(ctx).Where("provider = ? AND issuer = ? AND subject = ?", cl.Provider, issuerOf(cl), cl.Subject).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return uuid.Nil, apperr.New(apperr.NotFound, "no such identity")
	}
	if err != nil {
		return uuid.Nil, apperr.Wrap(err, "find identity")
	}
	return r.CustomerID, nil
}

func (s TenantStore) identityRow(customerID uuid.UUID, cl Claims) (identityRow, error) {
	raw, err := json.Marshal(cl.Raw)
	if err != nil || cl.Raw == nil {
		raw = []byte("{}")
	}
	now := time.Now().UTC()
	return identityRow{
		ID: uuid.Must(uuid.NewV7()), TenantID: s.tenantID, CustomerID: customerID, Provider: cl.Provider,
		Issuer: issuerOf(cl), Subject: cl.Subject, Email: cl.Email, Claims: raw, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// AddIdentity links (provider, subject) to a customer of this tenant. A pair
// already linked, to anyone, is a Conflict.
func (s TenantStore) AddIdentity(ctx context.Context, customerID uuid.UUID, cl Claims) error {
	if s.tenantID == uuid.Nil {
		return apperr.New(apperr.Internal, "accounts: no tenant")
	}
	return txn.DB(ctx, s.db).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&customerRow{}).Where("tenant_id = ? AND id = ?", s.tenantID, customerID).Count(&n).Error; err != nil {
			return apperr.Wrap(err, "find customer")
		}
		if n == 0 {
			return errNoCustomer
		}
		r, err := s.identityRow(customerID, cl)
		if err != nil {
			return err
		}
		err = tx.Create(&r).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return apperr.New(apperr.Conflict, "This sign-in is already linked to an account.")
		}
		if err != nil {
			return apperr.Wrap(err, "link identity")
		}
		return TenantStore{db: tx, tenantID: s.tenantID, events: s.events}.emitIdentity(ctx, r)
	})
}

// CreateWithIdentity stores a new customer and its first identity in one
// transaction, so neither exists without the other.
func (s TenantStore) CreateWithIdentity(ctx context.Context, c *Customer, cl Claims) error {
	return txn.DB(ctx, s.db).Transaction(func(tx *gorm.DB) error {
		inner := TenantStore{db: tx, tenantID: s.tenantID, events: s.events}
		if err := inner.Create(ctx, c); err != nil {
			return err
		}
		r, err := inner.identityRow(c.ID, cl)
		if err != nil {
			return err
		}
		if err := tx.Create(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return apperr.New(apperr.Conflict, "This sign-in is already linked to an account.")
			}
			return apperr.Wrap(err, "link identity")
		}
		return inner.emitIdentity(ctx, r)
	})
}

// UpdateIdentity stores the provider's latest claims for a linked identity.
// A claim the provider left out this time keeps its stored value, and an
// empty email never replaces a stored one: providers share less on some
// sign-ins (a userinfo call skipped, a scope not granted) than on others.
func (s TenantStore) UpdateIdentity(ctx context.Context, cl Claims) error {
	if s.tenantID == uuid.Nil {
		return apperr.New(apperr.Internal, "accounts: no tenant")
	}
	return txn.DB(ctx, s.db).Transaction(func(tx *gorm.DB) error {
		var r identityRow
		err := tx.Where("tenant_id = ? AND provider = ? AND issuer = ? AND subject = ?", s.tenantID, cl.Provider, issuerOf(cl), cl.Subject).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.New(apperr.NotFound, "no such identity")
		}
		if err != nil {
			return apperr.Wrap(err, "find identity")
		}
		merged := map[string]any{}
		_ = json.Unmarshal(r.Claims, &merged)
		for k, v := range cl.Raw {
			if v == nil || v == "" {
				continue
			}
			merged[k] = v
		}
		raw, err := json.Marshal(merged)
		if err != nil {
			raw = []byte("{}")
		}
		email := r.Email
		if cl.Email != "" {
			email = cl.Email
		}
		res := tx.Model(&identityRow{}).Where("tenant_id = ? AND id = ?", s.tenantID, r.ID).
			Updates(map[string]any{"email": email, "claims": datatypes.JSON(raw), "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return apperr.Wrap(res.Error, "update identity")
		}
		return nil
	})
}

// CountByIssuer counts the customers linked through provider to issuers
// other than issuer: they are who a change of the app's issuer strands.
func (s TenantStore) CountByIssuer(ctx context.Context, provider, issuer string) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&identityRow{}).Where("provider = ? AND issuer <> ?", provider, issuer).Distinct("customer_id").Count(&n).Error
	if err != nil {
		return 0, apperr.Wrap(err, "count identities")
	}
	return n, nil
}

// RemoveIdentity unlinks a provider from a customer of this tenant.
func (s TenantStore) RemoveIdentity(ctx context.Context, customerID uuid.UUID, provider string) error {
	res := s.q(ctx).Where("customer_id = ? AND provider = ?", customerID, provider).Delete(&identityRow{})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "unlink identity")
	}
	if res.RowsAffected == 0 {
		return apperr.New(apperr.NotFound, "That sign-in method is not linked.")
	}
	return nil
}
