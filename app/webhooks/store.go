package webhooks

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

type endpointRow struct {
	ID                uuid.UUID
	TenantID          uuid.UUID
	URL               string
	Description       string
	Events            string // space-separated event types
	SecretSealed      string
	PreviousSealed    *string
	PreviousExpiresAt *time.Time
	Enabled           bool
	DisabledReason    string
	FailingSince      *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (endpointRow) TableName() string { return "webhook_endpoints" }

func (r endpointRow) endpoint(now time.Time) Endpoint {
	e := Endpoint{
		ID: r.ID, TenantID: r.TenantID, URL: r.URL, Description: r.Description, Events: strings.Fields(r.Events),
		Enabled: r.Enabled, DisabledReason: r.DisabledReason, FailingSince: r.FailingSince, CreatedAt: r.CreatedAt,
	}
	if r.PreviousSealed != nil && r.PreviousExpiresAt != nil && r.PreviousExpiresAt.After(now) {
		e.RotatingUntil = r.PreviousExpiresAt
	}
	return e
}

type eventRow struct {
	ID        string
	TenantID  uuid.UUID
	Type      string
	Body      []byte
	CreatedAt time.Time
}

func (eventRow) TableName() string { return "webhook_events" }

type deliveryRow struct {
	ID             uuid.UUID
	TenantID       uuid.UUID
	EndpointID     uuid.UUID
	EventID        string
	Status         string
	Attempts       int
	ResponseStatus int
	LastError      string
	LastAttemptAt  *time.Time
	CreatedAt      time.Time
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

var errNoEndpoint = apperr.New(apperr.NotFound, "no such webhook endpoint")
var errNoDelivery = apperr.New(apperr.NotFound, "no such delivery")

// scoped is db limited to one tenant's rows; a nil tenant matches nothing.
func scoped(db *gorm.DB, tenantID uuid.UUID) *gorm.DB {
	if tenantID == uuid.Nil {
		return db.Where("1 = 0")
	}
	return db.Where("tenant_id = ?", tenantID)
}

func endpointByID(ctx context.Context, db *gorm.DB, tenantID, id uuid.UUID) (endpointRow, error) {
	var r endpointRow
	err := scoped(db.WithContext(ctx), tenantID).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, errNoEndpoint
	}
	if err != nil {
		return r, apperr.Wrap(err, "find webhook endpoint")
	}
	return r, nil
}

func updateEndpoint(ctx context.Context, db *gorm.DB, tenantID, id uuid.UUID, cols map[string]any) error {
	cols["updated_at"] = time.Now().UTC()
	res := scoped(db.WithContext(ctx), tenantID).Model(&endpointRow{}).Where("id = ?", id).Updates(cols)
	if res.Error != nil {
		return apperr.Wrap(res.Error, "update webhook endpoint")
	}
	if res.RowsAffected == 0 {
		return errNoEndpoint
	}
	return nil
}
