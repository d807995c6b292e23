package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/jobs"
	"gatehouse/txn"
)

// TestOnceSuppressesARerun runs a mail task and a forgot-password task on a
// real worker, then has Redis run each again under the same task id (the
// completed task deleted and queued anew, as a Sentinel failover that lost
// its completion does): the second run delivers no mail and writes no row.
func TestOnceSuppressesARerun(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	conn := asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB, Password: opt.Password}
	rec := &recorder{got: make(chan jobs.SendMail, 4)}
	var runs atomic.Int32
	pw := passwordResetsFunc(func(ctx context.Context, p jobs.ForgotPassword) error {
		runs.Add(1)
		_, err := jobs.AddToOutbox(ctx, txn.DB(ctx, d.Gorm), jobs.OutboxTask{Type: "test:reset-mail", Payload: p, Queue: jobs.QueueDefault})
		return err
	})
	srv := jobs.NewServer(conn, jobs.ServerOptions{Concurrency: 2, ShutdownTimeout: time.Second},
		jobs.Handlers{Mail: rec, PasswordResets: pw, DB: d.Gorm}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := asynq.NewClient(conn)
	defer client.Close()
	insp := asynq.NewInspector(conn)
	defer insp.Close()

	mailID, resetID := "mail-"+uuid.NewString(), "reset-"+uuid.NewString()
	mailBody, _ := json.Marshal(jobs.SendMail{From: "a@example.com", To: "b@example.com", Subject: "Hi", Text: "t"})
	resetBody, _ := json.Marshal(jobs.ForgotPassword{TenantID: uuid.New(), Email: "b@example.com"})
	tasks := []struct {
		id  string
		typ string
		b   []byte
	}{{mailID, jobs.TypeSendMail, mailBody}, {resetID, jobs.TypeForgotPassword, resetBody}}
	runTwice := func(round int) {
		t.Helper()
		for _, tk := range tasks {
			if round > 0 {
				if err := insp.DeleteTask(jobs.QueueCritical, tk.id); err != nil {
					t.Fatalf("delete the completed %s: %v", tk.typ, err)
				}
			}
			if _, err := client.Enqueue(asynq.NewTask(tk.typ, tk.b), asynq.TaskID(tk.id), asynq.Queue(jobs.QueueCritical), asynq.Retention(time.Hour)); err != nil {
				t.Fatalf("round %d: enqueue %s: %v", round, tk.typ, err)
			}
		}
		apptest.Eventually(t, 20*time.Second, func() error {
			for _, tk := range tasks {
				info, err := insp.GetTaskInfo(jobs.QueueCritical, tk.id)
				if err != nil || info.State != asynq.TaskStateCompleted {
					return fmt.Errorf("round %d: %s not completed yet (%v)", round, tk.typ, err)
				}
			}
			return nil
		})
	}
	runTwice(0)
	runTwice(1)

	if n := len(rec.got); n != 1 {
		t.Fatalf("the mail task run twice delivered %d mails; want 1", n)
	}
	if m := <-rec.got; m.TaskID != mailID {
		t.Fatalf("delivered under task id %q; want %q", m.TaskID, mailID)
	}
	var rows int64
	d.Gorm.Table("job_outbox").Where("task_type = ?", "test:reset-mail").Count(&rows)
	if rows != 1 || runs.Load() != 1 {
		t.Fatalf("the forgot-password task run twice wrote %d mail rows in %d runs; want 1 in 1", rows, runs.Load())
	}
	for _, id := range []string{mailID, resetID} {
		if done, err := jobs.IsDone(ctx, d.Gorm, id); err != nil || !done {
			t.Fatalf("%s not in job_done: %v", id, err)
		}
	}
}

type passwordResetsFunc func(ctx context.Context, p jobs.ForgotPassword) error

func (f passwordResetsFunc) SendPasswordReset(ctx context.Context, p jobs.ForgotPassword) error {
	return f(ctx, p)
}
