// Command benchgo runs the Go benchmarks behind docs/benchmarks.md in
// interleaved rounds and prints each figure as a median with its range,
// and each ratio against its baseline from the same round. `make bench-go`
// runs it.
//
// Every benchmark package is compiled once. A round then runs each
// benchmark in turn, so a busy moment of the machine falls on a figure and
// its baseline alike. The benchmarks that build a 1,000,000-customer data
// set build it once and run their rounds on it (GATEHOUSE_BENCH_ROUNDS);
// they run after the rounds of the others. The raw output, with Go's #01,
// #02… repeat suffixes folded, goes to -out for benchstat, which this
// command runs last.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/app/internal/benchkit"
)

// job is one benchmark binary's run.
type job struct {
	pkg, bench string
	args       []string
	embedded   bool // SQLite and miniredis: the GATEHOUSE_TEST_* settings are removed
	once       bool // builds its data set once and runs the rounds itself
}

// jobs are the Go benchmarks of docs/benchmarks.md, but for those of
// `make bench-login`. `make bench-oidc` is the last one alone.
var jobs = []job{
	{pkg: "./tenants/", bench: "^BenchmarkResolve$", args: []string{"-test.benchmem"}, embedded: true},
	{pkg: "./tenants/", bench: "^BenchmarkLoadKnownHosts$", args: []string{"-test.benchtime", "3x"}},
	{pkg: "./app/", bench: "^BenchmarkUnknownHost$", args: []string{"-test.benchmem"}, embedded: true},
	{pkg: "./app/", bench: "^BenchmarkLoginOverload$", embedded: true},
	{pkg: "./app/", bench: "^(BenchmarkAPIMe|BenchmarkBareGinJSON)$", args: []string{"-test.benchmem", "-test.benchtime", "3000x"}, embedded: true},
	{pkg: "./app/accounts/", bench: "^BenchmarkLoginDatabaseCost$", args: []string{"-test.benchtime", "200x"}},
	{pkg: "./app/accounts/", bench: "^BenchmarkSearchMillion$", args: []string{"-test.benchtime", "500x"}, once: true},
	{pkg: "./app/accounts/", bench: "^BenchmarkListMillion$", args: []string{"-test.benchtime", "20x"}, once: true},
	{pkg: "./app/", bench: "^BenchmarkAPIListMillion$", args: []string{"-test.benchmem", "-test.benchtime", "500x"}, once: true},
	{pkg: "./app/stats/", bench: "^BenchmarkOverviewMillion$", args: []string{"-test.benchtime", "500x"}, once: true},
	{pkg: "./app/", bench: "^BenchmarkOP$", args: []string{"-test.benchmem", "-test.benchtime", "2s"}, once: true},
}

// ratio is a figure over its baseline in one round. With throughput set
// it is the baseline's cost over the figure's (the figure's rate as a
// share of the baseline's); otherwise the figure's cost over the
// baseline's (how many times the floor it costs).
type ratio struct {
	label, num, den, unit string
	throughput            bool
}

var ratios = append([]ratio{
	{"host → tenant, 10,000 tenants ÷ 10 tenants (ns/op)", "BenchmarkResolve/tenants=10000", "BenchmarkResolve/tenants=10", "ns/op", false},
	{"unknown host ÷ known host (requests/s)", "BenchmarkUnknownHost/host=unknown", "BenchmarkUnknownHost/host=known", "ns/op", true},
	{"login overload, 10× ÷ 1× (peak heap)", "BenchmarkLoginOverload/10x", "BenchmarkLoginOverload/1x", "peak-heap-MiB", false},
	{"GET /api/v1/me ÷ bare gin JSON (requests/s, wall clock)", "BenchmarkAPIMe", "BenchmarkBareGinJSON", "ns/op", true},
	{"GET /api/v1/me ÷ bare gin JSON (requests/s by CPU)", "BenchmarkAPIMe", "BenchmarkBareGinJSON", "cpu-µs/op", true},
	{"overview load × SELECT 1", "BenchmarkOverviewMillion/overview", "BenchmarkOverviewMillion/select-1", "ns/op", false},
}, append(opRatios(), append(floorRatios("BenchmarkSearchMillion", "select-1", "SELECT 1", "email-prefix", "name-prefix", "next-page"),
	append(floorRatios("BenchmarkAPIListMillion", "healthz", "GET /healthz", "first-page", "email-prefix", "next-page"),
		listRatios()...)...)...)...)

// opRatios sets each OpenID Provider endpoint's rate against the bare
// handler's.
func opRatios() []ratio {
	var rs []ratio
	for _, e := range []string{"Discovery", "JWKS", "Userinfo", "Introspect", "ClientCredentials", "Refresh", "CodeExchange"} {
		rs = append(rs, ratio{"OP " + e + " ÷ Baseline (requests/s)", "BenchmarkOP/" + e, "BenchmarkOP/Baseline", "ns/op", true})
	}
	return rs
}

// floorRatios sets each of a benchmark's cases against its floor.
func floorRatios(bench, floor, floorName string, cases ...string) []ratio {
	var rs []ratio
	for _, c := range cases {
		rs = append(rs, ratio{fmt.Sprintf("%s %s × %s", strings.TrimPrefix(bench, "Benchmark"), c, floorName), bench + "/" + c, bench + "/" + floor, "ns/op", false})
	}
	return rs
}

// listRatios sets each customers-list page against SELECT 1, and each
// order's deep page against its first.
func listRatios() []ratio {
	orders := []string{"alpha", "newest", "oldest", "recent", "stale"}
	var cases []string
	for _, o := range orders {
		cases = append(cases, o+"-first", o+"-deep")
	}
	rs := floorRatios("BenchmarkListMillion", "select-1", "SELECT 1", append(cases, "search-newest")...)
	for _, o := range orders {
		rs = append(rs, ratio{"ListMillion " + o + ", deep page ÷ first page", "BenchmarkListMillion/" + o + "-deep", "BenchmarkListMillion/" + o + "-first", "ns/op", false})
	}
	return rs
}

func main() {
	rounds := flag.Int("rounds", 6, "interleaved rounds (benchstat needs 6 for a confidence interval)")
	out := flag.String("out", "bench-go.txt", "raw benchmark output, for benchstat")
	benchstat := flag.String("benchstat", "", "benchstat's module@version, run with `go run` on -out at the end")
	only := flag.String("only", "", "run only the jobs whose benchmark pattern contains this")
	from := flag.String("from", "", "run nothing: print the tables of an earlier run's raw output")
	flag.Parse()
	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			fail(err)
		}
		s := newSamples()
		for _, line := range strings.Split(string(b), "\n") {
			s.add(fold(line))
		}
		s.print(os.Stdout)
		printRatios(os.Stdout, s)
		return
	}
	if os.Getenv(apptest.EnvDatabase) == "" {
		fail(errors.New("set " + apptest.EnvDatabase + " (PostgreSQL) and " + apptest.EnvRedis))
	}
	selected := jobs
	if *only != "" {
		selected = nil
		for _, j := range jobs {
			if strings.Contains(j.bench, *only) {
				selected = append(selected, j)
			}
		}
	}
	dir, err := os.MkdirTemp("", "benchgo-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{}
	for _, j := range selected {
		if bins[j.pkg] != "" {
			continue
		}
		bin := filepath.Join(dir, strings.NewReplacer("/", "_", ".", "").Replace(j.pkg)+".test")
		if b, err := exec.Command("go", "test", "-c", "-o", bin, j.pkg).CombinedOutput(); err != nil {
			fail(fmt.Errorf("go test -c %s: %v\n%s", j.pkg, err, b))
		}
		bins[j.pkg] = bin
	}
	raw, err := os.Create(*out)
	if err != nil {
		fail(err)
	}
	s := newSamples()
	loadBefore, start := benchkit.Loadavg(), time.Now()
	for r := 1; r <= *rounds; r++ {
		for _, j := range selected {
			if !j.once {
				run(j, bins[j.pkg], *rounds, r, raw, s)
			}
		}
	}
	for _, j := range selected {
		if j.once {
			run(j, bins[j.pkg], *rounds, 0, raw, s)
		}
	}
	if err := raw.Close(); err != nil {
		fail(err)
	}
	fmt.Printf("\n%d interleaved rounds in %s; load average (1, 5, 15 min) %s before, %s after; raw output in %s\n\n",
		*rounds, time.Since(start).Round(time.Second), loadBefore, benchkit.Loadavg(), *out)
	s.print(os.Stdout)
	printRatios(os.Stdout, s)
	if *benchstat != "" {
		fmt.Println()
		cmd := exec.Command("go", "run", *benchstat, *out)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fail(fmt.Errorf("benchstat: %w", err))
		}
	}
}

// run runs one job's binary in its package's folder, copies its output to
// raw with the repeat suffixes folded, and records its results.
func run(j job, bin string, rounds, round int, raw io.Writer, s *samples) {
	if round > 0 {
		fmt.Fprintf(os.Stderr, "round %d/%d: %s %s\n", round, rounds, j.pkg, j.bench)
	} else {
		fmt.Fprintf(os.Stderr, "%d rounds on one data set: %s %s\n", rounds, j.pkg, j.bench)
	}
	args := append([]string{"-test.run", "^$", "-test.bench", j.bench, "-test.timeout", "60m"}, j.args...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = j.pkg
	cmd.Env = append(os.Environ(), apptest.EnvBenchRounds+"="+strconv.Itoa(rounds))
	if j.embedded {
		cmd.Env = append(without(os.Environ(), apptest.EnvDatabase, apptest.EnvRedis), apptest.EnvBenchRounds+"="+strconv.Itoa(rounds))
	}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("%s %s: %v\n%s", j.pkg, j.bench, err, buf.String()))
	}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		line := fold(sc.Text())
		fmt.Fprintln(raw, line)
		s.add(line)
	}
}

// fold names every round of a benchmark alike, so that benchstat and the
// tables see one benchmark with a sample per round: it drops the suffix Go
// gives a sub-benchmark run again under its name (#01, #02…) and the
// round level of BenchmarkOP (round1/, round2/…).
func fold(line string) string {
	return rounds.ReplaceAllString(repeat.ReplaceAllString(line, "$1$2"), "$1/")
}

var (
	repeat = regexp.MustCompile(`^(Benchmark\S*?)#\d+(-\d+)?`)
	rounds = regexp.MustCompile(`^(Benchmark[^/\s]*)/round\d+/`)
)

// procs is the -GOMAXPROCS suffix of a benchmark's name.
var procs = regexp.MustCompile(`-\d+$`)

// samples holds each benchmark's results, per unit, in the order they ran:
// the i-th result of two benchmarks comes from the same round. order keeps
// the names in the order they first appeared.
type samples struct {
	by    map[string]map[string][]float64
	order []string
}

func newSamples() *samples { return &samples{by: map[string]map[string][]float64{}} }

func (s *samples) add(line string) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return
	}
	name := procs.ReplaceAllString(f[0], "")
	if s.by[name] == nil {
		s.by[name] = map[string][]float64{}
		s.order = append(s.order, name)
	}
	for i := 2; i+1 < len(f); i += 2 {
		if v, err := strconv.ParseFloat(f[i], 64); err == nil {
			s.by[name][f[i+1]] = append(s.by[name][f[i+1]], v)
		}
	}
}

// print writes every benchmark's figures as median (range) over the rounds.
func (s *samples) print(w io.Writer) {
	fmt.Fprintln(w, "| benchmark | unit | median | range | rounds |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|")
	for _, name := range s.order {
		for _, unit := range units(s.by[name]) {
			xs := s.by[name][unit]
			shown, f := unit, num
			if unit == "ns/op" {
				shown, f = "time/op", duration
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s–%s | %d |\n", strings.TrimPrefix(name, "Benchmark"), shown,
				f(benchkit.Median(xs)), f(benchkit.Min(xs)), f(benchkit.Max(xs)), len(xs))
		}
	}
	fmt.Fprintln(w)
}

// units lists a benchmark's units, ns/op first, then as Go prints them.
func units(m map[string][]float64) []string {
	var us []string
	for _, u := range []string{"ns/op", "B/op", "allocs/op"} {
		if m[u] != nil {
			us = append(us, u)
		}
	}
	var custom []string
	for u := range m {
		if u != "ns/op" && u != "B/op" && u != "allocs/op" {
			custom = append(custom, u)
		}
	}
	slices.Sort(custom)
	return append(us, custom...)
}

// printRatios writes each ratio's median and range over the rounds both
// sides ran in.
func printRatios(w io.Writer, s *samples) {
	fmt.Fprintln(w, "| ratio, per round | median | range | rounds |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, r := range ratios {
		xs := r.per(s)
		if len(xs) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %.3g | %.3g–%.3g | %d |\n", r.label, benchkit.Median(xs), benchkit.Min(xs), benchkit.Max(xs), len(xs))
	}
}

// per is the ratio in each round both sides ran in.
func (r ratio) per(s *samples) []float64 {
	a, b := s.by[r.num][r.unit], s.by[r.den][r.unit]
	var xs []float64
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] == 0 || b[i] == 0 {
			continue
		}
		if r.throughput {
			xs = append(xs, b[i]/a[i])
		} else {
			xs = append(xs, a[i]/b[i])
		}
	}
	return xs
}

// num writes a figure with three significant digits, or as a whole number
// when it is larger.
func num(x float64) string {
	if x >= 1000 {
		return benchkit.Thousands(int64(x + 0.5))
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// duration writes nanoseconds in the unit that suits them, with three
// significant digits.
func duration(ns float64) string {
	switch {
	case ns >= 1e6:
		return strconv.FormatFloat(ns/1e6, 'g', 3, 64) + " ms"
	case ns >= 1e3:
		return strconv.FormatFloat(ns/1e3, 'g', 3, 64) + " µs"
	}
	return strconv.FormatFloat(ns, 'g', 3, 64) + " ns"
}

// without is env minus the given variables.
func without(env []string, keys ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, k := range keys {
			if strings.HasPrefix(kv, k+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchgo:", err)
	os.Exit(1)
}
