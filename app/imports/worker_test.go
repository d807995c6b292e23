package imports_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/app/imports"
	"gatehouse/jobs"
)

// asynqOpt is a fresh Redis for t, as asynq connection options.
func asynqOpt(t testing.TB) asynq.RedisClientOpt {
	t.Helper()
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	return asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB, Username: opt.Username, Password: opt.Password}
}

// TestImportOnAsynq runs a pass through real asynq: the service enqueues
// on the bulk queue with jobs.Client, and two asynq servers (as two worker
// machines would) run the steps with the handlers jobs.RegisterImports
// adds.
func TestImportOnAsynq(t *testing.T) {
	f := newFixture(t)
	opt := asynqOpt(t)
	client := jobs.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	f.svc.SetQueue(client)
	for i := 0; i < 2; i++ {
		srv, mux := jobs.ImportServer(opt, 2, f.svc, nil, quiet)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
	}
	var b strings.Builder
	b.WriteString("email,first_name\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, "user%02d@example.com,User %d\n", i, i)
	}
	b.WriteString("user07@example.com,Twin\nbroken,Row\n")
	j := f.stage(t, f.a, "big.csv", b.String())
	if _, err := f.svc.Start(f.ctx, f.a, cli, j.ID, auto(j, f.a, imports.ModeUpsert), false); err != nil {
		t.Fatal(err)
	}
	var p imports.Progress
	apptest.Eventually(t, 60*time.Second, func() error {
		var err error
		if p, err = f.svc.Progress(f.ctx, f.a.ID, j.ID); err != nil {
			return err
		}
		if p.Job.Status != imports.StatusDone {
			return fmt.Errorf("status %s, %d%%", p.Job.Status, p.Percent)
		}
		return nil
	})
	if p.Counts != (imports.Counts{Rows: 52, Created: 49, Rejected: 3}) {
		t.Fatalf("counts %+v", p.Counts)
	}
	if n := len(f.customers(t, f.a.ID)); n != 49 {
		t.Fatalf("%d customers", n)
	}
}
