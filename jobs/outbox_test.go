package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/jobs"
	"gatehouse/txn"
)

// relayFixture is a migrated database, a Redis and a relay between them.
func relayFixture(t *testing.T) (*db.DB, asynq.RedisClientOpt, *jobs.Relay) {
	t.Helper()
	d := apptest.MigratedDB(t)
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	conn := asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB, Password: opt.Password}
	return d, conn, jobs.NewRelay(d.Gorm, conn, jobs.RelayOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestOutboxRelay: a row written in a committed transaction becomes one
// asynq task whose id is the row id, and the row goes; a rolled-back
// transaction leaves nothing to relay; a row relayed twice (a relay that
// died between enqueue and delete) is accepted as a duplicate and still
// makes one task.
func TestOutboxRelay(t *testing.T) {
	ctx := context.Background()
	d, conn, relay := relayFixture(t)
	insp := asynq.NewInspector(conn)
	defer insp.Close()
	task := jobs.OutboxTask{Type: "test:outbox", Payload: map[string]string{"k": "v"}, Queue: jobs.QueueDefault, MaxRetry: 3}

	t.Run("rolled back", func(t *testing.T) {
		_ = d.Gorm.Transaction(func(tx *gorm.DB) error {
			if _, err := jobs.AddToOutbox(ctx, tx, task); err != nil {
				t.Fatal(err)
			}
			return errors.New("the change failed")
		})
		if n, err := relay.Flush(ctx); err != nil || n != 0 {
			t.Fatalf("relayed %d, %v after a rollback", n, err)
		}
	})

	var id uuid.UUID
	if err := d.Gorm.Transaction(func(tx *gorm.DB) (err error) {
		id, err = jobs.AddToOutbox(ctx, tx, task)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("relayed %d, %v; want 1", n, err)
	}
	info, err := insp.GetTaskInfo(jobs.QueueDefault, id.String())
	if err != nil || info.Type != "test:outbox" || string(info.Payload) != `{"k":"v"}` || info.MaxRetry != 3 {
		t.Fatalf("task %v: %+v", err, info)
	}
	var left int64
	d.Gorm.Table("job_outbox").Count(&left)
	if left != 0 {
		t.Fatalf("%d rows left after the relay", left)
	}

	t.Run("relayed twice", func(t *testing.T) {
		// The row as it was before the first relay deleted it.
		if err := d.Gorm.Exec("INSERT INTO job_outbox (id, task_type, payload, queue, max_retry, timeout_seconds, created_at) VALUES (?, ?, ?, ?, 3, 60, CURRENT_TIMESTAMP)",
			id, "test:outbox", []byte(`{"k":"v"}`), jobs.QueueDefault).Error; err != nil {
			t.Fatal(err)
		}
		if n, err := relay.Flush(ctx); err != nil || n != 1 {
			t.Fatalf("relayed %d, %v; a duplicate id counts as accepted", n, err)
		}
		q, err := insp.GetQueueInfo(jobs.QueueDefault)
		if err != nil || q.Size != 1 {
			t.Fatalf("queue holds %v tasks (%v); want 1", q, err)
		}
		d.Gorm.Table("job_outbox").Count(&left)
		if left != 0 {
			t.Fatalf("%d rows left", left)
		}
	})
}

// TestRelayHoldsNoWriteLockOnRedis: while a pass waits on a Redis that
// accepts the connection and never answers (an outage as a client can
// meet it), every other writer can still write. On SQLite a pass inside a
// transaction would hold the file's one write lock meanwhile, and the
// insert below would wait out busy_timeout and fail with SQLITE_BUSY; on
// PostgreSQL the pass locks only the rows it took. Once Redis gives up,
// the pass fails and nothing is lost: both rows wait for the next one.
func TestRelayHoldsNoWriteLockOnRedis(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	silent := asynq.RedisClientOpt{Addr: ln.Addr().String(), ReadTimeout: -1, WriteTimeout: -1}
	relay := jobs.NewRelay(d.Gorm, silent, jobs.RelayOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	add := func() error {
		return d.Gorm.Transaction(func(tx *gorm.DB) error {
			_, err := jobs.AddToOutbox(ctx, tx, jobs.OutboxTask{Type: "test:hang", Payload: map[string]string{}, Queue: jobs.QueueDefault, MaxRetry: 1})
			return err
		})
	}
	if err := add(); err != nil {
		t.Fatal(err)
	}

	type result struct {
		n   int
		err error
	}
	pass := make(chan result, 1)
	go func() {
		n, err := relay.Flush(ctx)
		pass <- result{n, err}
	}()
	var held net.Conn
	select {
	case held = <-accepted:
	case r := <-pass:
		t.Fatalf("the pass ended before reaching Redis: %d, %v", r.n, r.err)
	}
	// The pass is now waiting on Redis, and stays so until held closes.
	if err := add(); err != nil {
		t.Fatalf("a write while the relay waits on Redis: %v", err)
	}
	select {
	case r := <-pass:
		t.Fatalf("the pass ended while Redis was silent: %d, %v", r.n, r.err)
	default:
	}
	ln.Close()
	held.Close()
	r := <-pass
	if r.err == nil || r.n != 0 {
		t.Fatalf("pass against a dead Redis: moved %d, %v; want an error and nothing moved", r.n, r.err)
	}
	var left int64
	d.Gorm.Table("job_outbox").Count(&left)
	if left != 2 {
		t.Fatalf("%d outbox rows after the failed pass; want both kept", left)
	}
}

// TestRelayWaitsForAReplica: with a replica attached, the relay deletes
// its rows only once the replica holds the tasks, so a failover that
// promotes the replica loses no job. While the replica is stalled the rows
// stay; once it catches up, the next pass finds the tasks already queued
// (same ids) and deletes the rows, leaving one task each.
func TestRelayWaitsForAReplica(t *testing.T) {
	ctx := context.Background()
	primary := apptest.StartRedis(t)
	replica := apptest.StartRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	conn := asynq.RedisClientOpt{Addr: primary.Addr()}
	admin := redis.NewClient(&redis.Options{Addr: primary.Addr()})
	defer admin.Close()
	apptest.Eventually(t, 10*time.Second, func() error {
		info, err := admin.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "connected_slaves:1") || !strings.Contains(info, "state=online") {
			return fmt.Errorf("replica not attached yet: %v %s", err, info)
		}
		return nil
	})
	d := apptest.MigratedDB(t)
	relay := jobs.NewRelay(d.Gorm, conn, jobs.RelayOptions{ReplicaWait: 300 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	insp := asynq.NewInspector(conn)
	defer insp.Close()
	rows := func() int64 {
		var n int64
		d.Gorm.Table("job_outbox").Count(&n)
		return n
	}

	replica.Pause()
	var id uuid.UUID
	if err := d.Gorm.Transaction(func(tx *gorm.DB) (err error) {
		id, err = jobs.AddToOutbox(ctx, tx, jobs.OutboxTask{Type: "test:replicated", Payload: map[string]string{}, Queue: jobs.QueueDefault, MaxRetry: 1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.Flush(ctx); err == nil || n != 0 || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("with the replica stalled: moved %d, %v; want the rows kept", n, err)
	}
	if rows() != 1 {
		t.Fatalf("%d outbox rows; the unreplicated row must stay", rows())
	}
	replica.Resume()
	apptest.Eventually(t, 10*time.Second, func() error {
		if _, err := relay.Flush(ctx); err != nil || rows() != 0 {
			return fmt.Errorf("rows %d after the replica returned: %v", rows(), err)
		}
		return nil
	})
	q, err := insp.GetQueueInfo(jobs.QueueDefault)
	if err != nil || q.Size != 1 {
		t.Fatalf("queue %+v (%v); want the task once", q, err)
	}
	if _, err := insp.GetTaskInfo(jobs.QueueDefault, id.String()); err != nil {
		t.Fatalf("task %s: %v", id, err)
	}
}

// TestClientWritesTheOutbox: the client every request uses writes its
// jobs into the transaction the context carries. A rolled-back request
// queues nothing and wakes no relay; a committed one queues its mail once,
// and the relay is kicked only after the commit.
func TestClientWritesTheOutbox(t *testing.T) {
	ctx := context.Background()
	d, conn, relay := relayFixture(t)
	kicks := 0
	client := jobs.NewClient(conn).WithOutbox(d.Gorm, func() { kicks++ })
	defer client.Close()
	insp := asynq.NewInspector(conn)
	defer insp.Close()
	mail := jobs.SendMail{To: "ann@example.com", Subject: "Confirm your email"}

	err := txn.Run(ctx, d.Gorm, func(ctx context.Context) error {
		if err := client.EnqueueMail(ctx, mail); err != nil {
			t.Fatal(err)
		}
		return errors.New("the sign-up failed after its mail was queued")
	})
	if err == nil || kicks != 0 {
		t.Fatalf("rollback: err %v, %d kicks", err, kicks)
	}
	if n, err := relay.Flush(ctx); err != nil || n != 0 {
		t.Fatalf("relayed %d, %v after a rollback", n, err)
	}

	if err := txn.Run(ctx, d.Gorm, func(ctx context.Context) error {
		if err := client.EnqueueMail(ctx, mail); err != nil {
			return err
		}
		if kicks != 0 {
			t.Fatal("relay kicked before the commit")
		}
		return nil
	}); err != nil || kicks != 1 {
		t.Fatalf("commit: %v, %d kicks", err, kicks)
	}
	if n, err := relay.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("relayed %d, %v; want 1", n, err)
	}
	q, err := insp.GetQueueInfo(jobs.QueueCritical)
	if err != nil || q.Size != 1 {
		t.Fatalf("critical queue: %+v, %v; want one mail", q, err)
	}
}
