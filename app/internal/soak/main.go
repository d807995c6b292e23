// Command soak runs Gatehouse as it runs in production, on this machine,
// and hurts it on a schedule: two serve nodes and two workers on a private
// PostgreSQL cluster, Redis with a replica and three Sentinels, HAProxy in
// front. A bounded mixed load runs while one serve node and one worker are
// SIGKILLed, Sentinel fails the primary over, PostgreSQL restarts and Redis
// stops for 10 s. Afterwards it checks what must have survived (issue 16)
// and writes a report. `make soak` runs it for 5 minutes, `make
// soak-short` (CI) for 60 s; it exits 1 when an invariant fails.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	bin        string
	pgBin      string
	duration   time.Duration
	vus        int
	importRows int
	report     string
	redisMode  string
	keep       bool
	drain      time.Duration
}

// soak is one run: the topology, the load and what was observed.
type soak struct {
	opt  options
	tmp  string
	t0   time.Time
	mail *mailSink

	pg      *postgres
	db      *sql.DB
	redis   *redisSet
	lb      *proc
	serve   []*node
	workers []*node
	load    *load

	redisURL   string
	redisNote  string
	importFile string
	importRows int
	importID   string
	killedAt   int64 // import rows applied when the worker was killed
	// importPosted delivers the answer to the import's POST, which
	// stages the whole file and so runs beside the first fault.
	importPosted chan error

	drainBy time.Time // when waiting for mail and the import gives up

	mu      sync.Mutex
	windows []window
	warmMem []memReading
	endMem  []memReading
	// goroutineDump summarises serve-2's goroutines at the end of the run.
	goroutineDump string

	cleanOnce sync.Once
	cleanups  []func()
}

func main() {
	var o options
	short := flag.Bool("short", false, "CI form: 60 s, every fault once, no report file unless -report is given")
	flag.StringVar(&o.bin, "bin", "bin/gatehouse", "the gatehouse binary to run (make soak builds it)")
	flag.StringVar(&o.pgBin, "pg-bin", "/usr/lib/postgresql/15/bin", "directory of initdb and pg_ctl")
	flag.DurationVar(&o.duration, "duration", 5*time.Minute, "how long the load runs")
	flag.IntVar(&o.vus, "vus", 4, "virtual users sending requests at once")
	flag.IntVar(&o.importRows, "import-rows", 200000, "rows in the import")
	flag.StringVar(&o.report, "report", "docs/reliability.md", "file the report is written to (empty: print only)")
	flag.StringVar(&o.redisMode, "redis", "auto", "how nodes reach Redis: sentinel (redis-sentinel:// URL), direct (the primary's redis:// URL) or auto (sentinel when the binary accepts it)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, data) for a look afterwards")
	flag.DurationVar(&o.drain, "drain", 90*time.Second, "how long to wait, at most, after the load for mail and the import to finish")
	flag.Parse()
	if *short {
		o.duration = 60 * time.Second
		if !isSet("report") {
			o.report = ""
		}
	}
	os.Exit(run(o))
}

func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// run returns the exit code: 0 when every invariant holds, 1 when one
// fails, 2 when the topology could not be built.
func run(o options) int {
	s := &soak{opt: o, importRows: o.importRows}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer s.cleanup()
	// A second Ctrl-C, or a run that does not end after the first, still
	// cleans up before exiting.
	go func() {
		<-ctx.Done()
		time.Sleep(30 * time.Second)
		s.cleanup()
		os.Exit(130)
	}()
	start := time.Now()
	if err := s.setup(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "soak: setup failed:", err)
		s.dumpLogs()
		return 2
	}
	s.logf("topology up in %.1f s", time.Since(start).Seconds())
	res := s.exercise(ctx)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "soak: interrupted; cleaning up")
		return 130
	}
	rep := s.report(res, time.Since(start))
	fmt.Print(rep)
	if o.report != "" {
		if err := os.WriteFile(o.report, []byte(rep), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			return 2
		}
		s.logf("report written to %s", o.report)
	}
	if !res.passed() {
		s.dumpLogs()
		// Last, so that a CI log cut to its tail still names what failed.
		for _, i := range res.invariants {
			if !i.ok {
				fmt.Fprintf(os.Stderr, "soak: FAILED: %s: %s\n", i.name, i.detail)
			}
		}
		return 1
	}
	return 0
}

func (s *soak) logf(format string, args ...any) {
	since := 0.0
	if !s.t0.IsZero() {
		since = time.Since(s.t0).Seconds()
	}
	fmt.Fprintf(os.Stderr, "soak [%6.1fs] %s\n", since, fmt.Sprintf(format, args...))
}

// onCleanup registers f to run, last registered first, when the soak ends
// in any way.
func (s *soak) onCleanup(f func()) {
	s.mu.Lock()
	s.cleanups = append(s.cleanups, f)
	s.mu.Unlock()
}

func (s *soak) cleanup() {
	s.cleanOnce.Do(func() {
		s.mu.Lock()
		fs := s.cleanups
		s.mu.Unlock()
		for i := len(fs) - 1; i >= 0; i-- {
			fs[i]()
		}
	})
}

// ensureTools installs Redis Sentinel and HAProxy from Debian's packages
// when they are missing.
func ensureTools() error {
	var missing []string
	for _, t := range []struct{ bin, pkg string }{{"redis-server", "redis-server"}, {"redis-sentinel", "redis-sentinel"}, {"haproxy", "haproxy"}} {
		if _, err := exec.LookPath(t.bin); err != nil {
			missing = append(missing, t.pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing %s: run sudo apt-get install -y %s", strings.Join(missing, ", "), strings.Join(missing, " "))
	}
	fmt.Fprintln(os.Stderr, "soak: installing", strings.Join(missing, " "))
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq"}, missing...)} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// setup builds the topology: PostgreSQL, Redis and Sentinels, the mail
// sink, the schema and brand, two workers, two serve nodes, HAProxy.
func (s *soak) setup(ctx context.Context) error {
	if err := ensureTools(); err != nil {
		return err
	}
	bin, err := filepath.Abs(s.opt.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s: build it first (make build): %w", s.opt.bin, err)
	}
	if s.tmp, err = os.MkdirTemp("", "gatehouse-soak-"); err != nil {
		return err
	}
	s.onCleanup(func() {
		if s.opt.keep {
			fmt.Fprintln(os.Stderr, "soak: kept", s.tmp)
			return
		}
		_ = os.RemoveAll(s.tmp)
	})
	ports, err := freePorts(11)
	if err != nil {
		return err
	}
	pgPort, redisPorts, sentinelPorts, lbPort, servePorts, metricPorts := ports[0], ports[1:3], ports[3:6], ports[6], ports[7:9], ports[9:11]
	base := cleanEnv()

	if s.pg, err = newPostgres(s.tmp, s.opt.pgBin, pgPort); err != nil {
		return err
	}
	s.onCleanup(s.pg.stop)
	if err := s.pg.init(); err != nil {
		return err
	}
	if s.db, err = s.pg.open(); err != nil {
		return err
	}
	s.onCleanup(func() { s.db.Close() })

	if s.redis, err = newRedisSet(s.tmp, redisPorts, sentinelPorts, base); err != nil {
		return err
	}
	s.onCleanup(func() {
		for _, p := range s.redis.all() {
			p.kill()
		}
	})
	if err := s.redis.start(); err != nil {
		return err
	}
	if s.mail, err = startMailSink(); err != nil {
		return err
	}
	s.onCleanup(s.mail.close)

	key := randomHex(32)
	s.redisURL = s.redis.sentinelURL()
	if s.opt.redisMode == "direct" || s.opt.redisMode == "auto" && !acceptsSentinel(bin, base, s.pg.url(), s.redisURL, key) {
		s.redisURL = s.redis.directURL()
		s.redisNote = "this gatehouse binary does not accept redis-sentinel:// URLs, so the nodes use the first primary directly (redis://); after the failover they still point at it"
	}
	env := gatehouseEnv(base, s.pg.url(), s.redisURL, s.mail.url(), key, lbPort)
	app, native, err := provision(bin, env, s.pg.url())
	if err != nil {
		return err
	}
	s.importFile = filepath.Join(s.tmp, "import.csv")
	if err := writeImportFile(s.importFile, s.importRows); err != nil {
		return err
	}

	for i := range 2 {
		name := fmt.Sprintf("worker-%d", i+1)
		w := &node{proc: &proc{name: name, argv: []string{bin, "worker", "--concurrency", "8"}, env: env, dir: s.tmp, log: filepath.Join(s.tmp, name+".log")}}
		s.workers = append(s.workers, w)
		s.onCleanup(func() { w.stop(10 * time.Second) })
		if err := w.start(); err != nil {
			return err
		}
	}
	for i := range 2 {
		name := fmt.Sprintf("serve-%d", i+1)
		nenv := append(append([]string{}, env...), "GATEHOUSE_ADDR="+addr(servePorts[i]), "GATEHOUSE_METRICS_ADDR="+addr(metricPorts[i]), "GATEHOUSE_DATA_DIR="+filepath.Join(s.tmp, name))
		n := &node{proc: &proc{name: name, argv: []string{bin, "serve"}, env: nenv, dir: s.tmp, log: filepath.Join(s.tmp, name+".log")}, port: servePorts[i], metrics: metricPorts[i]}
		s.serve = append(s.serve, n)
		s.onCleanup(func() { n.stop(10 * time.Second) })
		if err := n.start(); err != nil {
			return err
		}
	}
	for _, n := range append(append([]*node{}, s.workers...), s.serve...) {
		if err := n.waitReady(90 * time.Second); err != nil {
			return err
		}
	}
	if s.lb, err = newHAProxy(s.tmp, lbPort, servePorts, base); err != nil {
		return err
	}
	s.onCleanup(func() { s.lb.stop(5 * time.Second) })
	if err := s.lb.start(); err != nil {
		return err
	}
	s.load = newLoad(lbPort, app, native, s.opt.vus)
	s.onCleanup(s.load.tr.CloseIdleConnections)
	return waitFor(30*time.Second, "haproxy to pass requests", func() bool {
		_, err := s.load.accessToken("setup")
		return err == nil
	})
}

// acceptsSentinel asks the binary whether it takes a redis-sentinel://
// URL: a worker refuses a scheme it does not know at once, naming the
// variable, while one that knows it keeps running (and is stopped here).
func acceptsSentinel(bin string, base []string, dbURL, redisURL, key string) bool {
	p := &proc{name: "probe", argv: []string{bin, "worker"}, env: gatehouseEnv(base, dbURL, redisURL, "", key, 0), log: filepath.Join(os.TempDir(), "gatehouse-soak-probe-"+randomHex(4)+".log")}
	defer os.Remove(p.log)
	if err := p.start(); err != nil {
		return false
	}
	select {
	case <-p.exited():
	case <-time.After(3 * time.Second):
		p.kill()
	}
	b, _ := os.ReadFile(p.log)
	return !strings.Contains(string(b), "GATEHOUSE_REDIS_URL")
}

// cleanEnv is the soak's environment without any GATEHOUSE_ setting, so
// the machine's own configuration cannot leak into the nodes.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			out = append(out, kv)
		}
	}
	return out
}

// memoryTail is the least steady load between memory's baseline and its
// end reading.
const memoryTail = 30 * time.Second

// exercise runs the load and the fault schedule, then lets the queue
// drain and checks the invariants.
func (s *soak) exercise(ctx context.Context) *results {
	s.t0 = time.Now()
	s.importPosted = make(chan error, 1)
	warm := max(10*time.Second, s.opt.duration/10)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() { s.load.run(loadCtx); close(loadDone) }()

	sleep(ctx, warm)
	s.logf("warm-up done")
	s.schedule(ctx, s.t0, warm, s.opt.duration)
	// Memory's baseline is read once the last fault's window has closed,
	// when every kind of work has run (the import's upload, the largest
	// request, and its chunks; every Redis client, some of which only the
	// import or a failover brings up) and every fault has been recovered
	// from. The end reading comes after a steady tail of the same load, so
	// the two compare like with like: read after a 10 s warm-up instead,
	// the short form measured a process growing into its working size
	// (RSS +20-34%, goroutines +3 for a client first used by the import).
	sleep(ctx, time.Until(s.lastWindowEnd()))
	s.load.quiesce(func() { s.warmMem = s.readMemory() })
	s.logf("faults over; memory baseline read")
	// The load runs to its duration, and for at least a steady tail after
	// the baseline.
	end := s.t0.Add(s.opt.duration)
	if last := time.Now().Add(memoryTail); last.After(end) {
		end = last
	}
	sleep(ctx, time.Until(end))
	s.load.quiesce(func() { s.endMem = s.readMemory() })
	stopLoad()
	<-loadDone
	s.logf("load stopped; waiting for the queue to drain")
	return s.check(ctx)
}

func (s *soak) lastWindowEnd() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.windows) == 0 {
		return time.Now()
	}
	return s.windows[len(s.windows)-1].end
}

// dumpLogs prints the end of each process's log after a failure.
func (s *soak) dumpLogs() {
	var logs []string
	for _, n := range append(append([]*node{}, s.serve...), s.workers...) {
		logs = append(logs, n.log)
	}
	for _, l := range logs {
		if t := logTail(l, 15); t != "" {
			fmt.Fprintln(os.Stderr, t)
		}
	}
}
