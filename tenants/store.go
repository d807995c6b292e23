package tenants

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

// tenantRow and domainRow are the gorm models; they never leave this file's
// package, so nothing outside can reach a column by accident.
type tenantRow struct {
	ID        uuid.UUID
	Slug      string
	Name      string
	Status    string
	Theme     datatypes.JSON
	Settings  datatypes.JSON
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (tenantRow) TableName() string { return "tenants" }

type domainRow struct {
	ID        uuid.UUID
	TenantID  uuid.UUID
	Hostname  string
	Verified  bool
	CreatedAt time.Time
}

func (domainRow) TableName() string { return "tenant_domains" }

// Store keeps tenants and their domains. The tenants table is the one table
// that is not tenant-scoped: it is the list of tenants itself.
type Store struct {
	db *gorm.DB
}

// NewStore returns a store on db.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// insert writes a new tenant and its domains in one transaction. Slug and
// domain clashes come back as Conflict errors naming the field.
func (s *Store) insert(ctx context.Context, t *Tenant) error {
	row, err := toRow(t)
	if err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&tenantRow{}).Where("slug = ?", t.Slug).Count(&n).Error; err != nil {
			return apperr.Wrap(err, "check slug")
		}
		if n > 0 {
			return &apperr.Error{Code: apperr.Conflict, Field: "slug", Message: fmt.Sprintf("a tenant with slug %q already exists", t.Slug)}
		}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, "slug", "a tenant with this slug already exists")
		}
		for _, d := range t.Domains {
			if err := insertDomain(tx, t.ID, d); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertDomain(tx *gorm.DB, tenantID uuid.UUID, d Domain) error {
	var n int64
	if err := tx.Model(&domainRow{}).Where("hostname = ?", d.Hostname).Count(&n).Error; err != nil {
		return apperr.Wrap(err, "check domain")
	}
	if n > 0 {
		return &apperr.Error{Code: apperr.Conflict, Field: "domain", Message: fmt.Sprintf("%s is already in use", d.Hostname)}
	}
	row := domainRow{ID: uuid.Must(uuid.NewV7()), TenantID: tenantID, Hostname: d.Hostname, Verified: d.Verified, CreatedAt: time.Now().UTC()}
	if err := tx.Create(&row).Error; err != nil {
		return translate(err, "domain", d.Hostname+" is already in use")
	}
	return nil
}

// addDomain attaches a domain to an existing tenant.
func (s *Store) addDomain(ctx context.Context, tenantID uuid.UUID, d Domain) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := insertDomain(tx, tenantID, d); err != nil {
			return err
		}
		return touch(tx, tenantID)
	})
}

// removeDomain detaches a domain from its tenant; another tenant's domain is
// NotFound, as if it did not exist.
func (s *Store) removeDomain(ctx context.Context, tenantID uuid.UUID, hostname string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("tenant_id = ? AND hostname = ?", tenantID, hostname).Delete(&domainRow{})
		if res.Error != nil {
			return apperr.Wrap(res.Error, "remove domain")
		}
		if res.RowsAffected == 0 {
			return &apperr.Error{Code: apperr.NotFound, Field: "domain", Message: hostname + " is not a domain of this tenant"}
		}
		return touch(tx, tenantID)
	})
}

func touch(tx *gorm.DB, tenantID uuid.UUID) error {
	if err := tx.Model(&tenantRow{}).Where("id = ?", tenantID).Update("updated_at", time.Now().UTC()).Error; err != nil {
		return apperr.Wrap(err, "touch tenant")
	}
	return nil
}

// update writes the named columns of one tenant.
func (s *Store) update(ctx context.Context, id uuid.UUID, cols map[string]any) error {
	cols["updated_at"] = time.Now().UTC()
	res := s.db.WithContext(ctx).Model(&tenantRow{}).Where("id = ?", id).Updates(cols)
	if res.Error != nil {
		return apperr.Wrap(res.Error, "update tenant")
	}
	if res.RowsAffected == 0 {
		return apperr.New(apperr.NotFound, "no such tenant")
	}
	return nil
}

// ByID returns one tenant with its domains.
func (s *Store) ByID(ctx context.Context, id uuid.UUID) (*Tenant, error) {
	return s.one(ctx, "id = ?", id)
}

// BySlug returns one tenant with its domains.
func (s *Store) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	return s.one(ctx, "slug = ?", slug)
}

// ByDomain returns the tenant a verified custom domain serves.
func (s *Store) ByDomain(ctx context.Context, hostname string) (*Tenant, error) {
	var d domainRow
	err := s.db.WithContext(ctx).Where("hostname = ? AND verified = ?", hostname, true).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such tenant")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "find domain")
	}
	return s.ByID(ctx, d.TenantID)
}

func (s *Store) one(ctx context.Context, where string, arg any) (*Tenant, error) {
	var row tenantRow
	err := s.db.WithContext(ctx).Where(where, arg).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such tenant")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "find tenant")
	}
	var domains []domainRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ?", row.ID).Order("hostname").Find(&domains).Error; err != nil {
		return nil, apperr.Wrap(err, "find domains")
	}
	t, err := fromRows(row, domains)
	if err != nil {
		return nil, err
	}
	if t.Fields, err = s.fields(ctx, row.ID); err != nil {
		return nil, err
	}
	if t.Mails, err = s.mailTexts(ctx, row.ID); err != nil {
		return nil, err
	}
	return t, nil
}

// List returns every tenant, by slug, with its domains.
func (s *Store) List(ctx context.Context) ([]*Tenant, error) {
	var rows []tenantRow
	if err := s.db.WithContext(ctx).Order("slug").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list tenants")
	}
	var domains []domainRow
	if err := s.db.WithContext(ctx).Order("hostname").Find(&domains).Error; err != nil {
		return nil, apperr.Wrap(err, "list domains")
	}
	var fields []fieldRow
	if err := s.db.WithContext(ctx).Order("position").Find(&fields).Error; err != nil {
		return nil, apperr.Wrap(err, "list fields")
	}
	var mails []mailTextRow
	if err := s.db.WithContext(ctx).Find(&mails).Error; err != nil {
		return nil, apperr.Wrap(err, "list mail texts")
	}
	mailsOf := make(map[uuid.UUID][]mailTextRow)
	for _, m := range mails {
		mailsOf[m.TenantID] = append(mailsOf[m.TenantID], m)
	}
	byTenant := make(map[uuid.UUID][]domainRow)
	for _, d := range domains {
		byTenant[d.TenantID] = append(byTenant[d.TenantID], d)
	}
	fieldsOf := make(map[uuid.UUID][]fieldRow)
	for _, f := range fields {
		fieldsOf[f.TenantID] = append(fieldsOf[f.TenantID], f)
	}
	out := make([]*Tenant, 0, len(rows))
	for _, r := range rows {
		t, err := fromRows(r, byTenant[r.ID])
		if err != nil {
			return nil, err
		}
		if t.Fields, err = fieldsFromRows(fieldsOf[r.ID]); err != nil {
			return nil, err
		}
		t.Mails = mailTextsFromRows(mailsOf[r.ID])
		out = append(out, t)
	}
	return out, nil
}

func toRow(t *Tenant) (tenantRow, error) {
	theme, err := json.Marshal(t.Theme)
	if err != nil {
		return tenantRow{}, apperr.Wrap(err, "encode theme")
	}
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return tenantRow{}, apperr.Wrap(err, "encode settings")
	}
	return tenantRow{
		ID: t.ID, Slug: t.Slug, Name: t.Name, Status: string(t.Status),
		Theme: theme, Settings: settings, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}, nil
}

func fromRows(r tenantRow, domains []domainRow) (*Tenant, error) {
	t := &Tenant{
		ID: r.ID, Slug: r.Slug, Name: r.Name, Status: Status(r.Status),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if len(r.Theme) > 0 {
		if err := json.Unmarshal(r.Theme, &t.Theme); err != nil {
			return nil, apperr.Wrap(err, "decode theme of tenant %s", r.Slug)
		}
	}
	if len(r.Settings) > 0 {
		if err := json.Unmarshal(r.Settings, &t.Settings); err != nil {
			return nil, apperr.Wrap(err, "decode settings of tenant %s", r.Slug)
		}
	}
	t.Theme = t.Theme.withDefaults()
	t.Settings = t.Settings.withDefaults()
	for _, d := range domains {
		t.Domains = append(t.Domains, Domain{Hostname: d.Hostname, Verified: d.Verified})
	}
	t.finish()
	return t, nil
}

// translate turns a unique-constraint error that slipped past the explicit
// check (a concurrent insert) into a Conflict naming field.
func translate(err error, field, msg string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return &apperr.Error{Code: apperr.Conflict, Field: field, Message: msg}
	}
	return apperr.Wrap(err, "write %s", field)
}

// EachHost calls fn for every host name the tenants answer on: each
// tenant's slug (suspended tenants too, whose hosts show the "unavailable"
// page) and each verified custom domain. One query streams the rows, so
// 100,000 tenants never sit in memory as rows. With a non-nil id it lists
// that tenant's alone; a tenant that does not exist lists nothing.
func (s *Store) EachHost(ctx context.Context, id uuid.UUID, fn func(tenantID uuid.UUID, slug, domain string)) error {
	q := `SELECT id, slug, '' FROM tenants` + onlyTenant(id, "id") +
		` UNION ALL SELECT tenant_id, '', hostname FROM tenant_domains WHERE verified = ?` + andTenant(id, "tenant_id")
	args := []any{true}
	if id != uuid.Nil {
		args = []any{id, true, id}
	}
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return apperr.Wrap(err, "list hosts")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			tid          uuid.UUID
			slug, domain string
		)
		if err := rows.Scan(&tid, &slug, &domain); err != nil {
			return apperr.Wrap(err, "read hosts")
		}
		fn(tid, slug, domain)
	}
	if err := rows.Err(); err != nil {
		return apperr.Wrap(err, "list hosts")
	}
	return nil
}

func onlyTenant(id uuid.UUID, col string) string {
	if id == uuid.Nil {
		return ""
	}
	return " WHERE " + col + " = ?"
}

func andTenant(id uuid.UUID, col string) string {
	if id == uuid.Nil {
		return ""
	}
	return " AND " + col + " = ?"
}

// HostsVersion fingerprints the hosts EachHost lists: the number of tenants
// and the latest change to any. Every change of a slug, a status or a
// domain moves the tenant's updated_at, so a new version means "list again".
func (s *Store) HostsVersion(ctx context.Context) (string, error) {
	var (
		n      int64
		latest sql.NullString // MAX over a timestamp is text on SQLite; only equality matters
	)
	err := s.db.WithContext(ctx).Raw(`SELECT COUNT(*), MAX(updated_at) FROM tenants`).Row().Scan(&n, &latest)
	if err != nil {
		return "", apperr.Wrap(err, "hosts version")
	}
	return fmt.Sprintf("%d/%s", n, latest.String), nil
}
