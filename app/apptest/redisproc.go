package apptest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisProcess is a redis-server of the test's own, on a loopback port
// nobody else uses, with no persistence, that the test may stop and start
// again to see what Gatehouse does while Redis is away. The shared Redis
// is never touched.
type RedisProcess struct {
	t    testing.TB
	Port int
	args []string
	cmd  *exec.Cmd
}

// NeedBinary returns the path of a Debian binary a test depends on
// (redis-server, redis-sentinel). Without it the test skips with one line,
// or fails when GATEHOUSE_E2E=required, as CI installs it.
func NeedBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(EnvE2E) == "required" {
			t.Fatalf("apptest: GATEHOUSE_E2E=required but %s is not installed (apt-get install %s)", name, pkg)
		}
		t.Skipf("apptest: %s not installed (apt-get install %s)", name, pkg)
	}
	return path
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartRedis starts a private redis-server (extra are more redis-server
// arguments, such as "--replicaof"). It is stopped when the test ends.
func StartRedis(t testing.TB, extra ...string) *RedisProcess {
	t.Helper()
	bin := NeedBinary(t, "redis-server", "redis-server")
	p := &RedisProcess{t: t, Port: FreePort(t)}
	p.args = append([]string{bin, "--port", strconv.Itoa(p.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--logfile", filepath.Join(t.TempDir(), "redis.log")}, extra...)
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Addr is host:port.
func (p *RedisProcess) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.Port) }

// URL is the redis:// URL of database db.
func (p *RedisProcess) URL(db int) string { return "redis://" + p.Addr() + "/" + strconv.Itoa(db) }

// Start (re)starts the server on its port and waits until it answers.
func (p *RedisProcess) Start() {
	p.t.Helper()
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("apptest: start redis-server: %v", err)
	}
	WaitRedis(p.t, p.Addr())
}

// Stop kills the server (SIGKILL: an outage, not a shutdown) and waits
// for it to exit. Its data is gone: it keeps nothing on disk.
func (p *RedisProcess) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// Pause freezes the server (SIGSTOP): it holds its connections but answers
// nothing, as a stalled replica would. Resume thaws it.
func (p *RedisProcess) Pause() { p.signal(syscall.SIGSTOP) }

// Resume undoes Pause (SIGCONT).
func (p *RedisProcess) Resume() { p.signal(syscall.SIGCONT) }

func (p *RedisProcess) signal(sig os.Signal) {
	p.t.Helper()
	if p.cmd == nil || p.cmd.Process == nil {
		p.t.Fatal("apptest: redis-server is not running")
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("apptest: signal redis-server: %v", err)
	}
}

// WaitRedis waits up to 10 s for a Redis (or Sentinel) at addr to answer PING.
func WaitRedis(t testing.TB, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	Eventually(t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis at %s: %v", addr, err)
		}
		return nil
	})
}

// StartSentinel starts a private redis-sentinel watching the master at
// masterPort under the name master, with a quorum of one and a
// one-second down-after, so a failover in a test takes seconds. It
// returns the Sentinel's port.
func StartSentinel(t testing.TB, master string, masterPort int) int {
	t.Helper()
	bin := NeedBinary(t, "redis-sentinel", "redis-sentinel")
	port := FreePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor %s 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 5000\n",
		port, dir, filepath.Join(dir, "sentinel.log"), master, masterPort, master, master)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf)
	if err := cmd.Start(); err != nil {
		t.Fatalf("apptest: start redis-sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	WaitRedis(t, "127.0.0.1:"+strconv.Itoa(port))
	return port
}
