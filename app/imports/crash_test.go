package imports_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/db"
	"gatehouse/app/imports"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// workerCommand is how the crash test starts a worker process. `gatehouse
// import work` runs the same handlers `gatehouse worker` will once the
// import steps are registered in jobs.Server.
var workerCommand = []string{"import", "work", "--concurrency", "2"}

// TestWorkerKilledMidImport builds the real binary, starts a worker,
// SIGKILLs it halfway through applying a 200,000-row file, starts another,
// and checks that the import finishes with exactly the counts and
// customers the file calls for: none lost, none twice.
func TestWorkerKilledMidImport(t *testing.T) {
	if !apptest.UsingPostgres() || os.Getenv(apptest.EnvRedis) == "" {
		t.Skip("the crash test needs real PostgreSQL and Redis: set " + apptest.EnvDatabase + " and " + apptest.EnvRedis)
	}
	if testing.Short() {
		t.Skip("the crash test takes minutes (it waits out asynq's lease on the killed worker's tasks)")
	}
	const rows = 200_000
	env := apptest.New(t)
	if r := env.Run("tenant", "create", "--slug", "acme", "--name", "Acme"); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	bin := buildGatehouse(t)

	// The file: 20 bad emails and 10 emails given twice, so 40 rows are
	// rejected and every other row becomes one customer.
	path := filepath.Join(t.TempDir(), "big.csv")
	want := writeBigFile(t, path, rows)

	ctx := context.Background()
	d, err := db.Open(ctx, env.Getenv("GATEHOUSE_DATABASE_URL"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ropt, err := redis.ParseURL(env.Getenv("GATEHOUSE_REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	client := jobs.NewClient(asynq.RedisClientOpt{Addr: ropt.Addr, DB: ropt.DB, Password: ropt.Password})
	defer client.Close()
	store, _ := imports.NewStore(d.Gorm)
	tstore := tenants.NewStore(d.Gorm)
	svc := imports.NewService(imports.Deps{Store: store, Tenants: tstore, Queue: client, Audit: audit.NewRecorder(d.Gorm, quiet), Log: quiet})
	acme, err := tstore.BySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	job, err := svc.Stage(ctx, acme, cli, "big.csv", "", file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Start(ctx, acme, cli, job.ID, imports.Mapping{Mode: imports.ModeUpsert, Columns: imports.AutoMap(job.Dialect.Columns, nil, false)}, false); err != nil {
		t.Fatal(err)
	}

	first := startWorker(t, bin, env)
	var p imports.Progress
	apptest.Eventually(t, 3*time.Minute, func() error {
		if p, err = svc.Progress(ctx, acme.ID, job.ID); err != nil {
			return err
		}
		if p.Applied < rows*2/5 {
			return fmt.Errorf("%d rows applied", p.Applied)
		}
		return nil
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killedAt := time.Now()
	p, _ = svc.Progress(ctx, acme.ID, job.ID)
	if p.Job.Status == imports.StatusDone {
		t.Fatal("the import finished before the worker was killed; nothing was tested")
	}
	t.Logf("killed the worker at %d of %d rows applied", p.Applied, rows)

	startWorker(t, bin, env)
	apptest.Eventually(t, 5*time.Minute, func() error {
		if p, err = svc.Progress(ctx, acme.ID, job.ID); err != nil {
			return err
		}
		if p.Job.Status != imports.StatusDone {
			return fmt.Errorf("status %s, %d rows applied", p.Job.Status, p.Applied)
		}
		return nil
	})
	t.Logf("the second worker finished %s after the kill", time.Since(killedAt).Round(time.Second))
	wantCounts := imports.Counts{Rows: rows, Created: int64(len(want)), Rejected: rows - int64(len(want))}
	if p.Counts != wantCounts {
		t.Fatalf("counts %+v, want %+v", p.Counts, wantCounts)
	}
	var emails []string
	if err := d.Gorm.Table("customers").Where("tenant_id = ?", acme.ID).Pluck("email", &emails).Error; err != nil {
		t.Fatal(err)
	}
	if len(emails) != len(want) {
		t.Fatalf("%d customers, want %d", len(emails), len(want))
	}
	for _, e := range emails {
		if !want[e] {
			t.Fatalf("customer %s is not in the file", e)
		}
		delete(want, e)
	}
	if len(want) != 0 {
		t.Fatalf("%d emails of the file are missing", len(want))
	}
}

// writeBigFile writes n rows and returns the emails that must become
// customers.
func writeBigFile(t *testing.T, path string, n int) map[string]bool {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email,first_name,last_name,email_verified")
	want := make(map[string]bool, n)
	var prev string
	for i := 0; i < n; i++ {
		email := fmt.Sprintf("user%06d@example.com", i)
		switch {
		case i%10000 == 5:
			email = fmt.Sprintf("bad-email-%d", i)
		case i%20000 == 7:
			email = prev // the same address as the row before: both are rejected
			delete(want, prev)
		default:
			want[email] = true
		}
		fmt.Fprintf(w, "%s,First %d,Last %d,%v\n", strings.ToUpper(email[:1])+email[1:], i, i, i%2 == 0)
		prev = strings.ToLower(email)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// buildGatehouse compiles the gatehouse binary into a temp dir.
func buildGatehouse(t *testing.T) string {
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

// startWorker runs a worker process on env's database and Redis and
// returns once it is running. It is stopped when the test ends.
func startWorker(t *testing.T, bin string, env *apptest.Env) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, workerCommand...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_LOG_LEVEL=warn")
	for _, k := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_SECRET_KEY", "GATEHOUSE_SMTP_URL", "GATEHOUSE_DATA_DIR", "GATEHOUSE_BASE_DOMAIN"} {
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
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("the worker exited before it ran:\n%s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the worker did not start:\n%s", stderr.String())
	}
	return cmd
}
