package db_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"gatehouse/app/apptest"
	"gatehouse/app/db"
)

// schema lists each table's columns with their nullability.
func schema(t *testing.T, d *db.DB) map[string][]string {
	t.Helper()
	m := d.Gorm.Migrator()
	tables, err := m.GetTables()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, table := range tables {
		if table == "goose_db_version" || table == "sqlite_sequence" {
			continue
		}
		cols, err := m.ColumnTypes(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			nullable, _ := c.Nullable()
			desc := c.Name()
			if !nullable {
				desc += " NOT NULL"
			}
			out[table] = append(out[table], desc)
		}
		sort.Strings(out[table])
	}
	return out
}

func migrated(t *testing.T, url string) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	n, err := d.MigrateUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("a fresh database applied no migration")
	}
	if err := d.CheckSchema(ctx); err != nil {
		t.Fatalf("after migrate up: %v", err)
	}
	if n, err := d.MigrateUp(ctx); err != nil || n != 0 {
		t.Fatalf("second migrate up applied %d, %v; want 0", n, err)
	}
	return d
}

// TestDialectsHaveTheSameSchema proves the postgres and sqlite migration
// folders end in the same tables and columns.
func TestDialectsHaveTheSameSchema(t *testing.T) {
	admin := os.Getenv(apptest.EnvDatabase)
	if admin == "" {
		t.Skip("schema parity needs PostgreSQL: set " + apptest.EnvDatabase)
	}
	pg := schema(t, migrated(t, apptest.PostgresDatabase(t, admin)))
	lite := schema(t, migrated(t, filepath.Join(t.TempDir(), "parity.db")))
	if len(pg) == 0 {
		t.Fatal("no tables")
	}
	if !reflect.DeepEqual(pg, lite) {
		t.Fatalf("schemas differ:\npostgres: %v\nsqlite:   %v", pg, lite)
	}
}

func TestCheckSchemaOnEmptyDatabase(t *testing.T) {
	d, err := db.Open(context.Background(), apptest.Database(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.CheckSchema(context.Background()); err != db.ErrSchemaOutdated {
		t.Fatalf("CheckSchema on an empty database = %v, want ErrSchemaOutdated", err)
	}
}
