package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/jobs"
)

type recorder struct {
	got  chan jobs.SendMail
	fail error
}

func (r *recorder) DeliverMail(_ context.Context, m jobs.SendMail) error {
	r.got <- m
	return r.fail
}

// TestMailTaskRoundTrip enqueues a mail with the client and has a real
// worker on Redis hand it to the deliverer, tenant and all.
func TestMailTaskRoundTrip(t *testing.T) {
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	conn := asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB, Password: opt.Password}
	rec := &recorder{got: make(chan jobs.SendMail, 1)}
	srv := jobs.NewServer(conn, jobs.ServerOptions{Concurrency: 1, ShutdownTimeout: time.Second}, jobs.Handlers{Mail: rec}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := jobs.NewClient(conn)
	defer client.Close()
	want := jobs.SendMail{From: "a@example.com", To: "b@example.com", Subject: "Hi", Text: "t", HTML: "<p>h</p>"}
	if err := client.EnqueueMail(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-rec.got:
		if got.TaskID == "" {
			t.Fatal("the worker delivered without the task id (the Message-ID is made from it)")
		}
		got.TaskID = ""
		if got != want {
			t.Fatalf("got %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never delivered")
	}
	if err := client.EnqueueMail(context.Background(), jobs.SendMail{}); err == nil {
		t.Fatal("a mail without a recipient was queued")
	}
}

func TestPermanent(t *testing.T) {
	cause := errors.New("550 no such user")
	err := jobs.Permanent(cause)
	if !jobs.IsPermanent(err) || !errors.Is(err, cause) {
		t.Fatalf("Permanent lost its marks: %v", err)
	}
	if jobs.IsPermanent(cause) {
		t.Fatal("a plain error counts as permanent")
	}
}
