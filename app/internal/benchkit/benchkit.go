// Package benchkit holds what the benchmark programs share: a private
// PostgreSQL database per run, the generated customer file and its
// \copy baseline, the tenant fields the file fills, the machine's load,
// and the median and range every figure is reported with.
package benchkit

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for database/sql

	"gatehouse/app/db"
	"gatehouse/tenants"
)

// CreateDatabase creates a database named prefix plus random hex on the
// server of admin, and returns its URL and a function that drops it.
func CreateDatabase(ctx context.Context, admin, prefix string) (string, func(), error) {
	name := prefix + RandomHex(6)
	conn, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		conn.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close()
	}, nil
}

// Generate writes rows customers (email, names, a verified flag and a
// signup date) to path and returns the file's size.
func Generate(path string, rows int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "email,first_name,last_name,email_verified,created_at")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, "customer%07d@example.com,First%d,Last%d,%t,20%02d-%02d-%02d\n", i, i, i, i%3 == 0, 10+i%15, 1+i%12, 1+i%28)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return fi.Size(), f.Close()
}

// CopyRate loads a Generate file with psql's \copy into a bare table with
// the file's columns, the baseline of an import, drops the table, and
// returns rows per second.
func CopyRate(ctx context.Context, d *sql.DB, psql, dbURL, file string, rows int) (float64, error) {
	if _, err := d.ExecContext(ctx, "CREATE TABLE copy_baseline (email text, first_name text, last_name text, email_verified boolean, created_at date)"); err != nil {
		return 0, err
	}
	defer d.ExecContext(ctx, "DROP TABLE copy_baseline") //nolint:errcheck // the database is dropped after the run
	cmd := exec.Command(psql, "-v", "ON_ERROR_STOP=1", "-q", "-d", dbURL, "-c", "\\copy copy_baseline FROM '"+file+"' WITH (FORMAT csv, HEADER true)")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("\\copy: %v\n%s", err, out)
	}
	wall := time.Since(start)
	var n int
	if err := d.QueryRowContext(ctx, "SELECT COUNT(*) FROM copy_baseline").Scan(&n); err != nil {
		return 0, err
	}
	if n != rows {
		return 0, fmt.Errorf("\\copy loaded %d rows, not %d", n, rows)
	}
	return float64(rows) / wall.Seconds(), nil
}

// AddFields gives tenant slug the text fields a Generate file fills, so
// an import writes them to each customer's profile.
func AddFields(ctx context.Context, dbURL, slug string) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(ctx, dbURL, quiet)
	if err != nil {
		return err
	}
	defer d.Close()
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	t, err := svc.BySlug(ctx, slug)
	if err != nil {
		return err
	}
	_, err = svc.SaveFields(ctx, t.ID, []tenants.Field{
		{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
		{Key: "last_name", Label: "Last name", Type: tenants.TypeText, Capture: tenants.CaptureOptional},
	})
	return err
}

// Loadavg is the machine's 1, 5 and 15 minute load averages.
func Loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Median of xs (0 for none).
func Median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Min of xs (0 for none).
func Min(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

// Max of xs (0 for none).
func Max(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// Thousands writes n with thousands separators, as the CLI prints counts.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// RandomHex is n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// EnvOr is the variable key, or def when it is empty.
func EnvOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
