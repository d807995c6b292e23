package app_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/app/mail/mailtest"
)

// TestWebhookSurvivesWorkerKill kills the worker process while it is
// posting an event (after the change committed, before the receiver
// answered) and, at the same moment, handing the sign-up's verification
// mail to an SMTP server that holds it, then starts another: the event
// and the mail both still arrive, once each. The two task types share one
// wait for asynq's lease on the killed worker's tasks.
func TestWebhookSurvivesWorkerKill(t *testing.T) {
	if !apptest.UsingPostgres() || os.Getenv(apptest.EnvRedis) == "" {
		t.Skip("the crash test needs real PostgreSQL and Redis shared by two processes: set " + apptest.EnvDatabase + " and " + apptest.EnvRedis)
	}
	if testing.Short() {
		t.Skip("the crash test waits out asynq's lease on the killed worker's task")
	}
	held := make(chan struct{})
	smtpSrv := mailtest.Start(t, mailtest.HoldFirst("crash@example.com", 10*time.Second, held))
	env := apptest.New(t)
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true")
	env.Set("GATEHOUSE_SMTP_URL", smtpSrv.URL())
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	srv := env.Serve() // relays the outbox, runs no worker
	bin := buildBinary(t)

	hook := newHookReceiver(t)
	// The first attempt hangs until the worker making it is dead.
	var once sync.Once
	inFlight := make(chan struct{})
	hook.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if first {
			_, _ = io.Copy(io.Discard, r.Body) // so the server notices the connection close
			close(inFlight)
			select {
			case <-r.Context().Done(): // the killed worker's connection closed
			case <-time.After(2 * time.Minute):
			}
			return
		}
		hook.serve(w, r)
	})
	_, secret := mustEndpoint(t, signedIn(t, srv, "admin@acme.test"), "acme", hook.srv.URL)
	hook.set(func(r *hookReceiver) { r.secrets = []string{secret} })

	first := startWorkerProcess(t, bin, env)
	hookSignUp(t, srv, "acme", "crash@example.com")
	select {
	case <-inFlight:
	case <-time.After(60 * time.Second):
		t.Fatal("the worker never posted the event")
	}
	select {
	case <-held:
	case <-time.After(60 * time.Second):
		t.Fatal("the worker never sent the verification mail")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	startWorkerProcess(t, bin, env)
	e := hook.waitFor("customer.created", func(e hookEvent) bool { return e.Data["email"] == "crash@example.com" })
	time.Sleep(2 * time.Second)
	if _, _, accepted, bad := hook.snapshot(); accepted[e.ID] != 1 || len(bad) > 0 {
		t.Fatalf("accepted %d times (bad: %v)", accepted[e.ID], bad)
	}
	if m := smtpSrv.WaitFor(t, "crash@example.com", 3*time.Minute); !strings.Contains(m.Subject, "Confirm your email") {
		t.Fatalf("got %q", m.Subject)
	}
	if n := mailsTo(smtpSrv.Messages(), "crash@example.com"); n != 1 {
		t.Fatalf("%d verification mails arrived; want 1", n)
	}
	var outbox int64
	env.DB().Gorm.Table("job_outbox").Count(&outbox)
	if outbox != 0 {
		t.Fatalf("%d outbox rows left after delivery", outbox)
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "gatehouse")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

// startWorkerProcess runs `gatehouse worker` as its own process on env's
// database and Redis, so the test can kill it; it is stopped at the end.
func startWorkerProcess(t *testing.T, bin string, env *apptest.Env) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(), "GATEHOUSE_LOG_LEVEL=warn")
	for _, k := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_SECRET_KEY", "GATEHOUSE_SMTP_URL", "GATEHOUSE_DATA_DIR", "GATEHOUSE_BASE_DOMAIN", "GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK"} {
		cmd.Env = append(cmd.Env, k+"="+env.Getenv(k))
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("worker %d stderr:\n%s", cmd.Process.Pid, stderr.String())
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "worker running") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("worker not ready:\n%s", stderr.String())
	}
	return cmd
}
