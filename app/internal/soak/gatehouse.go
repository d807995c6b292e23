package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gatehouse/app/db"
	"gatehouse/tenants"
)

// tenantSlug is the brand the load runs against.
const tenantSlug = "soak"

// node is one gatehouse process: a serve node (port, metrics port) or a
// worker (no ports).
type node struct {
	*proc
	port, metrics int
}

func (n *node) readyz() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", n.port))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitReady waits for a serve node's /readyz, or for a worker's banner.
func (n *node) waitReady(timeout time.Duration) error {
	if n.port == 0 {
		return waitFor(timeout, n.name+" to start", func() bool {
			b, _ := os.ReadFile(n.log)
			return n.running() && strings.Contains(string(b), "worker running")
		})
	}
	return waitFor(timeout, n.name+" /readyz", func() bool {
		if !n.running() {
			return false
		}
		return n.readyz()
	})
}

// restart starts a killed node again; a worker's banner check then needs a
// fresh log, so the old one is set aside.
func (n *node) restart(timeout time.Duration) error {
	if n.port == 0 {
		_ = os.Rename(n.log, n.log+"."+strconv.FormatInt(time.Now().UnixNano(), 10))
	}
	if err := n.start(); err != nil {
		return err
	}
	return n.waitReady(timeout)
}

// gatehouseEnv is the production configuration every node shares.
func gatehouseEnv(base []string, dbURL, redisURL, smtpURL, key string, publicPort int) []string {
	return append(append([]string{}, base...),
		"GATEHOUSE_DATABASE_URL="+dbURL,
		"GATEHOUSE_REDIS_URL="+redisURL,
		"GATEHOUSE_SMTP_URL="+smtpURL,
		"GATEHOUSE_SECRET_KEY="+key,
		"GATEHOUSE_BASE_DOMAIN=localhost",
		"GATEHOUSE_PUBLIC_SCHEME=http",
		"GATEHOUSE_PUBLIC_PORT="+strconv.Itoa(publicPort),
		// The load balancer and the load run on loopback; the load
		// generator sets X-Forwarded-For to one address per simulated
		// customer, so per-address limits see many customers, as on the
		// internet.
		"GATEHOUSE_TRUSTED_PROXIES=127.0.0.1",
		"GATEHOUSE_API_IP_LIMIT=100000",
		"GATEHOUSE_API_CLIENT_LIMIT=100000",
		"GATEHOUSE_LOG_LEVEL=warn",
	)
}

// cli runs one gatehouse command to completion and returns its stdout.
func cli(bin string, env []string, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("gatehouse %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), nil
}

// machineApp is the OAuth app the load's client_credentials grants and
// the import use.
type machineApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// provision migrates the database and creates the brand, its profile
// field and the machine app, all through the real binary except the
// field, which has no CLI and is saved through the tenants service as the
// console would.
func provision(bin string, env []string, dbURL string) (app machineApp, native string, err error) {
	for _, args := range [][]string{{"migrate", "up"}, {"tenant", "create", "--slug", tenantSlug, "--name", "Soak"}} {
		if _, err := cli(bin, env, "", args...); err != nil {
			return app, "", err
		}
	}
	if err := addField(dbURL); err != nil {
		return app, "", err
	}
	out, err := cli(bin, env, "", "app", "create", "--tenant", tenantSlug, "--name", "soak-m2m", "--type", "machine", "--scope", "imports:write", "--json")
	if err != nil {
		return app, "", err
	}
	if err := json.Unmarshal([]byte(out), &app); err != nil || app.ClientID == "" || app.ClientSecret == "" {
		return app, "", fmt.Errorf("app create --json: unexpected output %q (%v)", out, err)
	}
	out, err = cli(bin, env, "", "app", "create", "--tenant", tenantSlug, "--name", "soak-native", "--type", "native", "--first-party", "--redirect-uri", "com.soak.app:/cb", "--json")
	if err != nil {
		return app, "", err
	}
	var n machineApp
	if err := json.Unmarshal([]byte(out), &n); err != nil || n.ClientID == "" {
		return app, "", fmt.Errorf("app create --json: unexpected output %q (%v)", out, err)
	}
	return app, n.ClientID, nil
}

func addField(dbURL string) error {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(ctx, dbURL, quiet)
	if err != nil {
		return err
	}
	defer d.Close()
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	t, err := svc.BySlug(ctx, tenantSlug)
	if err != nil {
		return err
	}
	_, err = svc.SaveFields(ctx, t.ID, []tenants.Field{
		{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureOptional},
	})
	return err
}

// writeImportFile generates rows customers for the import, in an address
// space the load never signs up in.
func writeImportFile(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "email,first_name,email_verified")
	for i := range rows {
		fmt.Fprintf(w, "imp%07d@import.soak.test,Imported%d,%t\n", i, i, i%2 == 0)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// logTail returns the last n lines of a process's log, for failures.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return filepath.Base(path) + ":\n  " + strings.Join(lines, "\n  ")
}
