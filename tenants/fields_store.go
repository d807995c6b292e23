package tenants

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

type fieldRow struct {
	ID         uuid.UUID
	TenantID   uuid.UUID
	Key        string
	Label      string
	Type       string
	Capture    string
	HelpText   string
	Validation datatypes.JSON
	Options    datatypes.JSON
	Position   int
	Claim      string
	ClaimScope string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (fieldRow) TableName() string { return "registration_fields" }

func (s *Store) fields(ctx context.Context, tenantID uuid.UUID) ([]Field, error) {
	var rows []fieldRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("position, key").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list fields")
	}
	return fieldsFromRows(rows)
}

func fieldsFromRows(rows []fieldRow) ([]Field, error) {
	out := make([]Field, 0, len(rows))
	for _, r := range rows {
		f := Field{Key: r.Key, Label: r.Label, Type: FieldType(r.Type), Capture: Capture(r.Capture), HelpText: r.HelpText, Position: r.Position, Claim: r.Claim, ClaimScope: r.ClaimScope}
		if len(r.Validation) > 0 {
			if err := json.Unmarshal(r.Validation, &f.Validation); err != nil {
				return nil, apperr.Wrap(err, "decode validation of %s", r.Key)
			}
		}
		if len(r.Options) > 0 {
			if err := json.Unmarshal(r.Options, &f.Options); err != nil {
				return nil, apperr.Wrap(err, "decode options of %s", r.Key)
			}
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Position < out[j].Position })
	return out, nil
}

// replaceFields swaps a tenant's whole field list in one transaction, so a
// reader sees the old schema or the new one, never half of each.
func (s *Store) replaceFields(ctx context.Context, tenantID uuid.UUID, fields []Field) error {
	now := time.Now().UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("tenant_id = ?", tenantID).Delete(&fieldRow{}).Error; err != nil {
			return apperr.Wrap(err, "clear fields")
		}
		for i, f := range fields {
			validation, err := json.Marshal(f.Validation)
			if err != nil {
				return apperr.Wrap(err, "encode validation")
			}
			options := f.Options
			if options == nil {
				options = []Option{}
			}
			opts, err := json.Marshal(options)
			if err != nil {
				return apperr.Wrap(err, "encode options")
			}
			row := fieldRow{
				ID: uuid.Must(uuid.NewV7()), TenantID: tenantID, Key: f.Key, Label: f.Label, Type: string(f.Type),
				Capture: string(f.Capture), HelpText: f.HelpText, Validation: validation, Options: opts,
				Position: i, Claim: f.Claim, ClaimScope: f.ClaimScope, CreatedAt: now, UpdatedAt: now,
			}
			if err := tx.Create(&row).Error; err != nil {
				return translate(err, "key", "two fields share the key "+f.Key)
			}
		}
		return touch(tx, tenantID)
	})
}

// SaveFields validates and stores a tenant's registration fields, in the
// given order. Every node serves the new sign-up form at once.
func (s *Service) SaveFields(ctx context.Context, tenantID uuid.UUID, fields []Field) (*Tenant, error) {
	if err := CheckSchema(fields); err != nil {
		return nil, err
	}
	if err := s.store.replaceFields(ctx, tenantID, fields); err != nil {
		return nil, err
	}
	s.announce(ctx, tenantID)
	return s.store.ByID(ctx, tenantID)
}

// ByID returns one tenant.
func (s *Service) ByID(ctx context.Context, id uuid.UUID) (*Tenant, error) {
	return s.store.ByID(ctx, id)
}
