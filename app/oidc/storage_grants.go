package oidc

import (
	"context"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

var _ accounts.AppGrants = (*Storage)(nil)

// SignedInApps lists the tenant's apps that hold a live grant of the
// customer: a refresh or access token that still works, or a remembered
// consent. Every query carries the tenant.
func (s *Storage) SignedInApps(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) ([]accounts.SignedInApp, error) {
	ids, err := s.grantedApps(ctx, t, customerID)
	if err != nil {
		return nil, apperr.Wrap(err, "oidc: signed-in apps")
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := s.apps.For(t.ID).List(ctx)
	if err != nil {
		return nil, err
	}
	var out []accounts.SignedInApp
	for _, a := range list {
		if slices.Contains(ids, a.ID) {
			out = append(out, accounts.SignedInApp{AppID: a.ID, Name: a.Name})
		}
	}
	slices.SortFunc(out, func(a, b accounts.SignedInApp) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

func (s *Storage) grantedApps(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) ([]uuid.UUID, error) {
	db, now := s.db.WithContext(ctx), s.now()
	var refresh, access, consent []uuid.UUID
	if err := db.Model(&refreshRow{}).Distinct("app_id").
		Where("tenant_id = ? AND customer_id = ? AND revoked_at IS NULL AND used_at IS NULL AND expires_at > ?", t.ID, customerID, now).
		Pluck("app_id", &refresh).Error; err != nil {
		return nil, err
	}
	if err := db.Model(&accessRow{}).Distinct("app_id").
		Where("tenant_id = ? AND customer_id = ? AND revoked_at IS NULL AND expires_at > ?", t.ID, customerID, now).
		Pluck("app_id", &access).Error; err != nil {
		return nil, err
	}
	if err := db.Model(&consentRow{}).Where("tenant_id = ? AND customer_id = ?", t.ID, customerID).
		Pluck("app_id", &consent).Error; err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	for _, id := range slices.Concat(refresh, access, consent) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// RevokeApp revokes every refresh and access token the app holds for the
// customer and forgets their consent, in one transaction. An app of
// another tenant, or one holding nothing of theirs, is NotFound.
func (s *Storage) RevokeApp(ctx context.Context, t *tenants.Tenant, customerID, appID uuid.UUID) error {
	now := s.now()
	var touched int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		scope := func(q *gorm.DB) *gorm.DB {
			return q.Where("tenant_id = ? AND customer_id = ? AND app_id = ?", t.ID, customerID, appID)
		}
		res := scope(tx.Model(&refreshRow{})).Where("revoked_at IS NULL").Update("revoked_at", now)
		if res.Error != nil {
			return res.Error
		}
		touched += res.RowsAffected
		res = scope(tx.Model(&accessRow{})).Where("revoked_at IS NULL").Update("revoked_at", now)
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
