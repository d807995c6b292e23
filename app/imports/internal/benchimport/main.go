// Command benchimport measures `gatehouse import` on PostgreSQL against
// psql's \copy of the same file: for each size it generates a CSV of
// that many customers (no password hashes) and runs interleaved rounds,
// each in a fresh database with a tenant, of \copy into a bare table
// then the real binary's import, reporting rows per second, the ratio to
// \copy (median and range) and the import's peak resident memory. Then
// it imports the largest file ten times into one database and reports
// the database's size after the first import and after the tenth, which
// shows whether finished imports release their scratch space.
// `make bench-import` runs it; docs/benchmarks.md keeps the figures.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"gatehouse/app/internal/benchkit"
)

// workers is passed to gatehouse import --workers.
var workers int

func main() {
	bin := flag.String("bin", "bin/gatehouse", "the gatehouse binary to measure")
	sizes := flag.String("rows", "100000,1000000", "comma-separated row counts")
	rounds := flag.Int("rounds", 5, "interleaved rounds of \\copy and import per size")
	repeat := flag.Int("repeat", 10, "imports of the largest file into one database, for its size after 1 and after this many (0: skip)")
	flag.IntVar(&workers, "workers", 2, "gatehouse import --workers: chunks worked on at once")
	psql := flag.String("psql", "/usr/bin/psql", "psql, for the \\copy baseline")
	admin := flag.String("database", benchkit.EnvOr("GATEHOUSE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL URL that may create databases")
	redisURL := flag.String("redis", os.Getenv("GATEHOUSE_TEST_REDIS_URL"), "Redis URL for the job queue (empty: the CLI runs every step in process)")
	flag.Parse()
	fmt.Printf("gatehouse import on PostgreSQL · %s/%s · GOMAXPROCS %d · %d CPUs · queue: %s · load %s\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), queueName(*redisURL), benchkit.Loadavg())
	fmt.Println("| rows | file | rounds | import rows/s, median (range) | \\copy rows/s, median | import / \\copy, median (range) | peak RSS, max | import CPU / wall, median |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|")
	var last []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fail(err)
		}
		if err := measure(*bin, *psql, *admin, *redisURL, n, *rounds); err != nil {
			fail(err)
		}
		last = []int{n}
	}
	if *repeat > 1 && len(last) == 1 {
		if err := growth(*bin, *admin, *redisURL, last[0], *repeat); err != nil {
			fail(err)
		}
	}
	fmt.Printf("\nload after: %s\n", benchkit.Loadavg())
}

// measure runs rounds interleaved rounds of \copy then import of one
// generated file, each in a fresh database, and prints one table row.
func measure(bin, psql, admin, redisURL string, rows, rounds int) error {
	dir, err := os.MkdirTemp("", "benchimport")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "customers.csv")
	size, err := benchkit.Generate(file, rows)
	if err != nil {
		return err
	}
	var imp, cp, ratio, cpu []float64
	var rss float64
	for r := 0; r < rounds; r++ {
		b, err := newBench(bin, admin, redisURL, dir)
		if err != nil {
			return err
		}
		c, err := benchkit.CopyRate(context.Background(), b.sql, psql, b.dbURL, file, rows)
		if err == nil {
			var res result
			res, err = b.importFile(file, rows, rows)
			imp, cp, ratio, cpu = append(imp, res.rate), append(cp, c), append(ratio, res.rate/c), append(cpu, res.cpu)
			rss = max(rss, res.rssMiB)
		}
		b.drop()
		if err != nil {
			return err
		}
	}
	fmt.Printf("| %s | %.0f MB | %d | %s (%s–%s) | %s | %.3f (%.3f–%.3f) | %.1f MiB | %.2f |\n", benchkit.Thousands(int64(rows)), float64(size)/1e6, rounds,
		benchkit.Thousands(int64(benchkit.Median(imp))), benchkit.Thousands(int64(benchkit.Min(imp))), benchkit.Thousands(int64(benchkit.Max(imp))), benchkit.Thousands(int64(benchkit.Median(cp))),
		benchkit.Median(ratio), benchkit.Min(ratio), benchkit.Max(ratio), rss, benchkit.Median(cpu))
	return nil
}

// growth imports one file n times into one database and prints its size
// after the first import and after the last: every import after the
// first finds its rows already there, so what grows is the import's own
// scratch space, which a finished job must have released.
func growth(bin, admin, redisURL string, rows, n int) error {
	dir, err := os.MkdirTemp("", "benchimport")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "customers.csv")
	if _, err := benchkit.Generate(file, rows); err != nil {
		return err
	}
	b, err := newBench(bin, admin, redisURL, dir)
	if err != nil {
		return err
	}
	defer b.drop()
	var first int64
	for i := 1; i <= n; i++ {
		want := rows
		if i > 1 {
			want = 0
		}
		if _, err := b.importFile(file, rows, want); err != nil {
			return err
		}
		if i == 1 {
			if first, err = b.size(); err != nil {
				return err
			}
		}
	}
	after, err := b.size()
	if err != nil {
		return err
	}
	fmt.Printf("\ndatabase size after 1 import of %s rows: %.1f MB; after %d imports of the same file: %.1f MB (%.3f×)\n",
		benchkit.Thousands(int64(rows)), float64(first)/1e6, n, float64(after)/1e6, float64(after)/float64(first))
	tables, err := b.biggest(5)
	if err != nil {
		return err
	}
	fmt.Printf("largest relations after %d: %s\n", n, tables)
	return nil
}

func queueName(redis string) string {
	if redis == "" {
		return "in process"
	}
	return "asynq on Redis"
}

// bench is one fresh database with a tenant, ready for imports.
type bench struct {
	bin, dbURL string
	env        []string
	drop       func()
	sql        *sql.DB
}

func newBench(bin, admin, redisURL, dir string) (*bench, error) {
	ctx := context.Background()
	dbURL, drop, err := benchkit.CreateDatabase(ctx, admin, "gh_bench_")
	if err != nil {
		return nil, err
	}
	b := &bench{bin: bin, dbURL: dbURL, drop: drop}
	b.env = append(os.Environ(),
		"GATEHOUSE_DATABASE_URL="+dbURL, "GATEHOUSE_REDIS_URL="+redisURL, "GATEHOUSE_SECRET_KEY="+benchkit.RandomHex(32),
		"GATEHOUSE_DATA_DIR="+dir, "GATEHOUSE_LOG_LEVEL=error")
	for _, args := range [][]string{{"migrate", "up"}, {"tenant", "create", "--slug", "bench", "--name", "Bench"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = b.env
		if out, err := cmd.CombinedOutput(); err != nil {
			drop()
			return nil, fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := benchkit.AddFields(ctx, dbURL, "bench"); err != nil {
		drop()
		return nil, err
	}
	conn, err := sql.Open("pgx", dbURL)
	if err != nil {
		drop()
		return nil, err
	}
	b.sql = conn
	b.drop = func() { conn.Close(); drop() }
	return b, nil
}

// result is one import's figures.
type result struct {
	rate   float64 // rows per second, wall time of the whole command
	rssMiB float64
	cpu    float64 // the import process's CPU time over its wall time
}

// importFile runs `gatehouse import` on file and checks it created want
// customers.
func (b *bench) importFile(file string, rows, want int) (result, error) {
	cmd := exec.Command(b.bin, "import", "--tenant", "bench", "--mode", "create", "--workers", strconv.Itoa(workers), file)
	cmd.Env = b.env
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("import: %v\n%s", err, out.String())
	}
	wall := time.Since(start)
	done := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "done:") {
			done = l
		}
	}
	if !strings.Contains(done, fmt.Sprintf("created %s", benchkit.Thousands(int64(want)))) {
		return result{}, fmt.Errorf("the import did not create %d rows:\n%s", want, out.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return result{rate: float64(rows) / wall.Seconds(), rssMiB: float64(ru.Maxrss) / 1024, cpu: cpu.Seconds() / wall.Seconds()}, nil
}

func (b *bench) size() (int64, error) {
	var n int64
	err := b.sql.QueryRow("SELECT pg_database_size(current_database())").Scan(&n)
	return n, err
}

// biggest names the n largest tables with their total size.
func (b *bench) biggest(n int) (string, error) {
	rows, err := b.sql.Query(`SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE c.relkind = 'r' AND ns.nspname = 'public' ORDER BY 2 DESC LIMIT $1`, n)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		var size int64
		if err := rows.Scan(&name, &size); err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("%s %.1f MB", name, float64(size)/1e6))
	}
	return strings.Join(out, ", "), rows.Err()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchimport:", err)
	os.Exit(1)
}
