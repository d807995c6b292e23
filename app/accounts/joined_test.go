package accounts_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// TestJoinedCustomer: a customer read through JoinedColumns in another
// store's query is the customer ByID reads, for its own tenant only.
func TestJoinedCustomer(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", slog.New(slog.NewTextHandler(io.Discard, nil)))
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "A"})
	b, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "B"})
	store := accounts.NewStore(d.Gorm)
	ann := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: "ann@example.com", EmailVerified: true, Status: accounts.StatusActive,
		Profile: map[string]any{"first_name": "Ann", "drink": "tea"}}
	if err := store.For(a.ID).Create(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if err := store.For(a.ID).SetPasswordHash(ctx, ann.ID, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"); err != nil {
		t.Fatal(err)
	}
	// What another store would scan: a row of its own with the customer.
	type joined struct {
		Name     string                  `gorm:"column:name"`
		Customer accounts.JoinedCustomer `gorm:"embedded"`
	}
	read := func(t *testing.T, id uuid.UUID) joined {
		t.Helper()
		var row joined
		err := d.Gorm.Table("tenants AS tn").Select("tn.name, "+accounts.JoinedColumns("c")).
			Joins("LEFT JOIN customers c ON c.tenant_id = tn.id AND c.id = ?", id).
			Where("tn.id = ?", a.ID).Take(&row).Error
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	want, err := store.For(a.ID).ByID(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameCustomer := func(t *testing.T, got, want *accounts.Customer) {
		t.Helper()
		if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Fatalf("times: got %v %v, want %v %v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
		}
		got.CreatedAt, got.UpdatedAt = want.CreatedAt, want.UpdatedAt
		if !reflect.DeepEqual(got, want) || !got.HasPassword() {
			t.Fatalf("joined customer\n%+v\nByID\n%+v", got, want)
		}
	}

	t.Run("ok", func(t *testing.T) {
		got, err := read(t, ann.ID).Customer.Customer(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameCustomer(t, got, want)
	})
	t.Run("scanned by hand", func(t *testing.T) {
		rows, err := d.Gorm.Raw("SELECT "+accounts.JoinedColumns("c")+" FROM customers c WHERE c.tenant_id = ? AND c.id = ?", a.ID.String(), ann.ID.String()).Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var j accounts.JoinedCustomer
		if !rows.Next() {
			t.Fatalf("no row: %v", rows.Err())
		}
		if err := rows.Scan(j.Dest()...); err != nil {
			t.Fatal(err)
		}
		got, err := j.Customer(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameCustomer(t, got, want)
	})
	t.Run("other tenant", func(t *testing.T) {
		if _, err := read(t, ann.ID).Customer.Customer(b.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo got acme's customer: %v", err)
		}
	})
	t.Run("none joined", func(t *testing.T) {
		row := read(t, uuid.Must(uuid.NewV7()))
		if row.Name != "A" {
			t.Fatalf("the row itself: %q", row.Name)
		}
		if _, err := row.Customer.Customer(a.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("no customer joined: %v", err)
		}
	})
}
