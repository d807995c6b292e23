package accounts

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"gatehouse/apperr"
)

// SearchPage is one page of customers, and the cursor of the next page
// ("" on the last).
type SearchPage struct {
	Customers []*Customer
	Next      string
}

// maxRune ends a prefix range: in byte order every string starting with p
// sorts below p+maxRune.
const maxRune = "\U0010FFFF"

// Search finds customers of this tenant by email prefix (when query holds
// an @) or by name prefix (first and last name), a page at a time. Pages
// are keyset-paginated on the indexed (tenant, key, id), so page 1,000
// costs what page 1 does, however many customers the tenant has.
func (s TenantStore) Search(ctx context.Context, query, cursor string, limit int) (SearchPage, error) {
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	q := strings.ToLower(strings.TrimSpace(query))
	if c, ok := strings.CutPrefix(cursor, "n:"); ok {
		return s.search(ctx, "search_name", q, c, limit)
	}
	if c, ok := strings.CutPrefix(cursor, "e:"); ok {
		return s.search(ctx, "email", q, c, limit)
	}
	if cursor != "" {
		return SearchPage{}, apperr.Field("cursor", "is not a page of this search")
	}
	if q == "" || strings.Contains(q, "@") {
		return s.search(ctx, "email", q, "", limit)
	}
	// A bare word is a name first; if no name starts with it, an email.
	page, err := s.search(ctx, "search_name", q, "", limit)
	if err != nil || len(page.Customers) > 0 {
		return page, err
	}
	return s.search(ctx, "email", q, "", limit)
}

func (s TenantStore) search(ctx context.Context, col, q, cursor string, limit int) (SearchPage, error) {
	expr := col
	if s.db.Dialector.Name() == "postgres" {
		expr = col + ` COLLATE "C"`
	}
	db := s.q(ctx).Model(&customerRow{})
	if q != "" {
		db = db.Where(expr+" >= ? AND "+expr+" < ?", q, q+maxRune)
	}
	if cursor != "" {
		key, id, ok := strings.Cut(cursor, "|")
		afterID, err := uuid.Parse(id)
		if !ok || err != nil {
			return SearchPage{}, apperr.Field("cursor", "is not a page of this search")
		}
		db = db.Where("("+expr+" > ? OR ("+expr+" = ? AND id > ?))", key, key, afterID)
	}
	var rows []customerRow
	if err := db.Order(expr + ", id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return SearchPage{}, apperr.Wrap(err, "search customers")
	}
	page := SearchPage{}
	for i, r := range rows {
		if i == limit {
			last := rows[limit-1]
			key := last.Email
			prefix := "e:"
			if col == "search_name" {
				prefix, key = "n:", deref(last.SearchName)
			}
			page.Next = prefix + key + "|" + last.ID.String()
			break
		}
		c, err := fromRow(r)
		if err != nil {
			return SearchPage{}, err
		}
		page.Customers = append(page.Customers, c)
	}
	return page, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
