package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/tenants"
)

// TestDevServe boots `serve --dev` on an empty data dir, as `make run` does,
// then again on the same dir.
func TestDevServe(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	dataDir := t.TempDir()
	for _, k := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_SECRET_KEY", "GATEHOUSE_SMTP_URL"} {
		env.Set(k, "")
	}
	env.Set("GATEHOUSE_DATA_DIR", dataDir)
	srv := env.Serve("--dev")

	t.Run("banner says where to click", func(t *testing.T) {
		out := srv.Stdout.String()
		for _, want := range []string{"http://demo.localhost:" + srv.Port + "/login", "http://console.localhost:" + srv.Port + "/"} {
			if !strings.Contains(out, want) {
				t.Errorf("banner lacks %s:\n%s", want, out)
			}
		}
	})

	t.Run("secret key is generated 0600", func(t *testing.T) {
		fi, err := os.Stat(filepath.Join(dataDir, "secret.key"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("secret.key mode %v, want 0600", fi.Mode().Perm())
		}
	})

	t.Run("demo tenant login page is themed", func(t *testing.T) {
		resp, body := srv.Get(t, "demo.localhost", "/login")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if !strings.Contains(body, "Demo Coffee Co.") {
			t.Fatalf("page does not name the tenant:\n%s", body)
		}
		if !strings.Contains(body, `href="/theme.css?v=`) {
			t.Fatal("page does not link the tenant's theme")
		}
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "strict-origin-when-cross-origin",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q", csp)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Error("no request id")
		}
	})

	t.Run("theme stylesheet", func(t *testing.T) {
		_, page := srv.Get(t, "demo.localhost", "/login")
		i := strings.Index(page, "/theme.css?v=")
		href := page[i : i+strings.IndexByte(page[i:], '"')]
		resp, css := srv.Get(t, "demo.localhost", href)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("theme.css: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(css, "--gh-primary:"+tenants.DefaultTheme().PrimaryColor) {
			t.Fatalf("theme.css = %q", css)
		}
		if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("versioned theme.css not cached: %q", resp.Header.Get("Cache-Control"))
		}
	})

	t.Run("static assets are content-hashed and cached", func(t *testing.T) {
		_, page := srv.Get(t, "demo.localhost", "/login")
		i := strings.Index(page, "/static/app.")
		href := page[i : i+strings.IndexByte(page[i:], '"')]
		resp, _ := srv.Get(t, "anything.example", href)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") {
			t.Fatalf("%s: %d %q", href, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	})

	t.Run("unknown host is a plain 404 naming no tenant", func(t *testing.T) {
		resp, body := srv.Get(t, "nobody.localhost", "/login")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for _, leak := range []string{"Demo", "demo", "tenant", "theme.css"} {
			if strings.Contains(body, leak) {
				t.Errorf("404 body mentions %q:\n%s", leak, body)
			}
		}
	})

	t.Run("health on any host", func(t *testing.T) {
		for _, host := range []string{"nobody.localhost", "demo.localhost", "console.localhost"} {
			if resp, body := srv.Get(t, host, "/healthz"); resp.StatusCode != 200 || body != "ok\n" {
				t.Errorf("%s/healthz: %d %q", host, resp.StatusCode, body)
			}
			if resp, body := srv.Get(t, host, "/readyz"); resp.StatusCode != 200 || !strings.Contains(body, `"redis":"ok"`) || !strings.Contains(body, `"database":"ok"`) {
				t.Errorf("%s/readyz: %d %q", host, resp.StatusCode, body)
			}
		}
	})

	t.Run("cross-site POST is refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL("demo.localhost", "/login"), strings.NewReader("email=a@b.c"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, _ := srv.Do(t, req)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site POST got %d, want 403", resp.StatusCode)
		}
	})

	t.Run("CLI against the dev data dir is served within 5 seconds", func(t *testing.T) {
		r := env.Run("tenant", "create", "--slug", "acme", "--name", "Acme Coffee", "--domain", "login.acme.test")
		if r.Code != 0 {
			t.Fatalf("tenant create exited %d: %s", r.Code, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "http://acme.localhost:"+srv.Port+"/login") {
			t.Errorf("tenant create should print the clickable login URL:\n%s", r.Stdout)
		}
		for _, host := range []string{"acme.localhost", "login.acme.test"} {
			apptest.Eventually(t, 5*time.Second, func() error {
				resp, body := srv.Get(t, host, "/login")
				if resp.StatusCode != 200 || !strings.Contains(body, "Acme Coffee") {
					return fmt.Errorf("%s: %d", host, resp.StatusCode)
				}
				return nil
			})
		}
	})

	t.Run("dev mail goes to the outbox", func(t *testing.T) {
		r := env.Run("mail", "test", "--to", "ops@example.com", "--tenant", "acme")
		if r.Code != 0 {
			t.Fatalf("mail test exited %d: %s", r.Code, r.Stderr)
		}
		apptest.Eventually(t, 10*time.Second, func() error {
			files, _ := filepath.Glob(filepath.Join(dataDir, "outbox", "*.eml"))
			if len(files) != 1 {
				return fmt.Errorf("%d files in the outbox", len(files))
			}
			b, _ := os.ReadFile(files[0])
			if !strings.Contains(string(b), "To: <ops@example.com>") || !strings.Contains(string(b), "Subject: Gatehouse test message for Acme Coffee") {
				return fmt.Errorf("unexpected message:\n%s", b)
			}
			return nil
		})
	})
}

// TestDevServeReusesData runs `serve --dev` twice on one data dir: the key,
// the database and the demo tenant carry over, and nothing is duplicated.
func TestDevServeReusesData(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	run := func() string {
		env := apptest.New(t)
		for _, k := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_SECRET_KEY", "GATEHOUSE_SMTP_URL"} {
			env.Set(k, "")
		}
		env.Set("GATEHOUSE_DATA_DIR", dataDir)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		var out strings.Builder
		go func() { done <- mainRun(ctx, env, &out) }()
		apptest.Eventually(t, 30*time.Second, func() error {
			if _, err := os.Stat(filepath.Join(dataDir, "serve.port")); err != nil {
				return err
			}
			return nil
		})
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("serve --dev exited %d", code)
		}
		key, _ := os.ReadFile(filepath.Join(dataDir, "secret.key"))
		r := env.Run("tenant", "list")
		if strings.Count(r.Stdout, "demo ") != 1 {
			t.Fatalf("tenant list after a run:\n%s\n%s", r.Stdout, r.Stderr)
		}
		return string(key)
	}
	if first, second := run(), run(); first != second || first == "" {
		t.Fatal("the second run made a new secret key")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "redis.addr")); !os.IsNotExist(err) {
		t.Fatal("a stopped dev server left redis.addr behind")
	}
}

// TestTenantCLIRefusesBadInput checks each refusal names the problem and
// exits non-zero, and that nothing is written.
func TestTenantCLIRefusesBadInput(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	if r := env.Run("tenant", "create", "--slug", "acme", "--name", "Acme"); r.Code != 0 {
		t.Fatalf("create: %d %s", r.Code, r.Stderr)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"reserved slug", []string{"--slug", "console", "--name", "X"}, `"console" is reserved`},
		{"bad slug", []string{"--slug", "Bad Slug", "--name", "X"}, "only lower-case letters"},
		{"duplicate slug", []string{"--slug", "acme", "--name", "X"}, `slug "acme" already exists`},
		{"missing name", []string{"--slug", "bravo"}, "--name: must not be empty"},
		{"bad domain", []string{"--slug", "bravo", "--name", "B", "--domain", "https://x.test/"}, "bare host name"},
		{"domain under base", []string{"--slug", "bravo", "--name", "B", "--domain", "acme.localhost"}, "under the base domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Run(append([]string{"tenant", "create"}, tt.args...)...)
			if r.Code == 0 {
				t.Fatalf("exit 0, want failure")
			}
			if !strings.Contains(r.Stderr, tt.want) {
				t.Fatalf("stderr %q lacks %q", r.Stderr, tt.want)
			}
		})
	}
	r := env.Run("tenant", "list")
	if strings.Contains(r.Stdout, "bravo") || !strings.Contains(r.Stdout, "acme") {
		t.Fatalf("list:\n%s", r.Stdout)
	}
}

// TestProductionConfig checks that without --dev a missing or malformed
// setting stops start-up with exit 2 and one line naming the variable.
func TestProductionConfig(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	tests := []struct {
		name, key, value, want string
	}{
		{"missing database", "GATEHOUSE_DATABASE_URL", "", "GATEHOUSE_DATABASE_URL is not set"},
		{"malformed database", "GATEHOUSE_DATABASE_URL", "mysql://x/y", "GATEHOUSE_DATABASE_URL: unsupported scheme"},
		{"missing redis", "GATEHOUSE_REDIS_URL", "", "GATEHOUSE_REDIS_URL is not set"},
		{"malformed redis", "GATEHOUSE_REDIS_URL", "127.0.0.1:6379", "GATEHOUSE_REDIS_URL:"},
		{"missing key", "GATEHOUSE_SECRET_KEY", "", "GATEHOUSE_SECRET_KEY is not set"},
		{"short key", "GATEHOUSE_SECRET_KEY", "abcd", "GATEHOUSE_SECRET_KEY: must be 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := env.Getenv(tt.key)
			env.Set(tt.key, tt.value)
			defer env.Set(tt.key, old)
			r := env.Run("serve")
			if r.Code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.Code, r.Stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("stderr %q, want one line containing %q", r.Stderr, tt.want)
			}
		})
	}
}

// TestServeRefusesOutdatedSchema: production serve does not migrate; it
// says what to run.
func TestServeRefusesOutdatedSchema(t *testing.T) {
	t.Parallel()
	env := apptest.NewUnmigrated(t)
	r := env.Run("serve")
	if r.Code == 0 || !strings.Contains(r.Stderr, "gatehouse migrate up") {
		t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
	}
	if r := env.Run("migrate", "status"); r.Code != 0 || !strings.Contains(r.Stdout, "pending") {
		t.Fatalf("migrate status: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := env.Run("migrate", "up"); r.Code != 0 || !strings.Contains(r.Stdout, "applied") {
		t.Fatalf("migrate up: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := env.Run("migrate", "status"); r.Code != 0 || strings.Contains(r.Stdout, "pending") {
		t.Fatalf("migrate status after up: %s", r.Stdout)
	}
}

// TestTwoNodesAndAWorker is the production shape: two serve processes and a
// worker on one database and Redis. A tenant created with the CLI is served
// by both within 5 seconds, a theme change by one is served by the other
// within a second, suspension shows the neutral page, and a queued mail is
// delivered by the worker over SMTP.
func TestTwoNodesAndAWorker(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_METRICS_ADDR", "127.0.0.1:0")
	one, two := env.Serve(), env.Serve()
	env.Worker()

	if r := env.Run("tenant", "create", "--slug", "acme", "--name", "Acme Coffee", "--domain", "login.acme.test"); r.Code != 0 {
		t.Fatalf("tenant create: %d %s", r.Code, r.Stderr)
	}
	for _, srv := range []*apptest.Server{one, two} {
		for _, host := range []string{"acme.localhost", "login.acme.test"} {
			apptest.Eventually(t, 5*time.Second, func() error {
				resp, body := srv.Get(t, host, "/login")
				if resp.StatusCode != 200 || !strings.Contains(body, "Acme Coffee") {
					return fmt.Errorf("%s on :%s: %d", host, srv.Port, resp.StatusCode)
				}
				return nil
			})
		}
	}

	t.Run("theme saved through one node is served by the other", func(t *testing.T) {
		ctx := context.Background()
		// Prime both caches, then change the theme the way the console will.
		one.Get(t, "acme.localhost", "/theme.css")
		two.Get(t, "acme.localhost", "/theme.css")
		d, err := db.Open(ctx, env.Getenv("GATEHOUSE_DATABASE_URL"), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		opt, _ := redis.ParseURL(env.Getenv("GATEHOUSE_REDIS_URL"))
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		svc := tenants.NewService(tenants.NewStore(d.Gorm), tenants.NewBus(rdb, fmt.Sprintf("gatehouse:%d:tenants", opt.DB), slog.Default()), "localhost", slog.Default())
		acme, err := svc.BySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		th := acme.Theme
		th.PrimaryColor = "#c2410c"
		if _, err := svc.UpdateTheme(ctx, acme.ID, th); err != nil {
			t.Fatal(err)
		}
		apptest.Eventually(t, time.Second, func() error {
			_, css := two.Get(t, "acme.localhost", "/theme.css")
			if !strings.Contains(css, "#c2410c") {
				return fmt.Errorf("node two still serves %q", css)
			}
			return nil
		})
	})

	t.Run("suspended tenant shows the neutral unavailable page", func(t *testing.T) {
		if r := env.Run("tenant", "suspend", "--slug", "acme"); r.Code != 0 {
			t.Fatalf("suspend: %s", r.Stderr)
		}
		apptest.Eventually(t, 5*time.Second, func() error {
			resp, body := two.Get(t, "acme.localhost", "/login")
			if resp.StatusCode != http.StatusServiceUnavailable {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			if strings.Contains(body, "Acme") {
				t.Fatalf("unavailable page names the tenant:\n%s", body)
			}
			return nil
		})
		if r := env.Run("tenant", "resume", "--slug", "acme"); r.Code != 0 {
			t.Fatalf("resume: %s", r.Stderr)
		}
		apptest.Eventually(t, 5*time.Second, func() error {
			if resp, _ := one.Get(t, "acme.localhost", "/login"); resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		})
	})

	t.Run("queued mail is delivered by the worker over SMTP", func(t *testing.T) {
		if r := env.Run("mail", "test", "--to", "owner@acme.test", "--tenant", "acme"); r.Code != 0 {
			t.Fatalf("mail test: %d %s", r.Code, r.Stderr)
		}
		msg := env.Mail.WaitFor(t, "owner@acme.test", 15*time.Second)
		if !strings.Contains(msg.Text, "Acme Coffee") || msg.HTML == "" {
			t.Fatalf("message: %+v", msg)
		}
	})

	t.Run("metrics count requests by route", func(t *testing.T) {
		line := one.Stdout.Line("gatehouse: metrics on ")
		url := strings.TrimPrefix(line, "gatehouse: metrics on ")
		if url == "" {
			t.Fatal("no metrics line in the banner")
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), `gatehouse_http_requests_total{route="/login",status="200"}`) {
			t.Fatalf("metrics lack the login counter:\n%.2000s", b)
		}
		// The node has served pages, so each pool holds a connection.
		for _, pool := range []string{"gatehouse_db_open_connections", "gatehouse_redis_open_connections"} {
			m := regexp.MustCompile(`(?m)^` + pool + ` (\d+)$`).FindStringSubmatch(string(b))
			if m == nil || m[1] == "0" {
				t.Fatalf("metrics give %s as %v; want a count of at least 1", pool, m)
			}
		}
	})
}

// TestGracefulShutdown: a request still arriving when the server is told
// to stop is answered in full; then the server exits 0 and refuses new
// connections.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	if r := env.Run("tenant", "create", "--slug", "acme", "--name", "Acme"); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	srv := env.Serve()
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "email=late%40example.com&password=slow+but+steady+passphrase"
	head := "POST /register HTTP/1.1\r\nHost: acme.localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head + body[:10])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is now reading this request
	stopped := make(chan int, 1)
	go func() { stopped <- srv.Stop() }()
	time.Sleep(300 * time.Millisecond) // shutdown has begun
	if _, err := conn.Write([]byte(body[10:])); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request was dropped: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("in-flight sign-up answered %d", resp.StatusCode)
	}
	if code := <-stopped; code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	if c, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the stopped server still accepts connections")
	}
}
