package apptest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/app"
	"gatehouse/app/mail/mailtest"
)

// Env is one isolated Gatehouse installation for a test: its own database,
// Redis, SMTP server, secret key and data dir. Run, Serve and Worker start
// the real app.Main against it, as separate "processes" that share nothing
// but those stores.
type Env struct {
	t    testing.TB
	mu   sync.Mutex
	vars map[string]string
	opts app.Options
	Mail *mailtest.Server
}

// SetOptions sets the wiring options (app.Options) of the commands started
// after it, such as a resolver that sends tenant hosts to the server.
func (e *Env) SetOptions(o app.Options) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opts = o
}

func (e *Env) options() app.Options {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts
}

// New returns a migrated, empty installation.
func New(t testing.TB) *Env {
	t.Helper()
	e := NewUnmigrated(t)
	if r := e.Run("migrate", "up"); r.Code != 0 {
		t.Fatalf("apptest: migrate up exited %d: %s", r.Code, r.Stderr)
	}
	return e
}

// NewUnmigrated returns an installation whose database has no schema yet.
func NewUnmigrated(t testing.TB) *Env {
	t.Helper()
	e := &Env{t: t, Mail: mailtest.Start(t)}
	e.vars = map[string]string{
		"GATEHOUSE_DATABASE_URL":  Database(t),
		"GATEHOUSE_REDIS_URL":     Redis(t),
		"GATEHOUSE_SMTP_URL":      e.Mail.URL(),
		"GATEHOUSE_SECRET_KEY":    randomHex(32),
		"GATEHOUSE_DATA_DIR":      t.TempDir(),
		"GATEHOUSE_BASE_DOMAIN":   "localhost",
		"GATEHOUSE_PUBLIC_SCHEME": "http",
		"GATEHOUSE_ADDR":          "127.0.0.1:0",
		"GATEHOUSE_PUBLIC_PORT":   "auto",
		"GATEHOUSE_LOG_LEVEL":     "warn",
	}
	return e
}

// Set changes one environment variable for the commands started after it;
// an empty value unsets it.
func (e *Env) Set(key, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vars[key] = value
}

// Getenv is the environment the commands see.
func (e *Env) Getenv(key string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.vars[key]
}

// Result is how a command ended.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs one command to completion, as `gatehouse args...`.
func (e *Env) Run(args ...string) Result {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := app.Main(ctx, args, e.Getenv, &stdout, &stderr)
	return Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// Server is a running `gatehouse serve`.
type Server struct {
	Addr   string // 127.0.0.1:port
	Port   string
	Client *http.Client // dials Addr whatever the URL's host, so any Host header reaches it
	Stdout *Output
}

// Serve starts `gatehouse serve args...` and returns once it listens. It is
// stopped, and must exit cleanly, when the test ends.
func (e *Env) Serve(args ...string) *Server {
	e.t.Helper()
	out := e.start(append([]string{"serve"}, args...), "gatehouse: listening on http://")
	line := out.Line("gatehouse: listening on http://")
	addr := strings.TrimPrefix(line, "gatehouse: listening on http://")
	_, port, _ := net.SplitHostPort(addr)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost: 16,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Server{Addr: addr, Port: port, Client: client, Stdout: out}
}

// Worker starts `gatehouse worker` and returns once it runs.
func (e *Env) Worker(args ...string) *Output {
	e.t.Helper()
	return e.start(append([]string{"worker"}, args...), "gatehouse: worker running")
}

// start runs a long-lived command until the test ends, waiting for ready on
// its stdout. On the way out it cancels the command's context (as SIGTERM
// does) and checks it exits 0.
func (e *Env) start(args []string, ready string) *Output {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newOutput()
	stderr := newOutput()
	out.log = stderr
	done := make(chan int, 1)
	opts := e.options()
	go func() { done <- app.MainWith(ctx, args, e.Getenv, strings.NewReader(""), out, stderr, opts) }()
	var once sync.Once
	code := -1
	out.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(60 * time.Second):
				e.t.Errorf("apptest: %s did not stop within 60s of shutdown", args[0])
			}
		})
		return code
	}
	e.t.Cleanup(func() {
		if c := out.stop(); c != 0 {
			e.t.Errorf("apptest: %s exited %d:\n%s", args[0], c, stderr.String())
		}
		if e.t.Failed() {
			e.t.Logf("%s stderr:\n%s", args[0], stderr.String())
		}
	})
	select {
	case <-out.wait(ready):
	case code := <-done:
		e.t.Fatalf("apptest: %s exited %d before it was ready:\n%s", args[0], code, stderr.String())
	case <-time.After(60 * time.Second):
		e.t.Fatalf("apptest: %s not ready after 60s:\n%s", args[0], stderr.String())
	}
	return out
}

// Stop shuts the server down as SIGTERM does and returns its exit code,
// once in-flight requests have finished.
func (s *Server) Stop() int { return s.Stdout.stop() }

// URL is the address of path on host, at the server's port.
func (s *Server) URL(host, path string) string {
	return "http://" + host + ":" + s.Port + path
}

// Get fetches path from host and returns the response with its body read.
func (s *Server) Get(t testing.TB, host, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL(host, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.Do(t, req)
}

// Do sends req and returns the response with its body read.
func (s *Server) Do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", req.URL, err)
	}
	return resp, string(b)
}

// Eventually retries check every 100ms until it returns nil or timeout
// passes, then fails the test with the last error.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Output collects a command's stdout line by line, so a test can wait for a
// line and read what was printed.
type Output struct {
	stop    func() int // cancels the command, as SIGTERM does, and waits for its exit code
	log     *Output    // the command's stderr, where its log goes
	mu      sync.Mutex
	lines   []string
	partial []byte
	waiters map[string]chan struct{}
}

func newOutput() *Output { return &Output{waiters: map[string]chan struct{}{}} }

// NewOutput is an Output of the test's own: a line sink that goroutines may
// write to while the test reads it, such as a logger's.
func NewOutput() *Output { return newOutput() }

// Count is how many lines printed so far contain s.
func (o *Output) Count(s string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, l := range o.lines {
		n += strings.Count(l, s)
	}
	return n
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.partial = append(o.partial, p...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		line := string(o.partial[:i])
		o.partial = o.partial[i+1:]
		o.lines = append(o.lines, line)
		for prefix, ch := range o.waiters {
			if strings.HasPrefix(line, prefix) {
				close(ch)
				delete(o.waiters, prefix)
			}
		}
	}
	return len(p), nil
}

func (o *Output) wait(prefix string) <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := make(chan struct{})
	for _, l := range o.lines {
		if strings.HasPrefix(l, prefix) {
			close(ch)
			return ch
		}
	}
	o.waiters[prefix] = ch
	return ch
}

// Line returns the first line printed that starts with prefix, or "".
func (o *Output) Line(prefix string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range o.lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// String is everything printed so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.lines, "\n") + string(o.partial)
}

// Log is everything the command has logged so far (its stderr), so a test
// can check what reaches an operator's log, such as that no secret does.
func (o *Output) Log() string {
	if o.log == nil {
		return ""
	}
	return o.log.String()
}
