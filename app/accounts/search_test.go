package accounts_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/tenants"
)

func searchSetup(t testing.TB, url string) (*accounts.Store, *db.DB, uuid.UUID, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := apptest.MigratedDBAt(t, url)
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "A"})
	b, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "B"})
	return accounts.NewStore(d.Gorm), d, a.ID, b.ID
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	store, _, a, b := searchSetup(t, apptest.Database(t))
	people := []struct{ email, first, last string }{
		{"ann@example.com", "Ann", "Lee"}, {"anna@example.com", "Anna", "Berg"}, {"bob@example.com", "Bob", "Annan"},
		{"zed@example.com", "Zed", ""}, {"annika@other.io", "Annika", "Sol"},
	}
	for _, p := range people {
		c := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: p.email, Status: accounts.StatusActive,
			Profile: map[string]any{"first_name": p.first, "last_name": p.last}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := store.For(a).Create(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	twin := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: "ann@example.com", Status: accounts.StatusActive, Profile: map[string]any{"first_name": "Ann"}}
	if err := store.For(b).Create(ctx, twin); err != nil {
		t.Fatal(err)
	}
	emails := func(p accounts.SearchPage) []string {
		var out []string
		for _, c := range p.Customers {
			out = append(out, c.Email)
		}
		return out
	}

	t.Run("name prefix", func(t *testing.T) {
		p, err := store.For(a).Search(ctx, "Ann", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(emails(p)); got != "[ann@example.com anna@example.com annika@other.io]" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("email prefix, paged", func(t *testing.T) {
		p1, err := store.For(a).Search(ctx, "ann@", "", 1)
		if err != nil || len(p1.Customers) != 1 || p1.Next != "" {
			t.Fatalf("ann@: %v %v %q", emails(p1), err, p1.Next)
		}
		all, _ := store.For(a).Search(ctx, "", "", 2)
		if len(all.Customers) != 2 || all.Next == "" {
			t.Fatalf("first page %v next %q", emails(all), all.Next)
		}
		seen := map[string]bool{}
		for page := all; ; {
			for _, e := range emails(page) {
				if seen[e] {
					t.Fatalf("%s on two pages", e)
				}
				seen[e] = true
			}
			if page.Next == "" {
				break
			}
			var err error
			if page, err = store.For(a).Search(ctx, "", page.Next, 2); err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != len(people) {
			t.Fatalf("paging saw %d of %d", len(seen), len(people))
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		p, err := store.For(b).Search(ctx, "ann", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Customers) != 1 || p.Customers[0].ID != twin.ID {
			t.Fatalf("bravo sees %v", emails(p))
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		if _, err := store.For(a).Search(ctx, "", "e:x|not-a-uuid", 10); err == nil {
			t.Fatal("a forged cursor was accepted")
		}
	})
}

// BenchmarkSearchMillion searches one tenant of 1,000,000 customers on
// PostgreSQL by email and by name prefix, first page and a deep page.
// "select-1", one SELECT 1 round trip on the same pool, is the floor;
// the four run in interleaved rounds on the one data set.
func BenchmarkSearchMillion(b *testing.B) {
	admin := os.Getenv(apptest.EnvDatabase)
	if admin == "" {
		b.Skip("needs PostgreSQL: set " + apptest.EnvDatabase)
	}
	ctx := context.Background()
	store, d, a, _ := searchSetup(b, apptest.PostgresDatabase(b, admin))
	err := d.Gorm.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at)
		SELECT gen_random_uuid(), ?, 'user' || lpad(g::text, 7, '0') || '@example.com', true, 'active',
		       jsonb_build_object('first_name', (ARRAY['Ann','Bob','Cleo','Dev','Eli','Fay','Gus','Hana'])[1 + g % 8] || g, 'last_name', 'Smith'),
		       now(), now()
		FROM generate_series(1, 1000000) g`, a).Error
	if err != nil {
		b.Fatal(err)
	}
	d.Gorm.Exec("ANALYZE customers")
	deep, _ := store.For(a).Search(ctx, "user05", "", 25)
	for range apptest.BenchRounds() {
		benchSelectOne(b, d)
		for _, bc := range []struct{ name, query, cursor string }{
			{"email-prefix", "user0512", ""},
			{"name-prefix", "cleo12", ""},
			{"next-page", "user05", deep.Next},
		} {
			b.Run(bc.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					p, err := store.For(a).Search(ctx, bc.query, bc.cursor, 25)
					if err != nil || len(p.Customers) == 0 {
						b.Fatalf("%v %d", err, len(p.Customers))
					}
				}
			})
		}
	}
}

// benchSelectOne runs the floor of the database benchmarks: one SELECT 1
// round trip on d's pool.
func benchSelectOne(b *testing.B, d *db.DB) {
	b.Run("select-1", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var one int
			if err := d.Gorm.Raw("SELECT 1").Scan(&one).Error; err != nil || one != 1 {
				b.Fatal(err)
			}
		}
	})
}
