package accounts

import (
	"context"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/sessions"
	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// What support staff do to customers. Every method takes the acting staff
// member's name for the audit trail, and works only inside the tenant.

// Search finds customers of t by email or name prefix.
func (s *Service) Search(ctx context.Context, t *tenants.Tenant, query, cursor string, limit int) (SearchPage, error) {
	return s.store.For(t.ID).Search(ctx, query, cursor, limit)
}

// Customer returns one customer of t.
func (s *Service) Customer(ctx context.Context, t *tenants.Tenant, id uuid.UUID) (*Customer, error) {
	return s.store.For(t.ID).ByID(ctx, id)
}

// Sessions lists a customer's live sessions.
func (s *Service) Sessions(ctx context.Context, t *tenants.Tenant, c *Customer) ([]sessions.Session, error) {
	return s.sessions.List(ctx, sessions.Customer, t.ID, c.ID)
}

// RevokeSession ends one of a customer's sessions.
func (s *Service) RevokeSession(ctx context.Context, t *tenants.Tenant, c *Customer, sessionID, actor string, r Request) error {
	if err := s.sessions.RevokeID(ctx, sessions.Customer, t.ID, c.ID, sessionID); err != nil {
		return err
	}
	s.record(ctx, t, actor, "customer.session.revoked", c.Email, r, nil)
	return nil
}

// SetStatus disables or enables a customer. Disabling ends every session
// and revokes every token the OpenID Provider issued for them, at once.
func (s *Service) SetStatus(ctx context.Context, t *tenants.Tenant, c *Customer, status, actor string, r Request) error {
	if status != StatusActive && status != StatusDisabled {
		return apperr.Field("status", "must be active or disabled")
	}
	if err := s.store.For(t.ID).SetStatus(ctx, c.ID, status); err != nil {
		return err
	}
	if status == StatusDisabled {
		if err := s.endSessions(ctx, t, c.ID, ""); err != nil {
			return err
		}
		if err := s.revokeTokens(ctx, t, c); err != nil {
			return err
		}
	}
	s.record(ctx, t, actor, "customer.status.changed", c.Email, r, map[string]any{"before": c.Status, "after": status})
	c.Status = status
	return nil
}

// EditProfile is a staff member's change to a customer's profile, checked
// against the schema like the customer's own.
func (s *Service) EditProfile(ctx context.Context, t *tenants.Tenant, c *Customer, values map[string]string, actor string, r Request) error {
	profile, errs := parseFields(t.Fields, values, c.Profile, true)
	if len(errs) > 0 {
		return errs
	}
	if err := s.store.For(t.ID).SetProfile(ctx, c.ID, profile); err != nil {
		return err
	}
	s.record(ctx, t, actor, "customer.profile.updated", c.Email, r, map[string]any{"before": c.Profile, "after": profile})
	c.Profile = profile
	return nil
}

// SendReset queues the same mail as the customer's own forgot-password
// request.
func (s *Service) SendReset(ctx context.Context, t *tenants.Tenant, c *Customer, actor string, r Request) error {
	if err := s.queue.EnqueueForgotPassword(ctx, jobs.ForgotPassword{TenantID: t.ID, Email: c.Email, IP: r.IP, UserAgent: r.UserAgent}); err != nil {
		return err
	}
	s.record(ctx, t, actor, "customer.password.reset_sent", c.Email, r, nil)
	return nil
}

// SendVerification sends a new verification link on a customer's behalf.
func (s *Service) SendVerification(ctx context.Context, t *tenants.Tenant, c *Customer, actor string, r Request) error {
	if c.EmailVerified {
		return apperr.New(apperr.Conflict, "This address is already verified.")
	}
	if err := s.sendVerification(ctx, t, c, nil); err != nil {
		return err
	}
	s.record(ctx, t, actor, "customer.verification.sent", c.Email, r, nil)
	return nil
}

// Delete removes a customer and their personal data: the profile, the
// linked identities, sessions and tokens. The audit trail keeps that it
// happened, under the customer's id, not their address.
func (s *Service) Delete(ctx context.Context, t *tenants.Tenant, c *Customer, actor string, r Request) error {
	if err := s.endSessions(ctx, t, c.ID, ""); err != nil {
		return err
	}
	// The tokens' rows go with the customer (ON DELETE CASCADE); revoking
	// first keeps them dead even if the delete below fails.
	if err := s.revokeTokens(ctx, t, c); err != nil {
		return err
	}
	if err := s.store.For(t.ID).delete(ctx, c.ID); err != nil {
		return err
	}
	s.record(ctx, t, actor, "customer.deleted", "customer:"+c.ID.String(), r, nil)
	return nil
}

// Export is everything Gatehouse holds about a customer, for a data
// request. It has no password hash.
type Export struct {
	ID            uuid.UUID      `json:"id"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Status        string         `json:"status"`
	Profile       map[string]any `json:"profile"`
	HasPassword   bool           `json:"has_password"`
	Identities    []Identity     `json:"identities"`
	CreatedAt     time.Time      `json:"created_at"`
	LastLoginAt   *time.Time     `json:"last_login_at,omitempty"`
}

// ExportData returns the customer's data as an Export.
func (s *Service) ExportData(ctx context.Context, t *tenants.Tenant, c *Customer, actor string, r Request) (Export, error) {
	ids, err := s.store.For(t.ID).Identities(ctx, c.ID)
	if err != nil {
		return Export{}, err
	}
	s.record(ctx, t, actor, "customer.exported", c.Email, r, nil)
	return Export{
		ID: c.ID, Email: c.Email, EmailVerified: c.EmailVerified, Status: c.Status, Profile: c.Profile,
		HasPassword: c.HasPassword(), Identities: ids, CreatedAt: c.CreatedAt, LastLoginAt: c.LastLoginAt,
	}, nil
}
