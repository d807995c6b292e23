// Package db opens Gatehouse's database through gorm, on PostgreSQL or on
// pure-Go SQLite, and applies the embedded goose migrations. Stores receive
// the *gorm.DB it opens; nothing else in the program opens connections.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"gatehouse/config"
	"gatehouse/migrations"
)

// DB is an open database with its dialect.
type DB struct {
	Gorm    *gorm.DB
	Dialect config.Dialect
	sql     *sql.DB
}

// Open connects to the database named by rawURL and checks that it answers.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*DB, error) {
	dialect, dsn, err := config.ParseDatabaseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_DATABASE_URL: %w", err)
	}
	var dialector gorm.Dialector
	switch dialect {
	case config.Postgres:
		dialector = postgres.Open(dsn)
	case config.SQLite:
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("db: create directory for %s: %w", dsn, err)
		}
		// WAL lets the CLI write while a server reads; busy_timeout makes a
		// second writer wait instead of failing.
		dialector = sqlite.Open(dsn + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	}
	g, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 queryLog{log: log, slow: 500 * time.Millisecond},
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	if dialect == config.SQLite {
		sqlDB.SetMaxOpenConns(8)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(16)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("db: cannot reach %s database: %w", dialect, err)
	}
	return &DB{Gorm: g, Dialect: dialect, sql: sqlDB}, nil
}

// Close closes the connection pool.
func (d *DB) Close() error { return d.sql.Close() }

// Stats is the connection pool's state, for /metrics.
func (d *DB) Stats() sql.DBStats { return d.sql.Stats() }

// Ping checks that the database answers; /readyz calls it.
func (d *DB) Ping(ctx context.Context) error { return d.sql.PingContext(ctx) }

// ErrSchemaOutdated means migrations are pending; production `serve` refuses
// to start on it.
var ErrSchemaOutdated = errors.New("the database schema is out of date: run `gatehouse migrate up`")

// Migrations returns a goose provider for the embedded migrations of this
// database's dialect. On PostgreSQL an advisory lock keeps two processes from
// migrating at once.
func (d *DB) Migrations() (*goose.Provider, error) {
	fsys, err := migrations.For(string(d.Dialect))
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if d.Dialect == config.Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, d.sql, fsys, opts...)
}

// MigrateUp applies every pending migration and returns how many ran.
func (d *DB) MigrateUp(ctx context.Context) (int, error) {
	p, err := d.Migrations()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("db: migrate up: %w", err)
	}
	return len(res), nil
}

// CheckSchema returns ErrSchemaOutdated when a migration is pending.
func (d *DB) CheckSchema(ctx context.Context) error {
	p, err := d.Migrations()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("db: read schema version: %w", err)
	}
	if pending {
		return ErrSchemaOutdated
	}
	return nil
}
