package accounts

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/txn"
)

// Events hears about customer changes inside the transaction that makes
// them: Emit gets that transaction as tx, so what it writes (the webhooks'
// outbox rows) commits or rolls back with the change. data builds the
// event's body and is called only when someone listens. app wires
// webhooks.Service in.
type Events interface {
	Emit(ctx context.Context, tx *gorm.DB, tenantID uuid.UUID, event string, data func() (any, error)) error
}

// Event types the store reports; the webhooks package documents them.
const (
	EventCustomerCreated         = "customer.created"
	EventCustomerUpdated         = "customer.updated"
	EventCustomerDeleted         = "customer.deleted"
	EventCustomerDisabled        = "customer.disabled"
	EventCustomerLogin           = "customer.login"
	EventCustomerPasswordChanged = "customer.password_changed"
	EventIdentityLinked          = "identity.linked"
)

// CustomerData is the body of customer events: the customer as it is after
// the change, without any password hash.
type CustomerData struct {
	ID            uuid.UUID      `json:"id"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Status        string         `json:"status"`
	Profile       map[string]any `json:"profile"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	LastLoginAt   *time.Time     `json:"last_login_at,omitempty"`
}

// DeletedData is the body of customer.deleted: the id alone, since the
// customer's personal data is gone.
type DeletedData struct {
	ID uuid.UUID `json:"id"`
}

// IdentityData is the body of identity.linked.
type IdentityData struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Provider   string    `json:"provider"`
	Issuer     string    `json:"issuer"`
	Subject    string    `json:"subject"`
	Email      string    `json:"email,omitempty"`
}

// WithEvents makes every customer write of the store also report its
// event to e, in the same transaction.
func (s *Store) WithEvents(e Events) *Store {
	s.events = e
	return s
}

// change runs fn in one transaction with a store bound to it and reports
// event for customer id in that transaction. Without Events it just runs fn.
func (s TenantStore) change(ctx context.Context, event string, id uuid.UUID, fn func(inner TenantStore) error) error {
	if s.events == nil {
		return fn(s)
	}
	return txn.DB(ctx, s.db).Transaction(func(tx *gorm.DB) error {
		inner := TenantStore{db: tx, tenantID: s.tenantID, events: s.events}
		if err := fn(inner); err != nil {
			return err
		}
		return inner.emit(ctx, event, id)
	})
}

// emit reports event for customer id through the store's transaction.
func (s TenantStore) emit(ctx context.Context, event string, id uuid.UUID) error {
	if s.events == nil {
		return nil
	}
	return s.events.Emit(ctx, txn.DB(ctx, s.db), s.tenantID, event, func() (any, error) {
		if event == EventCustomerDeleted {
			return DeletedData{ID: id}, nil
		}
		c, err := s.ByID(ctx, id)
		if err != nil {
			return nil, err
		}
		return CustomerData{
			ID: c.ID, Email: c.Email, EmailVerified: c.EmailVerified, Status: c.Status, Profile: c.Profile,
			CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, LastLoginAt: c.LastLoginAt,
		}, nil
	})
}

// emitIdentity reports identity.linked through the store's transaction.
func (s TenantStore) emitIdentity(ctx context.Context, r identityRow) error {
	if s.events == nil {
		return nil
	}
	return s.events.Emit(ctx, txn.DB(ctx, s.db), s.tenantID, EventIdentityLinked, func() (any, error) {
		return IdentityData{CustomerID: r.CustomerID, Provider: r.Provider, Issuer: r.Issuer, Subject: r.Subject, Email: r.Email}, nil
	})
}

// SetStatus disables or enables a customer (customer.disabled, or
// customer.updated when enabled again).
func (s TenantStore) SetStatus(ctx context.Context, id uuid.UUID, status string) error {
	event := EventCustomerUpdated
	if status == StatusDisabled {
		event = EventCustomerDisabled
	}
	return s.change(ctx, event, id, func(inner TenantStore) error {
		return inner.update(ctx, id, map[string]any{"status": status})
	})
}
