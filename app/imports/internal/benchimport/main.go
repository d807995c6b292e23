// Command benchimport measures `gatehouse import` on PostgreSQL: for each
// size it creates a fresh database with a tenant, generates a CSV of that
// many customers (no password hashes), runs the real binary on it and
// reports the wall time, rows per second and the import process's peak
// resident memory. `make bench-import` runs it; docs/benchmarks.md keeps
// the figures.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"gatehouse/app/db"
	"gatehouse/tenants"
)

func main() {
	bin := flag.String("bin", "bin/gatehouse", "the gatehouse binary to measure")
	sizes := flag.String("rows", "100000,1000000", "comma-separated row counts")
	admin := flag.String("database", envOr("GATEHOUSE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL URL that may create databases")
	redisURL := flag.String("redis", os.Getenv("GATEHOUSE_TEST_REDIS_URL"), "Redis URL for the job queue (empty: the CLI runs every step in process)")
	flag.Parse()
	fmt.Printf("gatehouse import on PostgreSQL · %s/%s · GOMAXPROCS %d · %d CPUs · queue: %s\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), queueName(*redisURL))
	fmt.Println("| rows | file | wall time (staging + run) | rows/s (wall) | rows/s (run) | peak RSS |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fail(err)
		}
		if err := run(*bin, *admin, *redisURL, n); err != nil {
			fail(err)
		}
	}
}

func queueName(redis string) string {
	if redis == "" {
		return "in process"
	}
	return "asynq on Redis"
}

func run(bin, admin, redisURL string, rows int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "benchimport")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbURL, drop, err := createDatabase(ctx, admin)
	if err != nil {
		return err
	}
	defer drop()
	env := append(os.Environ(),
		"GATEHOUSE_DATABASE_URL="+dbURL, "GATEHOUSE_REDIS_URL="+redisURL, "GATEHOUSE_SECRET_KEY="+randomHex(32),
		"GATEHOUSE_DATA_DIR="+dir, "GATEHOUSE_LOG_LEVEL=error")
	for _, args := range [][]string{{"migrate", "up"}, {"tenant", "create", "--slug", "bench", "--name", "Bench"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := addFields(ctx, dbURL); err != nil {
		return err
	}
	file := filepath.Join(dir, "customers.csv")
	size, err := generate(file, rows)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "import", "--tenant", "bench", "--mode", "create", file)
	cmd.Env = env
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("import: %v\n%s", err, out.String())
	}
	wall := time.Since(start)
	done := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "done:") {
			done = l
		}
	}
	if !strings.Contains(done, fmt.Sprintf("created %s", thousands(int64(rows)))) {
		return fmt.Errorf("the import did not create every row:\n%s", out.String())
	}
	pass := "?"
	if i := strings.LastIndex(done, "("); i >= 0 {
		pass = strings.TrimSuffix(strings.TrimSuffix(done[i+1:], ")"), " rows/s")
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Printf("| %s | %.0f MB | %.1f s | %s | %s | %.1f MiB |\n", thousands(int64(rows)), float64(size)/1e6, wall.Seconds(),
		thousands(int64(float64(rows)/wall.Seconds())), pass, float64(ru.Maxrss)/1024)
	return nil
}

// addFields gives the bench tenant the text fields the file fills.
func addFields(ctx context.Context, dbURL string) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(ctx, dbURL, quiet)
	if err != nil {
		return err
	}
	defer d.Close()
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	t, err := svc.BySlug(ctx, "bench")
	if err != nil {
		return err
	}
	_, err = svc.SaveFields(ctx, t.ID, []tenants.Field{
		{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
		{Key: "last_name", Label: "Last name", Type: tenants.TypeText, Capture: tenants.CaptureOptional},
	})
	return err
}

// generate writes rows customers: email, names, a verified flag and a
// signup date.
func generate(path string, rows int) (int64, error) {
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
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), f.Close()
}

func createDatabase(ctx context.Context, admin string) (string, func(), error) {
	name := "gh_bench_" + randomHex(6)
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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func thousands(n int64) string {
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

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchimport:", err)
	os.Exit(1)
}
