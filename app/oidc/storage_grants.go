package oidc

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

var _ accounts.AppGrants = (*Storage)(nil)

// SignedInApps lists the tenant's apps that hold a live grant of the
// customer (see CustomerApps), for /account.
func (s *Storage) SignedInApps(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) ([]accounts.SignedInApp, error) {
	connected, err := s.CustomerApps(ctx, t, customerID)
	if err != nil {
		return nil, err
	}
	var out []accounts.SignedInApp
	for _, a := range connected {
		out = append(out, accounts.SignedInApp{AppID: a.AppID, Name: a.Name})
	}
	return out, nil
}

// RevokeApp revokes every live refresh and access token the app holds for
// the customer and forgets their consent, in one transaction. An app of
// another tenant, or one holding nothing of theirs, is NotFound.
func (s *Storage) RevokeApp(ctx context.Context, t *tenants.Tenant, customerID, appID uuid.UUID) error {
	now := s.now()
	var touched int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		scope := func(q *gorm.DB) *gorm.DB {
			return q.Where("tenant_id = ? AND customer_id = ? AND app_id = ?", t.ID, customerID, appID)
		}
		res := scope(tx.Model(&refreshRow{})).Where("revoked_at IS NULL AND expires_at > ?", now).Update("revoked_at", now)
		if res.Error != nil {
			return res.Error
		}
		touched += res.RowsAffected
		res = scope(tx.Model(&accessRow{})).Where("revoked_at IS NULL AND expires_at > ?", now).Update("revoked_at", now)
		if res.Error != nil {
			return res.Error
		}
		touched += res.RowsAffected
		res = scope(tx).Delete(&consentRow{})
		touched += res.RowsAffected
		return res.Error
	})
	if err != nil {
		return apperr.Wrap(err, "oidc: revoke app")
	}
	if touched == 0 {
		return apperr.New(apperr.NotFound, "This app is not signed in to your account.")
	}
	return nil
}

// RevokeCustomer revokes every token of the customer at every app of the
// tenant: the customer was disabled or is being deleted.
func (s *Storage) RevokeCustomer(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) error {
	if err := s.revokeWhere(ctx, t, "customer_id = ?", customerID); err != nil {
		return apperr.Wrap(err, "oidc: revoke customer tokens")
	}
	return nil
}
