package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

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
	rec := &recorder{got: make(chan jobs.SendMail, 4)}
	var runs atomic.Int32
	pw := passwordResetsFunc(func(ctx context.Context, p jobs.ForgotPassword) error {
		runs.Add(1)
		_, err := jobs.AddToOutbox(ctx, txn.DB(ctx, d.Gorm), jobs.OutboxTask{Type: "test:reset-mail", Payload: p, Queue: jobs.QueueDefault})
		return err
	})
	client, insp := startWorker(t, 2, jobs.Handlers{Mail: rec, PasswordResets: pw, DB: d.Gorm})

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

// TestSendOnceMarksAMailWhoseMarkFailed: SMTP accepts a message, and then
// the write of its job_done mark fails (PostgreSQL: the transaction's
// connection is cut before the commit, as a restart does; SQLite: the
// insert after the send fails once). The mark is written again on a fresh
// connection, the task completes, and running it again sends nothing: one
// mail, not one per retry.
func TestSendOnceMarksAMailWhoseMarkFailed(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	var failMark atomic.Bool
	if !apptest.UsingPostgres() {
		err := d.Gorm.Callback().Create().Before("gorm:create").Register("test:fail_mark", func(tx *gorm.DB) {
			if tx.Statement.Table == "job_done" && failMark.CompareAndSwap(true, false) {
				_ = tx.AddError(errors.New("injected: database is locked"))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var delivered atomic.Int32
	cut := make(chan error, 1)
	mail := deliverFunc(func(ctx context.Context, m jobs.SendMail) error {
		if delivered.Add(1) > 1 {
			return nil
		}
		if !apptest.UsingPostgres() {
			failMark.Store(true)
			return nil
		}
		// The mark's transaction waits, idle, for this send; end its
		// connection as a restart of the server would.
		var n int64
		err := d.Gorm.Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`).Scan(&n).Error
		if err == nil && n != 1 {
			err = fmt.Errorf("cut %d connections idle in a transaction; want the mark's one", n)
		}
		cut <- err
		return nil
	})
	client, insp := startWorker(t, 1, jobs.Handlers{Mail: mail, DB: d.Gorm})

	id := "mail-" + uuid.NewString()
	body, _ := json.Marshal(jobs.SendMail{From: "a@example.com", To: "b@example.com", Subject: "Hi", Text: "t"})
	run := func(round int) {
		t.Helper()
		if round > 0 {
			if err := insp.DeleteTask(jobs.QueueCritical, id); err != nil {
				t.Fatalf("delete the completed mail: %v", err)
			}
		}
		if _, err := client.Enqueue(asynq.NewTask(jobs.TypeSendMail, body), asynq.TaskID(id), asynq.Queue(jobs.QueueCritical), asynq.Retention(time.Hour)); err != nil {
			t.Fatalf("round %d: enqueue: %v", round, err)
		}
		apptest.Eventually(t, 20*time.Second, func() error {
			info, err := insp.GetTaskInfo(jobs.QueueCritical, id)
			if err != nil || info.State != asynq.TaskStateCompleted {
				return fmt.Errorf("round %d: mail not completed (%v, %+v)", round, err, info)
			}
			return nil
		})
	}
	run(0)
	if apptest.UsingPostgres() {
		if err := <-cut; err != nil {
			t.Fatal(err)
		}
	} else if failMark.Load() {
		t.Fatal("the mark's insert after the send never ran")
	}
	if done, err := jobs.IsDone(ctx, d.Gorm, id); err != nil || !done {
		t.Fatalf("the sent mail is not in job_done (%v)", err)
	}
	run(1)
	if n := delivered.Load(); n != 1 {
		t.Fatalf("%d deliveries of one mail task; want 1", n)
	}
}

type deliverFunc func(ctx context.Context, m jobs.SendMail) error

func (f deliverFunc) DeliverMail(ctx context.Context, m jobs.SendMail) error { return f(ctx, m) }

// startWorker runs a worker with h on the test Redis until the test ends,
// and returns a client and an inspector on the same Redis.
func startWorker(t *testing.T, concurrency int, h jobs.Handlers) (*asynq.Client, *asynq.Inspector) {
	t.Helper()
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	conn := asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB, Password: opt.Password}
	srv := jobs.NewServer(conn, jobs.ServerOptions{Concurrency: concurrency, ShutdownTimeout: time.Second}, h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(conn)
	insp := asynq.NewInspector(conn)
	t.Cleanup(func() { insp.Close(); client.Close(); srv.Shutdown() })
	return client, insp
}
