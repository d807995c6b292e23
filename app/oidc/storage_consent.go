package oidc

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

type consentRow struct {
	TenantID   uuid.UUID
	CustomerID uuid.UUID
	AppID      uuid.UUID
	Scopes     []byte
	GrantedAt  time.Time
}

func (consentRow) TableName() string { return "oidc_consents" }

// Consented reports whether the customer has already allowed the app every
// one of scopes.
func (s *Storage) Consented(ctx context.Context, t *tenants.Tenant, customerID, appID uuid.UUID, scopes []string) (bool, error) {
	var row consentRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND customer_id = ? AND app_id = ?", t.ID, customerID, appID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, apperr.Wrap(err, "oidc: consent")
	}
	granted := unjsonList(row.Scopes)
	for _, sc := range scopes {
		if !slices.Contains(granted, sc) {
			return false, nil
		}
	}
	return true, nil
}

// Consent records that the customer allowed the app scopes, adding to what
// they allowed before.
func (s *Storage) Consent(ctx context.Context, t *tenants.Tenant, customerID, appID uuid.UUID, scopes []string) error {
	var row consentRow
	db := s.db.WithContext(ctx)
	if err := db.Where("tenant_id = ? AND customer_id = ? AND app_id = ?", t.ID, customerID, appID).Take(&row).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.Wrap(err, "oidc: consent")
	}
	all := unjsonList(row.Scopes)
	for _, sc := range scopes {
		if !slices.Contains(all, sc) {
			all = append(all, sc)
		}
	}
	next := consentRow{TenantID: t.ID, CustomerID: customerID, AppID: appID, Scopes: jsonList(all), GrantedAt: s.now()}
	err := db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "customer_id"}, {Name: "app_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"scopes", "granted_at"}),
	}).Create(&next).Error
	if err != nil {
		return apperr.Wrap(err, "oidc: save consent")
	}
	s.record(ctx, t, "customer:"+customerID.String(), "oidc.consent.granted", appID.String(), map[string]any{"scopes": all})
	return nil
}
