package accounts_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
)

// TestList sorts, pages both ways and counts a tenant's customers with
// known sign-up and sign-in times, and never lists or counts another
// tenant's.
func TestList(t *testing.T) {
	ctx := context.Background()
	store, d, a, b := searchSetup(t, apptest.Database(t))
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// name, days after base they signed up, days after base of their last
	// sign-in (-1: never).
	people := []struct {
		email, first string
		created      int
		login        int
	}{
		{"ann@example.com", "Ann", 0, 10},
		{"bob@example.com", "Bob", 1, -1},
		{"cleo@example.com", "Cleo", 2, 12},
		{"dev@example.com", "Dev", 3, 11},
		{"eli@example.com", "Eli", 4, -1},
		{"fay@example.com", "Fay", 5, 14},
		{"gus@example.com", "Anneliese", 6, 13},
	}
	for _, p := range people {
		at := base.AddDate(0, 0, p.created)
		c := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: p.email, Status: accounts.StatusActive,
			Profile: map[string]any{"first_name": p.first}, CreatedAt: at, UpdatedAt: at}
		if err := store.For(a).Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		if p.login >= 0 {
			if err := d.Gorm.Exec("UPDATE customers SET last_login_at = ? WHERE id = ?", base.AddDate(0, 0, p.login), c.ID).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	// Bravo's customers sort between and around acme's in every order.
	for i, e := range []string{"aaron@bravo.example", "bert@bravo.example", "zoe@bravo.example"} {
		at := base.AddDate(0, 0, 2*i).Add(time.Hour)
		c := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: e, Status: accounts.StatusActive,
			Profile: map[string]any{"first_name": "Annabel"}, CreatedAt: at, UpdatedAt: at}
		if err := store.For(b).Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		d.Gorm.Exec("UPDATE customers SET last_login_at = ? WHERE id = ?", at.AddDate(0, 0, 10), c.ID)
	}
	names := func(p accounts.ListPage) string {
		var out []string
		for _, c := range p.Customers {
			out = append(out, strings.TrimSuffix(c.Email, "@example.com"))
		}
		return strings.Join(out, " ")
	}
	// walk pages forward by Next, then back by Prev from the last page,
	// and returns the pages seen each way.
	walk := func(t *testing.T, q accounts.ListQuery) (forward, backward []string) {
		t.Helper()
		store := store.For(a)
		page, err := store.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Prev != "" {
			t.Fatalf("the first page has a previous page %q", page.Prev)
		}
		for {
			forward = append(forward, names(page))
			if page.Next == "" {
				break
			}
			next := q
			next.After = page.Next
			if page, err = store.List(ctx, next); err != nil {
				t.Fatal(err)
			}
			if len(forward) > 10 {
				t.Fatal("paging does not end")
			}
		}
		for {
			backward = append([]string{names(page)}, backward...)
			if page.Prev == "" {
				break
			}
			prev := q
			prev.Before = page.Prev
			if page, err = store.List(ctx, prev); err != nil {
				t.Fatal(err)
			}
			if len(backward) > 10 {
				t.Fatal("paging back does not end")
			}
		}
		return forward, backward
	}
	for _, tc := range []struct {
		sort accounts.Sort
		want string
	}{
		{accounts.SortAlpha, "ann bob cleo | dev eli fay | gus"},
		{accounts.SortNewest, "gus fay eli | dev cleo bob | ann"},
		{accounts.SortOldest, "ann bob cleo | dev eli fay | gus"},
		{accounts.SortRecentLogin, "fay gus cleo | dev ann eli | bob"},
		{accounts.SortStaleLogin, "bob eli ann | dev cleo gus | fay"},
	} {
		t.Run("sort "+string(tc.sort), func(t *testing.T) {
			fwd, back := walk(t, accounts.ListQuery{Sort: tc.sort, Limit: 3})
			if got := strings.Join(fwd, " | "); got != tc.want {
				t.Fatalf("forward: %s, want %s", got, tc.want)
			}
			if got := strings.Join(back, " | "); got != tc.want {
				t.Fatalf("back: %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("total, and search with a sort", func(t *testing.T) {
		p, err := store.For(a).List(ctx, accounts.ListQuery{Limit: 3})
		if err != nil || p.Total != len(people) || p.Capped {
			t.Fatalf("total %d capped %v (%v), want %d", p.Total, p.Capped, err, len(people))
		}
		// "ann" is a name: Ann and Anneliese (gus), newest first.
		p, err = store.For(a).List(ctx, accounts.ListQuery{Query: "ann", Sort: accounts.SortNewest, Limit: 1})
		if err != nil || names(p) != "gus" || p.Total != 2 || p.Next == "" {
			t.Fatalf("ann newest: %q total %d next %q (%v)", names(p), p.Total, p.Next, err)
		}
		p, err = store.For(a).List(ctx, accounts.ListQuery{Query: "ann", Sort: accounts.SortNewest, Limit: 1, After: p.Next})
		if err != nil || names(p) != "ann" || p.Next != "" || p.Prev == "" || p.Total != 2 {
			t.Fatalf("ann newest, page 2: %q total %d (%v)", names(p), p.Total, err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		p, err := store.For(b).List(ctx, accounts.ListQuery{Sort: accounts.SortNewest, Limit: 100})
		if err != nil || p.Total != 3 || len(p.Customers) != 3 {
			t.Fatalf("bravo: %d listed, total %d (%v)", len(p.Customers), p.Total, err)
		}
		for _, c := range p.Customers {
			if !strings.HasSuffix(c.Email, "@bravo.example") {
				t.Fatalf("bravo lists %s", c.Email)
			}
		}
		// Annabel is bravo's name: acme's search for it finds nobody.
		p, err = store.For(a).List(ctx, accounts.ListQuery{Query: "annabel"})
		if err != nil || len(p.Customers) != 0 || p.Total != 0 {
			t.Fatalf("acme finds bravo's Annabel: %q total %d", names(p), p.Total)
		}
		// Acme's cursor on bravo pages bravo's rows only.
		first, _ := store.For(a).List(ctx, accounts.ListQuery{Sort: accounts.SortOldest, Limit: 1})
		p, err = store.For(b).List(ctx, accounts.ListQuery{Sort: accounts.SortOldest, After: first.Next})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Customers {
			if !strings.HasSuffix(c.Email, "@bravo.example") {
				t.Fatalf("an acme cursor lists %s on bravo", c.Email)
			}
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		first, _ := store.For(a).List(ctx, accounts.ListQuery{Sort: accounts.SortNewest, Limit: 1})
		for _, c := range []string{"e.newest:yesterday|" + uuid.NewString(), "x:y", "e.newest:2026-01-01T00:00:00Z|nope"} {
			if _, err := store.For(a).List(ctx, accounts.ListQuery{Sort: accounts.SortNewest, After: c}); err == nil {
				t.Errorf("cursor %q accepted", c)
			}
		}
		if _, err := store.For(a).List(ctx, accounts.ListQuery{Sort: accounts.SortOldest, After: first.Next}); err == nil {
			t.Error("a newest-first cursor pages the oldest-first order")
		}
		if _, err := accounts.ParseSort("size"); err == nil {
			t.Error("an unknown sort parsed")
		}
	})
	t.Run("capped total", func(t *testing.T) {
		c := uuid.New()
		if err := d.Gorm.Exec("INSERT INTO tenants (id, slug, name, status, theme, settings, created_at, updated_at) VALUES (?, 'many', 'Many', 'active', '{}', '{}', ?, ?)", c, base, base).Error; err != nil {
			t.Fatal(err)
		}
		insert := `INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at)
			WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
			SELECT printf('00000000-0000-4000-8000-%012d', n), ?, 'user' || n || '@example.com', 1, 'active', '{}', ?, ? FROM g`
		if d.Gorm.Dialector.Name() == "postgres" {
			insert = `INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at)
				SELECT gen_random_uuid(), ?, 'user' || g || '@example.com', true, 'active', '{}', ?, ? FROM generate_series(1, ?) g`
			if err := d.Gorm.Exec(insert, c, base, base, accounts.CountCap+5).Error; err != nil {
				t.Fatal(err)
			}
		} else if err := d.Gorm.Exec(insert, accounts.CountCap+5, c, base, base).Error; err != nil {
			t.Fatal(err)
		}
		p, err := store.For(c).List(ctx, accounts.ListQuery{})
		if err != nil || !p.Capped || p.Total != accounts.CountCap || len(p.Customers) != 25 {
			t.Fatalf("total %d capped %v rows %d (%v)", p.Total, p.Capped, len(p.Customers), err)
		}
		p, err = store.For(c).List(ctx, accounts.ListQuery{Query: "user1000"})
		if err != nil || p.Capped || p.Total != 7 { // user1000 and user10000 to user10005
			t.Fatalf("user1000: total %d capped %v (%v)", p.Total, p.Capped, err)
		}
	})
}

// BenchmarkListMillion pages one tenant of 1,000,000 customers on
// PostgreSQL in each order: the first page and one 20,000 rows deep, with
// the capped total. The deep cursor is taken from the row there. Like
// BenchmarkSearchMillion, it runs in interleaved rounds beside the
// select-1 floor.
func BenchmarkListMillion(b *testing.B) {
	admin := os.Getenv(apptest.EnvDatabase)
	if admin == "" {
		b.Skip("needs PostgreSQL: set " + apptest.EnvDatabase)
	}
	ctx := context.Background()
	store, d, a, _ := searchSetup(b, apptest.PostgresDatabase(b, admin))
	err := d.Gorm.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at, last_login_at)
		SELECT gen_random_uuid(), ?, 'user' || lpad(g::text, 7, '0') || '@example.com', true, 'active',
		       jsonb_build_object('first_name', 'Ann' || g), now() - g * interval '1 minute', now(),
		       CASE WHEN g % 3 = 0 THEN NULL ELSE now() - (g % 9973) * interval '1 minute' END
		FROM generate_series(1, 1000000) g`, a).Error
	if err != nil {
		b.Fatal(err)
	}
	d.Gorm.Exec("VACUUM ANALYZE customers")
	type page struct {
		name  string
		query accounts.ListQuery
		total int // 0: capped
	}
	var pages []page
	for _, sort := range accounts.Sorts {
		// A cursor 20,000 rows in: walk there 100 at a time once.
		q := accounts.ListQuery{Sort: sort, Limit: 100}
		for i := 0; i < 200; i++ {
			p, err := store.For(a).List(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			q.After = p.Next
		}
		name := string(sort)
		if name == "" {
			name = "alpha"
		}
		pages = append(pages,
			page{name: name + "-first", query: accounts.ListQuery{Sort: sort}},
			page{name: name + "-deep", query: accounts.ListQuery{Sort: sort, After: q.After}})
	}
	// A search of 10,000 matches whose rows lie at the far end of the
	// order: the planner's favourite plan walks half the index for it.
	pages = append(pages, page{name: "search-newest", query: accounts.ListQuery{Query: "user050", Sort: accounts.SortNewest}, total: 10000})
	for range apptest.BenchRounds() {
		benchSelectOne(b, d)
		for _, pg := range pages {
			b.Run(pg.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					p, err := store.For(a).List(ctx, pg.query)
					if err != nil || len(p.Customers) != 25 || (pg.total == 0 && !p.Capped) || (pg.total != 0 && p.Total != pg.total) {
						b.Fatalf("%v %d %v %d", err, len(p.Customers), p.Capped, p.Total)
					}
				}
			})
		}
	}
}
