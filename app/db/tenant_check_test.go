package db_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"gatehouse/app/apptest"
)

// TestCustomerTenantIntegrity: on PostgreSQL, customers.tenant_id is kept by
// statement-level triggers instead of a declared foreign key (migration
// 00036, for bulk imports). They must keep every guarantee the foreign key
// gave: no customer of a missing tenant, not even one row of a batch; no
// move to another tenant; deleting a tenant deletes its customers and only
// its own; and a tenant delete racing an insert leaves no orphan either way.
func TestCustomerTenantIntegrity(t *testing.T) {
	admin := os.Getenv(apptest.EnvDatabase)
	if admin == "" {
		t.Skip("the tenant triggers are PostgreSQL's: set " + apptest.EnvDatabase)
	}
	d := migrated(t, apptest.PostgresDatabase(t, admin))
	sqlDB, err := d.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exec := func(q string, args ...any) error { _, err := sqlDB.ExecContext(ctx, q, args...); return err }
	mustExec := func(q string, args ...any) {
		t.Helper()
		if err := exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	tenant := func(slug string) uuid.UUID {
		t.Helper()
		id := uuid.New()
		mustExec(`INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ($1, $2, $2, now(), now())`, id, slug)
		return id
	}
	const insertCustomer = `INSERT INTO customers (id, tenant_id, email, created_at, updated_at) VALUES ($1, $2, $3, now(), now())`
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := sqlDB.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	wantFKError := func(err error) {
		t.Helper()
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "23503" || pg.ConstraintName != "customers_tenant_id_fkey" {
			t.Fatalf("got %v, want a foreign key violation of customers_tenant_id_fkey", err)
		}
	}

	acme, globex := tenant("acme"), tenant("globex")

	t.Run("a missing tenant is refused", func(t *testing.T) {
		wantFKError(exec(insertCustomer, uuid.New(), uuid.New(), "nobody@example.com"))
	})
	t.Run("one bad row refuses the whole batch", func(t *testing.T) {
		wantFKError(exec(`INSERT INTO customers (id, tenant_id, email, created_at, updated_at)
			SELECT gen_random_uuid(), t, 'c' || n || '@example.com', now(), now()
			FROM unnest($1::uuid[]) WITH ORDINALITY AS u(t, n)`, []uuid.UUID{acme, globex, uuid.New(), acme}))
		if n := count(`SELECT count(*) FROM customers`); n != 0 {
			t.Fatalf("%d customers left by a refused batch", n)
		}
	})
	ada, bob := uuid.New(), uuid.New()
	mustExec(insertCustomer, ada, acme, "ada@example.com")
	mustExec(insertCustomer, bob, globex, "bob@example.com")
	mustExec(`INSERT INTO identities (id, tenant_id, customer_id, provider, subject, created_at, updated_at) VALUES ($1, $2, $3, 'google', 'g-ada', now(), now())`, uuid.New(), acme, ada)

	t.Run("a customer cannot move to another tenant", func(t *testing.T) {
		wantFKError(exec(`UPDATE customers SET tenant_id = $1 WHERE id = $2`, globex, ada))
		if err := exec(`UPDATE customers SET email_verified = true WHERE id = $1`, ada); err != nil {
			t.Fatalf("an update that keeps the tenant: %v", err)
		}
	})
	t.Run("deleting a tenant deletes its customers and no one else's", func(t *testing.T) {
		mustExec(`DELETE FROM tenants WHERE id = $1`, acme)
		if n := count(`SELECT count(*) FROM customers WHERE tenant_id = $1`, acme); n != 0 {
			t.Fatalf("%d customers of a deleted tenant", n)
		}
		if n := count(`SELECT count(*) FROM identities WHERE customer_id = $1`, ada); n != 0 {
			t.Fatalf("%d identities of a deleted tenant's customer", n)
		}
		if n := count(`SELECT count(*) FROM customers WHERE id = $1`, bob); n != 1 {
			t.Fatal("deleting acme removed globex's customer")
		}
	})

	// blocked waits until some backend waits on a lock, as the second of two
	// racing transactions must.
	blocked := func() {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the second transaction never waited for the first")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	inBackground := func(f func() error) <-chan error {
		done := make(chan error, 1)
		go func() { done <- f() }()
		return done
	}
	begin := func() *sql.Tx {
		t.Helper()
		tx, err := sqlDB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}

	t.Run("a delete waiting for an insert removes what it inserted", func(t *testing.T) {
		initech := tenant("initech")
		insert := begin()
		if _, err := insert.ExecContext(ctx, insertCustomer, uuid.New(), initech, "peter@example.com"); err != nil {
			t.Fatal(err)
		}
		deleted := inBackground(func() error { return exec(`DELETE FROM tenants WHERE id = $1`, initech) })
		blocked()
		if err := insert.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-deleted; err != nil {
			t.Fatal(err)
		}
		if n := count(`SELECT count(*) FROM customers WHERE tenant_id = $1`, initech); n != 0 {
			t.Fatalf("%d orphan customers after the delete", n)
		}
	})
	t.Run("an insert waiting for a delete is refused", func(t *testing.T) {
		hooli := tenant("hooli")
		del := begin()
		if _, err := del.ExecContext(ctx, `DELETE FROM tenants WHERE id = $1`, hooli); err != nil {
			t.Fatal(err)
		}
		inserted := inBackground(func() error { return exec(insertCustomer, uuid.New(), hooli, "gavin@example.com") })
		blocked()
		if err := del.Commit(); err != nil {
			t.Fatal(err)
		}
		wantFKError(<-inserted)
		if n := count(`SELECT count(*) FROM customers WHERE tenant_id = $1`, hooli); n != 0 {
			t.Fatalf("%d orphan customers after the insert", n)
		}
	})
}
