package app

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"gatehouse/config"
)

// InProcessHandler is the handler `gatehouse serve` would run for the
// environment getenv describes (an apptest.Env's: its own PostgreSQL or
// SQLite database, already migrated, and its own Redis), without a
// listener, so that benchmarks in package app_test measure the server and
// not the loopback network. Its stores close when tb ends.
func InProcessHandler(tb testing.TB, getenv func(string) string) http.Handler {
	tb.Helper()
	h, _ := InProcessHandlerCounted(tb, getenv)
	return h
}

// Statements counts the SQL statements a handler runs, by kind, so a test
// can pin how many reads and writes one request costs.
type Statements struct {
	mu      sync.Mutex
	counts  map[string]int
	on      bool
	dialect string
}

// Dialect is the counted database's: "postgres" or "sqlite".
func (s *Statements) Dialect() string { return s.dialect }

// Start zeroes the counts and starts counting.
func (s *Statements) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts, s.on = map[string]int{}, true
}

// Stop stops counting and returns the counts since Start: "query" (reads),
// "create", "update", "delete", "raw", "transaction", and "write": one
// statement that writes rows and returns a result (PostgreSQL's WITH …
// UPDATE … INSERT … SELECT), which is its own transaction.
func (s *Statements) Stop() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = false
	return s.counts
}

func (s *Statements) add(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on {
		s.counts[kind]++
	}
}

// rowKind is the kind of a statement gorm ran for its result rows: a read,
// or a write that returns a result.
func rowKind(db *gorm.DB) string {
	q := db.Statement.SQL.String()
	if strings.HasPrefix(q, "WITH ") && (strings.Contains(q, "AS (UPDATE ") || strings.Contains(q, "AS (INSERT ")) {
		return "write"
	}
	return "query"
}

// countingPool counts the transactions begun on the database.
type countingPool struct {
	*sql.DB
	st *Statements
}

func (p countingPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	p.st.add("transaction")
	return p.DB.BeginTx(ctx, opts)
}

func (p countingPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// InProcessHandlerCounted is InProcessHandler with gorm callbacks that
// count every statement the handler runs.
func InProcessHandlerCounted(tb testing.TB, getenv func(string) string) (http.Handler, *Statements) {
	tb.Helper()
	cfg, _ := config.Load("serve", getenv)
	cfg.Finish()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := openCurrentDB(ctx, cfg, quiet)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	st := &Statements{dialect: d.Gorm.Dialector.Name()}
	cb := d.Gorm.Callback()
	for kind, err := range map[string]error{
		"query":  cb.Query().After("gorm:query").Register("count:query", func(*gorm.DB) { st.add("query") }),
		"create": cb.Create().After("gorm:create").Register("count:create", func(*gorm.DB) { st.add("create") }),
		"update": cb.Update().After("gorm:update").Register("count:update", func(*gorm.DB) { st.add("update") }),
		"delete": cb.Delete().After("gorm:delete").Register("count:delete", func(*gorm.DB) { st.add("delete") }),
		"row":    cb.Row().After("gorm:row").Register("count:row", func(db *gorm.DB) { st.add(rowKind(db)) }),
		"raw":    cb.Raw().After("gorm:raw").Register("count:raw", func(*gorm.DB) { st.add("raw") }),
	} {
		if err != nil {
			tb.Fatalf("register %s counter: %v", kind, err)
		}
	}
	if sqlDB, ok := d.Gorm.ConnPool.(*sql.DB); ok {
		d.Gorm.ConnPool = countingPool{DB: sqlDB, st: st}
		d.Gorm.Statement.ConnPool = d.Gorm.ConnPool
	}
	rc, err := openRedis(ctx, cfg.RedisURL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rc.client.Close() })
	s, err := newServices(cfg, quiet, d, rc, prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.close)
	h, err := newHandler(s)
	if err != nil {
		tb.Fatal(err)
	}
	return h, st
}
