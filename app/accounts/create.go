package accounts

import (
	"context"

	"github.com/google/uuid"

	"gatehouse/tenants"
)

// NewCustomer is a customer a brand's back-end creates through the API.
type NewCustomer struct {
	Email         string
	Password      string // optional: without one the customer chooses it from a mailed link
	EmailVerified bool   // the brand vouches for the address
	Values        map[string]string
}

// Create makes a customer on a brand's behalf (actor names the app), with
// the same rules and messages as the sign-up form: the email, the password
// policy when a password is given, and every registration field except the
// ones asked later. Nothing is mailed here; see SendReset for the
// "choose your password" mail.
func (s *Service) Create(ctx context.Context, t *tenants.Tenant, in NewCustomer, actor string, r Request) (*Customer, error) {
	errs := tenants.FieldErrors{}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		errs["email"] = apperrMessage(err)
	}
	if in.Password != "" {
		if err := s.policy.Check("password", in.Password, t.Settings.MinPasswordLength, email); err != nil {
			errs["password"] = apperrMessage(err)
		}
	}
	profile := map[string]any{}
	for _, f := range t.Fields {
		raw, present := in.Values[f.Key]
		if f.Capture == tenants.CaptureLater && !present {
			continue
		}
		v, err := f.Parse(raw)
		switch {
		case err != nil:
			errs[f.Key] = f.Label + " " + err.Error() + "."
		case v == nil && f.Capture == tenants.CaptureRequired:
			errs[f.Key] = f.Label + " is required."
		case v != nil:
			profile[f.Key] = v
		}
	}
	for k := range in.Values {
		if !containsField(t.Fields, k) {
			errs[k] = "is not a registration field of this brand."
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	now := s.now()
	c := &Customer{
		ID: uuid.Must(uuid.NewV7()), Email: email, EmailVerified: in.EmailVerified, Status: StatusActive,
		Profile: profile, CreatedAt: now, UpdatedAt: now,
	}
	if in.Password != "" {
		if c.passwordHash, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	if err := s.store.For(t.ID).Create(ctx, c); err != nil {
		return nil, err
	}
	s.record(ctx, t, actor, "customer.created", c.Email, r, map[string]any{"has_password": c.HasPassword()})
	return c, nil
}

// ByEmail returns the customer of t with this address (case-folded).
func (s *Service) ByEmail(ctx context.Context, t *tenants.Tenant, rawEmail string) (*Customer, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return nil, err
	}
	return s.store.For(t.ID).ByEmail(ctx, email)
}

// RevokeSessions ends every hosted-page session of the customer.
func (s *Service) RevokeSessions(ctx context.Context, t *tenants.Tenant, c *Customer, actor string, r Request) error {
	if err := s.endSessions(ctx, t, c.ID, ""); err != nil {
		return err
	}
	s.record(ctx, t, actor, "customer.sessions.revoked", c.Email, r, nil)
	return nil
}
