package accounts

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/apperr"
	"gatehouse/tenants"
	"gatehouse/txn"
)

// Sort is an order of the console's customers list.
type Sort string

// The orders of the customers list. SortAlpha is by email, or by name
// when the search is a name; the others work with any search.
const (
	SortAlpha       Sort = ""
	SortNewest      Sort = "newest" // signed up most recently first
	SortOldest      Sort = "oldest"
	SortRecentLogin Sort = "recent" // signed in most recently first; never last
	SortStaleLogin  Sort = "stale"  // never signed in first, then longest ago
)

// Sorts are the orders a list may ask for, in the order a menu offers them.
var Sorts = []Sort{SortAlpha, SortNewest, SortOldest, SortRecentLogin, SortStaleLogin}

// ParseSort reads a sort from a query string; "" is SortAlpha.
func ParseSort(s string) (Sort, error) {
	for _, o := range Sorts {
		if string(o) == s {
			return o, nil
		}
	}
	return SortAlpha, apperr.Field("sort", "is not an order of this list")
}

// CountCap is where a list's total stops counting: past it the total is
// shown as "10,000+", so a page view never counts a million rows.
const CountCap = 10000

// ListQuery asks for one page of a tenant's customers: a prefix search
// (as Search), an order, and a keyset cursor from the page before
// (After) or after (Before) the one wanted.
type ListQuery struct {
	Query  string
	Sort   Sort
	After  string
	Before string
	Limit  int
}

// ListPage is one page of the list, with the cursors of its neighbours
// ("" when there is none) and the number of customers that match, counted
// up to CountCap.
type ListPage struct {
	Customers []*Customer
	Next      string // pass as After
	Prev      string // pass as Before
	Total     int
	// Capped says there are more than Total (CountCap) matches.
	Capped bool
}

// List returns a page of t's customers (see TenantStore.List).
func (s *Service) List(ctx context.Context, t *tenants.Tenant, q ListQuery) (ListPage, error) {
	return s.store.For(t.ID).List(ctx, q)
}

// listOrder is how one page is sorted: the key expression (the same text
// as the index's, so the planner uses it), its direction, and whether the
// key is a time.
type listOrder struct {
	key  string
	desc bool
	time bool
}

// List returns one page of this tenant's customers matching q.Query by
// email or name prefix, in q.Sort's order. Pages are keyset-paginated on
// (key, id) with one row comparison that an index serves in every order
// (migrations 00005 and 00033), so a deep page costs what the first does
// at a million customers. The total is counted up to CountCap only.
func (s TenantStore) List(ctx context.Context, q ListQuery) (ListPage, error) {
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 25
	}
	if q.After != "" && q.Before != "" {
		return ListPage{}, apperr.Field("cursor", "is either after or before a page, not both")
	}
	term := strings.ToLower(strings.TrimSpace(q.Query))
	cursor := q.After + q.Before
	if cursor != "" {
		col, rest, err := s.parseCursor(cursor, q.Sort)
		if err != nil {
			return ListPage{}, err
		}
		return s.list(ctx, col, term, q, rest)
	}
	if term == "" || strings.Contains(term, "@") {
		return s.list(ctx, "email", term, q, "")
	}
	// A bare word is a name first; if no name starts with it, an email.
	page, err := s.list(ctx, "search_name", term, q, "")
	if err != nil || len(page.Customers) > 0 {
		return page, err
	}
	return s.list(ctx, "email", term, q, "")
}

// A cursor is "<e|n>.<sort>:<key>|<id>": the searched column, the order it
// belongs to, and the last (or first) row's sort key and id.
func (s TenantStore) parseCursor(cursor string, sort Sort) (col, rest string, err error) {
	bad := apperr.Field("cursor", "is not a page of this list; start again from the first page")
	head, rest, ok := strings.Cut(cursor, ":")
	if !ok {
		return "", "", bad
	}
	c, srt, _ := strings.Cut(head, ".")
	if Sort(srt) != sort {
		return "", "", bad
	}
	switch c {
	case "e":
		return "email", rest, nil
	case "n":
		return "search_name", rest, nil
	}
	return "", "", bad
}

func (s TenantStore) order(col string, sort Sort) listOrder {
	pg := s.db.Dialector.Name() == "postgres"
	login := "coalesce(last_login_at, '')"
	if pg {
		login = "coalesce(last_login_at, '-infinity'::timestamptz)"
	}
	switch sort {
	case SortNewest:
		return listOrder{key: "created_at", desc: true, time: true}
	case SortOldest:
		return listOrder{key: "created_at", time: true}
	case SortRecentLogin:
		return listOrder{key: login, desc: true, time: true}
	case SortStaleLogin:
		return listOrder{key: login, time: true}
	}
	if pg {
		return listOrder{key: col + ` COLLATE "C"`}
	}
	return listOrder{key: col}
}

// never is the sort key of "no sign-in yet" in a cursor; the query gets
// the dialect's sentinel ('-infinity' or ”) in its place.
const never = "-"

func (s TenantStore) list(ctx context.Context, col, term string, q ListQuery, cursor string) (ListPage, error) {
	o := s.order(col, q.Sort)
	filter := col
	if s.db.Dialector.Name() == "postgres" {
		filter = col + ` COLLATE "C"`
	}
	where := func() *gorm.DB {
		db := s.q(ctx).Model(&customerRow{})
		if term != "" {
			db = db.Where(filter+" >= ? AND "+filter+" < ?", term, term+maxRune)
		}
		return db
	}
	// The total first: it also picks the plan. A search that matches up to
	// CountCap customers, sorted by another column than the one searched,
	// sorts its matches (found by the prefix index) itself; left to the
	// planner, it may walk the order's index past every non-match.
	var n int64
	sub := where().Select("1").Limit(CountCap + 1)
	if err := txn.DB(ctx, s.db).Table("(?) AS matches", sub).Count(&n).Error; err != nil {
		return ListPage{}, apperr.Wrap(err, "count customers")
	}
	page := ListPage{Total: int(n), Capped: n > CountCap}
	if page.Capped {
		page.Total = CountCap
	}
	backward := q.Before != ""
	desc := o.desc != backward
	var conds []string
	var args []any
	if cursor != "" {
		key, id, err := s.cursorKey(cursor, o)
		if err != nil {
			return ListPage{}, err
		}
		cmp := ">"
		if desc {
			cmp = "<"
		}
		conds, args = append(conds, "("+o.key+", id) "+cmp+" (?, ?)"), append(args, key, id)
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	orderBy := o.key + dir + ", id" + dir
	var rows []customerRow
	var err error
	if term != "" && o.time && !page.Capped {
		cond := "1 = 1"
		if len(conds) > 0 {
			cond = conds[0]
		}
		matches := where().Select("*")
		err = txn.DB(ctx, s.db).Raw("WITH m AS MATERIALIZED (?) SELECT * FROM m WHERE "+cond+" ORDER BY "+orderBy+" LIMIT ?",
			append(append([]any{matches}, args...), q.Limit+1)...).Scan(&rows).Error
	} else {
		db := where()
		for i, c := range conds {
			db = db.Where(c, args[2*i:2*i+2]...)
		}
		err = db.Order(orderBy).Limit(q.Limit + 1).Find(&rows).Error
	}
	if err != nil {
		return ListPage{}, apperr.Wrap(err, "list customers")
	}
	more := len(rows) > q.Limit
	if more {
		rows = rows[:q.Limit]
	}
	if backward {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	for _, r := range rows {
		c, err := fromRow(r)
		if err != nil {
			return ListPage{}, err
		}
		page.Customers = append(page.Customers, c)
	}
	if len(rows) > 0 {
		first, last := encodeCursor(col, q.Sort, rows[0]), encodeCursor(col, q.Sort, rows[len(rows)-1])
		switch {
		case backward:
			page.Next = last // the page we came from
			if more {
				page.Prev = first
			}
		default:
			if more {
				page.Next = last
			}
			if q.After != "" {
				page.Prev = first
			}
		}
	}
	return page, nil
}

// cursorKey turns a cursor's key and id into query arguments.
func (s TenantStore) cursorKey(rest string, o listOrder) (any, uuid.UUID, error) {
	bad := apperr.Field("cursor", "is not a page of this list; start again from the first page")
	key, idText, ok := strings.Cut(rest, "|")
	id, err := uuid.Parse(idText)
	if !ok || err != nil {
		return nil, uuid.Nil, bad
	}
	if !o.time {
		return key, id, nil
	}
	if key == never {
		if s.db.Dialector.Name() == "postgres" {
			return "-infinity", id, nil
		}
		return "", id, nil
	}
	at, err := time.Parse(time.RFC3339Nano, key)
	if err != nil {
		return nil, uuid.Nil, bad
	}
	return at, id, nil
}

func encodeCursor(col string, sort Sort, r customerRow) string {
	c := "e"
	key := r.Email
	if col == "search_name" {
		c, key = "n", deref(r.SearchName)
	}
	switch sort {
	case SortNewest, SortOldest:
		key = r.CreatedAt.Format(time.RFC3339Nano)
	case SortRecentLogin, SortStaleLogin:
		key = never
		if r.LastLoginAt != nil {
			key = r.LastLoginAt.Format(time.RFC3339Nano)
		}
	}
	return c + "." + string(sort) + ":" + key + "|" + r.ID.String()
}
