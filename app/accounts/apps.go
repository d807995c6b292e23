package accounts

import (
	"context"

	"github.com/google/uuid"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

// SignedInApp is one of the tenant's apps that holds a live grant of the
// customer's: tokens that still work, or a remembered consent.
type SignedInApp struct {
	AppID uuid.UUID
	Name  string
}

// AppGrants is what accounts needs from the OpenID Provider: the apps a
// customer has signed in to, and taking that access away. It is wired by
// app (the provider depends on accounts, not the other way round).
type AppGrants interface {
	SignedInApps(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) ([]SignedInApp, error)
	// RevokeApp revokes the app's tokens for the customer and forgets
	// their consent; apperr.NotFound when the app holds nothing of theirs.
	RevokeApp(ctx context.Context, t *tenants.Tenant, customerID, appID uuid.UUID) error
	// RevokeCustomer revokes every token of the customer, at every app.
	RevokeCustomer(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) error
}

// SignedInApps lists the apps c has signed in to; none when the provider
// is not wired (the bench wiring).
func (s *Service) SignedInApps(ctx context.Context, t *tenants.Tenant, c *Customer) ([]SignedInApp, error) {
	if s.grants == nil {
		return nil, nil
	}
	return s.grants.SignedInApps(ctx, t, c.ID)
}

// RevokeApp signs c out of one app: its refresh and access tokens stop
// working and its consent is forgotten, so a third-party app asks again.
func (s *Service) RevokeApp(ctx context.Context, t *tenants.Tenant, c *Customer, rawAppID string, r Request) error {
	appID, err := uuid.Parse(rawAppID)
	if err != nil || s.grants == nil {
		return apperr.New(apperr.NotFound, "no such app")
	}
	if err := s.grants.RevokeApp(ctx, t, c.ID, appID); err != nil {
		return err
	}
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.app.revoked", "app:"+appID.String(), r, nil)
	return nil
}

// revokeTokens ends every token the provider issued for c: when c is
// disabled or deleted.
func (s *Service) revokeTokens(ctx context.Context, t *tenants.Tenant, c *Customer) error {
	if s.grants == nil {
		return nil
	}
	return s.grants.RevokeCustomer(ctx, t, c.ID)
}
