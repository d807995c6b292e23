package tenants

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

// Ref is a tenant as a list of names shows it: the console's switcher.
type Ref struct {
	ID     uuid.UUID
	Slug   string
	Name   string
	Status Status
}

// Among says which tenants a Find may return: every one (platform
// admins), or only those listed (the viewer's own). The zero value finds
// nothing, so a forgotten scope never lists every tenant.
type Among struct {
	All bool
	IDs []uuid.UUID
}

// FindCap is where Find stops counting matches.
const FindCap = 1000

// Found is a page of Find: up to the limit, by name, and how many match in
// all (counted up to FindCap; Capped past it).
type Found struct {
	Tenants []Ref
	Total   int
	Capped  bool
}

// Find returns the tenants among which whose name or slug contains query,
// ignoring case, by name; an empty query matches all of them.
func (s *Service) Find(ctx context.Context, among Among, query string, limit int) (Found, error) {
	return s.store.Find(ctx, among, query, limit)
}

// Find is Service.Find.
func (s *Store) Find(ctx context.Context, among Among, query string, limit int) (Found, error) {
	if !among.All && len(among.IDs) == 0 {
		return Found{}, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	where := func() *gorm.DB {
		db := s.db.WithContext(ctx).Model(&tenantRow{})
		if !among.All {
			db = db.Where("id IN ?", among.IDs)
		}
		if q := strings.ToLower(strings.TrimSpace(query)); q != "" {
			like := "%" + likeEscaper.Replace(q) + "%"
			db = db.Where(`(lower(name) LIKE ? ESCAPE '\' OR slug LIKE ? ESCAPE '\')`, like, like)
		}
		return db
	}
	var rows []tenantRow
	if err := where().Select("id, slug, name, status").Order("lower(name), slug").Limit(limit).Find(&rows).Error; err != nil {
		return Found{}, apperr.Wrap(err, "find tenants")
	}
	var n int64
	if err := s.db.WithContext(ctx).Table("(?) AS matches", where().Select("1").Limit(FindCap+1)).Count(&n).Error; err != nil {
		return Found{}, apperr.Wrap(err, "count tenants")
	}
	out := Found{Total: int(n), Capped: n > FindCap}
	if out.Capped {
		out.Total = FindCap
	}
	for _, r := range rows {
		out.Tenants = append(out.Tenants, Ref{ID: r.ID, Slug: r.Slug, Name: r.Name, Status: Status(r.Status)})
	}
	return out, nil
}

// likeEscaper makes a search's % and _ match themselves.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
