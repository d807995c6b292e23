// Package apptest is the harness every integration test uses: it gives a
// test its own database (PostgreSQL when GATEHOUSE_TEST_DATABASE_URL is set,
// else SQLite in a temp dir), its own Redis (a locked database number on
// GATEHOUSE_TEST_REDIS_URL, else miniredis), an SMTP server that collects
// mail, and runs the real app.Main against them: `serve`, `worker` and the
// CLI commands, exactly as an operator would.
package apptest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver, to create and drop test databases
	"github.com/redis/go-redis/v9"

	"gatehouse/app/db"
)

// Environment variables that point tests at real services.
const (
	EnvDatabase = "GATEHOUSE_TEST_DATABASE_URL"
	EnvRedis    = "GATEHOUSE_TEST_REDIS_URL"
	EnvE2E      = "GATEHOUSE_E2E"
)

// UsingPostgres reports whether tests run on real PostgreSQL.
func UsingPostgres() bool { return os.Getenv(EnvDatabase) != "" }

// Database returns the URL of a fresh, empty database for t, dropped when t
// ends: a uniquely named PostgreSQL database, or a SQLite file in t's temp dir.
func Database(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvDatabase)
	if admin == "" {
		return filepath.Join(t.TempDir(), "gatehouse.db")
	}
	return PostgresDatabase(t, admin)
}

// PostgresDatabase creates a uniquely named database on the server of
// adminURL and drops it (forcibly) when t ends.
func PostgresDatabase(t testing.TB, adminURL string) string {
	t.Helper()
	name := "gh_test_" + randomHex(8)
	conn, err := sql.Open("pgx", adminURL)
	if err != nil {
		t.Fatalf("apptest: %s: %v", EnvDatabase, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("apptest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn, err := sql.Open("pgx", adminURL)
		if err != nil {
			t.Errorf("apptest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("apptest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("apptest: %s: %v", EnvDatabase, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Redis returns the URL of an empty Redis database for t: on the server of
// GATEHOUSE_TEST_REDIS_URL, a database number that no other test run holds
// (claimed with a lock key in database 0, flushed before and after), else an
// in-process miniredis.
func Redis(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvRedis)
	if base == "" {
		m := miniredis.RunT(t)
		stop := make(chan struct{})
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					m.FastForward(100 * time.Millisecond)
				}
			}
		}()
		t.Cleanup(func() { close(stop) })
		return "redis://" + m.Addr() + "/0"
	}
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("apptest: %s: %v", EnvRedis, err)
	}
	ctx := context.Background()
	lockOpt := *opt
	lockOpt.DB = 0
	admin := redis.NewClient(&lockOpt)
	token := randomHex(8)
	for n := 1; n < 16; n++ {
		key := "gatehouse:test:dblock:" + strconv.Itoa(n)
		ok, err := admin.SetNX(ctx, key, token, 20*time.Minute).Result()
		if err != nil {
			admin.Close()
			t.Fatalf("apptest: %s: %v", EnvRedis, err)
		}
		if !ok {
			continue
		}
		dbOpt := *opt
		dbOpt.DB = n
		client := redis.NewClient(&dbOpt)
		if err := client.FlushDB(ctx).Err(); err != nil {
			t.Fatalf("apptest: flush redis db %d: %v", n, err)
		}
		t.Cleanup(func() {
			_ = client.FlushDB(ctx).Err()
			client.Close()
			if v, _ := admin.Get(ctx, key).Result(); v == token {
				admin.Del(ctx, key)
			}
			admin.Close()
		})
		u, _ := url.Parse(base)
		u.Path = "/" + strconv.Itoa(n)
		return u.String()
	}
	admin.Close()
	t.Fatalf("apptest: every Redis database 1-15 on %s is held by another test", base)
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// MigratedDB opens a fresh database for t (see Database), applies every
// migration and closes it when t ends: the start of every store test.
func MigratedDB(t testing.TB) *db.DB {
	t.Helper()
	return MigratedDBAt(t, Database(t))
}

// MigratedDBAt is MigratedDB on a database of the caller's choosing.
func MigratedDBAt(t testing.TB, url string) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}
