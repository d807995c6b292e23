// Command benche2e measures Gatehouse end to end in production mode, the
// way an operator runs it: `serve` and `worker` as separate processes of
// the real binary, on a private PostgreSQL database and a Redis database
// it claims for the run. Every figure is a ratio against a baseline taken
// in the same round, and rounds are interleaved, so a busy machine slows
// both sides alike; it prints the median and range of each ratio over the
// rounds, with the machine's load before and after. `make bench-e2e` runs
// it; docs/benchmarks.md keeps its latest output.
//
// The figures:
//   - POST /login (argon2id verify, sessions, audit) against raw argon2id
//     with the same parameters, computed in this process;
//   - GET /login and GET /theme.css against a hello-world net/http handler;
//   - `gatehouse import` of a generated CSV against psql's \copy of it;
//   - logins per second while an import runs against idle logins, and the
//     import's rows per second meanwhile;
//   - GET /login on unknown hosts (a fresh random host each request)
//     against the same page on the tenant's host.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/argon2"

	"gatehouse/app/internal/benchkit"
	"gatehouse/app/passwords"
	"gatehouse/app/yield"
)

// options are the run's settings.
type options struct {
	bin, admin, redis, psql string
	rounds, rows, clients   int
	window                  time.Duration
}

func main() {
	var o options
	quick := flag.Bool("quick", false, "a short run: 100,000 rows and 2 s windows (figures are rougher)")
	flag.StringVar(&o.bin, "bin", "bin/gatehouse", "the gatehouse binary")
	flag.StringVar(&o.admin, "database", benchkit.EnvOr("GATEHOUSE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL URL that may create databases")
	flag.StringVar(&o.redis, "redis", benchkit.EnvOr("GATEHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis server; the run claims one of its databases 1-15")
	flag.StringVar(&o.psql, "psql", "/usr/bin/psql", "psql, for the \\copy baseline")
	flag.IntVar(&o.rounds, "rounds", 5, "interleaved rounds")
	flag.IntVar(&o.rows, "rows", 500_000, "rows of the generated import file")
	flag.IntVar(&o.clients, "clients", 8, "concurrent clients of the load generator")
	flag.DurationVar(&o.window, "window", 5*time.Second, "how long each rate is measured")
	helloAddr := flag.String("serve-hello", "", "run only the hello-world baseline server on this address (the bench starts itself so)")
	flag.Parse()
	if *helloAddr != "" {
		serveHello(*helloAddr)
		return
	}
	if *quick {
		given := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if !given["rows"] {
			o.rows = 100_000
		}
		if !given["window"] {
			o.window = 2 * time.Second
		}
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benche2e:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	loadBefore := benchkit.Loadavg()
	dir, err := os.MkdirTemp("", "benche2e")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	dbURL, dropDB, err := benchkit.CreateDatabase(ctx, o.admin, "gh_e2e_")
	if err != nil {
		return err
	}
	defer dropDB()
	redisURL, releaseRedis, err := claimRedis(ctx, o.redis)
	if err != nil {
		return err
	}
	defer releaseRedis()
	ropt, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	env := append(os.Environ(),
		"GATEHOUSE_DATABASE_URL="+dbURL, "GATEHOUSE_REDIS_URL="+redisURL, "GATEHOUSE_SECRET_KEY="+benchkit.RandomHex(32),
		"GATEHOUSE_DATA_DIR="+dir, "GATEHOUSE_LOG_LEVEL=warn", "GATEHOUSE_ADDR="+addr,
		"GATEHOUSE_PUBLIC_SCHEME=http", "GATEHOUSE_BASE_DOMAIN=localhost")
	g := &gatehouse{bin: o.bin, dbURL: dbURL, env: env, dir: dir}
	if err := g.cli("migrate", "up"); err != nil {
		return err
	}
	if err := g.cli("tenant", "create", "--slug", "bench", "--name", "Bench"); err != nil {
		return err
	}
	const password = "correct horse battery staple"
	if err := g.loginCustomers(password, 64); err != nil {
		return err
	}
	file := filepath.Join(dir, "customers.csv")
	if _, err := benchkit.Generate(file, o.rows); err != nil {
		return err
	}
	serve, err := g.start("serve")
	if err != nil {
		return err
	}
	defer serve.stop()
	worker, err := g.start("worker")
	if err != nil {
		return err
	}
	defer worker.stop()
	if err := waitReady("http://" + addr + "/readyz"); err != nil {
		return err
	}
	hello, err := freeAddr()
	if err != nil {
		return err
	}
	// In a process of its own, as serve is, so it does not share this
	// process's CPUs with the load generator.
	helloProc, err := startProcess(dir, "hello", os.Environ(), os.Args[0], "-serve-hello", hello)
	if err != nil {
		return err
	}
	defer helloProc.stop()
	if err := waitReady("http://" + hello + "/"); err != nil {
		return err
	}

	copyDB, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer copyDB.Close()

	lg := newLoad(addr, o.clients, o.window)
	m := map[string][]float64{}
	add := func(name string, v float64) { m[name] = append(m[name], v) }
	for r := 1; r <= o.rounds; r++ {
		fmt.Fprintf(os.Stderr, "round %d/%d · load %s\n", r, o.rounds, benchkit.Loadavg())
		raw := rawArgon2(runtime.NumCPU(), o.window)
		idle := lg.rate(lg.login(password))
		add("login", idle/raw)
		add("login_rate", idle)

		bare := lg.rate(lg.get(hello, "hello.localhost", "/"))
		add("login_page", lg.rate(lg.get(addr, "bench.localhost", "/login"))/bare)
		add("theme", lg.rate(lg.get(addr, "bench.localhost", "/theme.css"))/bare)

		known := lg.rate(lg.get(addr, "bench.localhost", "/login"))
		add("unknown", lg.rate(lg.unknownHost())/known)

		cp, err := benchkit.CopyRate(ctx, copyDB, o.psql, dbURL, file, o.rows)
		if err != nil {
			return err
		}
		imp, err := g.importFile(fmt.Sprintf("bench%d", 2*r), file, o.rows, nil)
		if err != nil {
			return err
		}
		add("import", imp/cp)
		add("import_rate", imp)

		var during, pressure float64
		busy, err := g.importFile(fmt.Sprintf("bench%d", 2*r+1), file, o.rows, func(stop <-chan struct{}) {
			sampled := make(chan float64)
			go func() {
				sampled <- samplePressure(ctx, rdb, yield.Key("gatehouse:"+strconv.Itoa(rdb.Options().DB)+":"), stop)
			}()
			during = lg.rateUntil(lg.login(password), stop)
			pressure = <-sampled
		})
		if err != nil {
			return err
		}
		add("login_during_import", during/idle)
		add("import_rate_during_logins", busy)
		add("pressure", pressure)
	}
	fmt.Printf("Gatehouse end to end, production mode (`serve` and `worker` processes, PostgreSQL, Redis) · %s/%s · %d CPUs · %d rounds · %s windows · %d clients · %s-row import\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), o.rounds, o.window, o.clients, benchkit.Thousands(int64(o.rows)))
	fmt.Printf("load average before: %s · after: %s\n\n", loadBefore, benchkit.Loadavg())
	fmt.Println("| figure | baseline | ratio, median | range |")
	fmt.Println("|---|---|---:|---:|")
	row := func(name, figure, baseline string) {
		fmt.Printf("| %s | %s | %.2f | %.2f–%.2f |\n", figure, baseline, benchkit.Median(m[name]), benchkit.Min(m[name]), benchkit.Max(m[name]))
	}
	row("login", "POST /login, right password", "raw argon2id, same parameters, one per CPU")
	row("login_page", "GET /login", "hello-world net/http handler")
	row("theme", "GET /theme.css", "hello-world net/http handler")
	row("import", "`gatehouse import` (rows/s)", "psql `\\copy` of the same file into a bare table")
	row("login_during_import", "POST /login for the whole of an import", "POST /login, idle")
	row("unknown", "GET /login, a new unknown host each request", "GET /login on the tenant's host")
	fmt.Println()
	fmt.Println("| absolute figure | median | range |")
	fmt.Println("|---|---:|---:|")
	abs := func(name, figure string) {
		fmt.Printf("| %s | %s | %s–%s |\n", figure, benchkit.Thousands(int64(benchkit.Median(m[name]))), benchkit.Thousands(int64(benchkit.Min(m[name]))), benchkit.Thousands(int64(benchkit.Max(m[name]))))
	}
	abs("login_rate", "idle logins/s")
	abs("import_rate", "import rows/s, alone")
	abs("import_rate_during_logins", "import rows/s, during logins")
	fmt.Printf("| interactive pressure the serve node published during those logins (0–1, app/yield) | %.2f | %.2f–%.2f |\n",
		benchkit.Median(m["pressure"]), benchkit.Min(m["pressure"]), benchkit.Max(m["pressure"]))
	return nil
}

// gatehouse runs the binary under test.
type gatehouse struct {
	bin, dbURL string
	env        []string
	dir        string
}

func (g *gatehouse) cli(args ...string) error {
	_, err := g.output(args...)
	return err
}

func (g *gatehouse) output(args ...string) (string, error) {
	cmd := exec.Command(g.bin, args...)
	cmd.Env = g.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// loginCustomers imports n verified customers of tenant bench with an
// argon2id hash of password, with the parameters new passwords get.
func (g *gatehouse) loginCustomers(password string, n int) error {
	hash, err := passwords.NewHasher(passwords.Default, 1, time.Minute).Hash(context.Background(), password)
	if err != nil {
		return err
	}
	path := filepath.Join(g.dir, "login.csv")
	var b strings.Builder
	b.WriteString("email,email_verified,password_hash\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "login%d@example.com,true,\"%s\"\n", i, hash) // the PHC string has commas
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return err
	}
	out, err := g.output("import", "--tenant", "bench", "--legacy-passwords", path)
	if err != nil {
		return err
	}
	if !strings.Contains(out, fmt.Sprintf("created %d ", n)) {
		return fmt.Errorf("the login customers were not all imported:\n%s", out)
	}
	return nil
}

// process is a running serve or worker.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (g *gatehouse) start(sub string) (*process, error) {
	return startProcess(g.dir, sub, g.env, g.bin, sub)
}

// startProcess starts bin with args, its output in dir/name.log.
func startProcess(dir, name string, env []string, bin string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); log.Close(); close(p.done) }()
	return p, nil
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// importFile creates tenant slug and imports file into it with the CLI,
// which queues the steps for the worker process and works on them too.
// When meanwhile is set it runs from the start of the import (staging
// included) until stop closes, when the import has ended, so its figure
// covers the whole import and the import's figure the whole load. It
// returns the import's rows per second.
func (g *gatehouse) importFile(slug, file string, rows int, meanwhile func(stop <-chan struct{})) (float64, error) {
	if err := g.cli("tenant", "create", "--slug", slug, "--name", slug); err != nil {
		return 0, err
	}
	if err := benchkit.AddFields(context.Background(), g.dbURL, slug); err != nil {
		return 0, err
	}
	cmd := exec.Command(g.bin, "import", "--tenant", slug, "--mode", "create", file)
	cmd.Env = g.env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	stop := make(chan struct{})
	measured := make(chan struct{})
	go func() {
		if meanwhile != nil {
			meanwhile(stop)
		}
		close(measured)
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	<-measured
	if err != nil {
		return 0, fmt.Errorf("import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "created "+benchkit.Thousands(int64(rows))) {
		return 0, fmt.Errorf("the import did not create %d rows:\n%s", rows, out.String())
	}
	return float64(rows) / wall.Seconds(), nil
}

// load is a closed-loop load generator: clients goroutines, each sending
// its next request when the last one is answered, for window.
type load struct {
	addr    string
	clients int
	window  time.Duration
	http    *http.Client
	once    sync.Once
}

func newLoad(addr string, clients int, window time.Duration) *load {
	tr := &http.Transport{MaxIdleConnsPerHost: clients * 2, MaxConnsPerHost: clients * 2, DisableCompression: true}
	return &load{addr: addr, clients: clients, window: window, http: &http.Client{
		Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// request sends one request and reports whether it got the answer the
// figure counts.
type request func(n int) bool

// rate runs req for the window from every client and returns the counted
// answers per second.
func (l *load) rate(req request) float64 {
	stop := make(chan struct{})
	t := time.AfterFunc(l.window, func() { close(stop) })
	defer t.Stop()
	return l.rateUntil(req, stop)
}

// rateUntil runs req from every client until stop closes.
func (l *load) rateUntil(req request, stop <-chan struct{}) float64 {
	var ok, n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < l.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !closed(stop) {
				if req(int(n.Add(1))) {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (l *load) do(req *http.Request, want int) bool {
	res, err := l.http.Do(req)
	if err != nil {
		l.once.Do(func() { fmt.Fprintf(os.Stderr, "%s %s (Host %s): %v\n", req.Method, req.URL.Path, req.Host, err) })
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		// The first surprise is worth seeing: a figure of 0 is otherwise a mystery.
		l.once.Do(func() {
			fmt.Fprintf(os.Stderr, "%s %s (Host %s): %d, not %d: %.300s\n", req.Method, req.URL.Path, req.Host, res.StatusCode, want, body)
		})
	}
	return res.StatusCode == want
}

func (l *load) get(addr, host, path string) request {
	return func(int) bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Host = host
		return l.do(req, http.StatusOK)
	}
}

// unknownHost asks for the login page of a host no tenant has, a new one
// each time, which the server answers with its plain 404.
func (l *load) unknownHost() request {
	prefix := benchkit.RandomHex(4)
	return func(n int) bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+l.addr+"/login", nil)
		req.Host = "nobody-" + prefix + "-" + strconv.Itoa(n) + ".localhost"
		return l.do(req, http.StatusNotFound)
	}
}

// login signs one of the imported customers in; success is the redirect
// that sets the session.
func (l *load) login(password string) request {
	return func(n int) bool {
		form := url.Values{"email": {fmt.Sprintf("login%d@example.com", n%64)}, "password": {password}}
		req, _ := http.NewRequest(http.MethodPost, "http://"+l.addr+"/login", strings.NewReader(form.Encode()))
		req.Host = "bench.localhost"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://bench.localhost")
		return l.do(req, http.StatusSeeOther)
	}
}

// samplePressure averages the published pressure figure (a missing key
// is 0) every 100 ms until stop closes.
func samplePressure(ctx context.Context, rdb *redis.Client, key string, stop <-chan struct{}) float64 {
	var sum float64
	n := 0
	for ; !closed(stop); time.Sleep(100 * time.Millisecond) {
		v, _ := rdb.Get(ctx, key).Float64()
		sum += v
		n++
	}
	return sum / float64(max(n, 1))
}

// rawArgon2 is argon2id hashes per second with the parameters Gatehouse
// uses, from workers goroutines for window.
func rawArgon2(workers int, window time.Duration) float64 {
	p := passwords.Default
	salt := make([]byte, 16)
	var n atomic.Int64
	deadline := time.Now().Add(window)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				argon2.IDKey([]byte("correct horse battery staple"), salt, p.Time, p.Memory, p.Threads, 32)
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// serveHello is the bare baseline: net/http writing a short body.
func serveHello(addr string) {
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "hello, world\n")
	}), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "benche2e: hello:", err)
		os.Exit(1)
	}
}

// claimRedis takes a Redis database 1-15 that nobody holds, with the lock
// keys the test suite uses (apptest.Redis), flushes it, and gives it back
// flushed.
func claimRedis(ctx context.Context, base string) (string, func(), error) {
	opt, err := redis.ParseURL(base)
	if err != nil {
		return "", nil, err
	}
	lockOpt := *opt
	lockOpt.DB = 0
	admin := redis.NewClient(&lockOpt)
	token := benchkit.RandomHex(8)
	for n := 1; n < 16; n++ {
		key := "gatehouse:test:dblock:" + strconv.Itoa(n)
		ok, err := admin.SetNX(ctx, key, token, time.Hour).Result()
		if err != nil {
			admin.Close()
			return "", nil, err
		}
		if !ok {
			continue
		}
		dbOpt := *opt
		dbOpt.DB = n
		client := redis.NewClient(&dbOpt)
		if err := client.FlushDB(ctx).Err(); err != nil {
			client.Close()
			admin.Close()
			return "", nil, err
		}
		u, _ := url.Parse(base)
		u.Path = "/" + strconv.Itoa(n)
		return u.String(), func() {
			_ = client.FlushDB(ctx).Err()
			client.Close()
			if v, _ := admin.Get(ctx, key).Result(); v == token {
				admin.Del(ctx, key)
			}
			admin.Close()
		}, nil
	}
	admin.Close()
	return "", nil, errors.New("every Redis database 1-15 is held by someone else")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(u string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within a minute", u)
}
