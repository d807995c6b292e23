package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// OutboxTask is a job that must run if, and only if, the transaction that
// writes it commits: a webhook for a customer change, say. AddToOutbox puts
// it in the job_outbox table inside that transaction, and the Relay moves it
// to asynq afterwards.
type OutboxTask struct {
	TenantID uuid.UUID // uuid.Nil for platform work
	Type     string
	Payload  any // encoded as JSON, like every other payload
	Queue    string
	MaxRetry int
	Timeout  time.Duration
	// TaskID, when set, is the asynq task id instead of the row id: a
	// job that must be queued once per key (a campaign's tick n) however
	// many rows ask for it.
	TaskID string
	// ProcessAt, when set, is when the task may run.
	ProcessAt time.Time
}

type outboxRow struct {
	ID             uuid.UUID
	TenantID       *uuid.UUID
	TaskType       string
	Payload        []byte
	Queue          string
	MaxRetry       int
	TimeoutSeconds int
	TaskID         *string
	ProcessAt      *time.Time
	CreatedAt      time.Time
}

func (outboxRow) TableName() string { return "job_outbox" }

// AddToOutbox writes t into the outbox through tx, which must be the
// transaction of the change the job is about. It returns the row id, which
// becomes the asynq task id.
func AddToOutbox(ctx context.Context, tx *gorm.DB, t OutboxTask) (uuid.UUID, error) {
	if t.Type == "" || t.Queue == "" {
		return uuid.Nil, fmt.Errorf("jobs: outbox task needs a type and a queue")
	}
	b, err := json.Marshal(t.Payload)
	if err != nil {
		return uuid.Nil, fmt.Errorf("jobs: encode %s: %w", t.Type, err)
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	r := outboxRow{
		ID: uuid.Must(uuid.NewV7()), TaskType: t.Type, Payload: b, Queue: t.Queue, MaxRetry: t.MaxRetry,
		TimeoutSeconds: int(timeout / time.Second), CreatedAt: time.Now().UTC(),
	}
	if t.TenantID != uuid.Nil {
		id := t.TenantID
		r.TenantID = &id
	}
	if t.TaskID != "" {
		r.TaskID = &t.TaskID
	}
	if !t.ProcessAt.IsZero() {
		at := t.ProcessAt.UTC()
		r.ProcessAt = &at
	}
	if err := tx.WithContext(ctx).Create(&r).Error; err != nil {
		return uuid.Nil, fmt.Errorf("jobs: write outbox: %w", err)
	}
	return r.ID, nil
}

// OutboxRetention is how long asynq keeps a relayed task after it
// completed. While it does, its id stays taken, so a relay that enqueues
// the same row again (it crashed before deleting the row, or two nodes
// read the row at once) is refused with a conflict and nothing runs twice.
const OutboxRetention = 24 * time.Hour

// RelayOptions tune a relay.
type RelayOptions struct {
	Interval time.Duration // between passes when the outbox was empty (default 1s)
	Batch    int           // rows per pass (default 100)
	// ReplicaWait is how long a pass waits for the Redis primary's
	// replicas to hold the tasks it queued before it deletes their rows
	// (default 1s).
	ReplicaWait time.Duration
	// ReplicaGrace is how long a primary that had replicas may have none
	// before the relay stops waiting for one (default 30s). Within it the
	// rows stay: a primary with no replica is most often one that Sentinel
	// has just failed over from, whose writes are about to be discarded.
	// After it the replica is taken as gone for good, and the relay keeps
	// working without one (logged as outbox_relay_unreplicated).
	ReplicaGrace time.Duration
}

// Relay moves outbox rows to asynq. Every node runs one (serve and
// worker). Each row becomes a task whose asynq id is the row id, and the row
// is deleted only after asynq accepted the task, or refused it as a
// duplicate id, which means an earlier pass already did. So a task is
// queued at least once, and the id suppresses the duplicates a crash
// between enqueue and delete, or two relays, would otherwise make.
//
// When the primary has replicas, rows are deleted only once the server the
// relay talks to holds every task of the pass and a replica acknowledged
// them (Redis WAIT): a Sentinel failover right after an enqueue would
// otherwise promote a replica that never saw the task, and the job would be
// lost with its row already gone. A primary that had replicas and now has
// none holds the rows too (ReplicaGrace): that is what the old primary looks
// like in the seconds between the promotion of its replica and its own
// demotion, and what it accepts then is lost.
type Relay struct {
	db       *gorm.DB
	client   *asynq.Client
	rdb      redis.UniversalClient
	wait     time.Duration
	grace    time.Duration
	log      *slog.Logger
	interval time.Duration
	batch    int
	kick     chan struct{}
	failing  bool // the last pass failed; logged once per outage

	replicaSeen  time.Time // when a primary last had a replica
	unreplicated bool      // logged outbox_relay_unreplicated for this stretch
	swept        time.Time // when job_done was last swept
}

// NewRelay returns a relay from db to the Redis at opt.
func NewRelay(db *gorm.DB, opt asynq.RedisConnOpt, o RelayOptions, log *slog.Logger) *Relay {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.ReplicaWait <= 0 {
		o.ReplicaWait = time.Second
	}
	if o.ReplicaGrace <= 0 {
		o.ReplicaGrace = 30 * time.Second
	}
	r := &Relay{db: db, wait: o.ReplicaWait, grace: o.ReplicaGrace, log: log, interval: o.Interval, batch: o.Batch, kick: make(chan struct{}, 1)}
	// The relay's checks and asynq's enqueues share one client, so they
	// reach the same server: a failover client switches both at once.
	if rdb, ok := opt.MakeRedisClient().(redis.UniversalClient); ok {
		r.rdb, r.client = rdb, asynq.NewClientFromRedisClient(rdb)
	} else {
		r.client = asynq.NewClient(opt)
	}
	return r
}

// Kick asks for a pass now rather than at the next tick: the client calls
// it once a row it wrote has committed, so a mail does not wait up to a
// second to be queued. It never blocks.
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends, then closes the relay's Redis client. A pass
// that fails (Redis or the database away) is logged once as
// outbox_relay_failed and once as outbox_relay_recovered when a pass works
// again; the rows wait in the table meanwhile.
func (r *Relay) Run(ctx context.Context) {
	defer r.client.Close()
	if r.rdb != nil {
		defer r.rdb.Close()
	}
	for {
		n, err := r.Flush(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil && time.Since(r.swept) > time.Hour {
			r.swept = time.Now()
			if serr := sweepDone(ctx, r.db, r.swept); serr != nil {
				r.log.Warn("job_done_sweep_failed", "error", serr)
			}
		}
		switch {
		case err != nil && !r.failing:
			r.failing = true
			r.log.Warn("outbox_relay_failed", "error", err)
		case err == nil && r.failing:
			r.failing = false
			r.log.Info("outbox_relay_recovered")
		}
		if n == r.batch && err == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-time.After(r.interval):
		}
	}
}

// Flush makes one pass: up to one batch of the oldest rows. It returns how
// many rows it moved. A row asynq refused is an error of the pass, after
// the rows before it were committed as moved.
//
// On PostgreSQL the pass is a transaction that locks the rows it takes
// (SKIP LOCKED), so two nodes take different rows. SQLite has one writer,
// and every transaction there begins IMMEDIATE, taking its write lock: a
// transaction held while Redis answers would stop every other write of
// every process on the file, sign-ups and logins included, for as long as
// Redis takes to answer, which in an outage is seconds. So there the pass
// reads and deletes outside a transaction. The task ids keep that safe: a
// row another relay moved meanwhile is refused as a duplicate id and
// deleted again, which deletes nothing.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	db := r.db.WithContext(ctx)
	var (
		moved       int
		failed, err error
	)
	if db.Dialector.Name() == "postgres" {
		err = db.Transaction(func(tx *gorm.DB) (err error) {
			moved, failed, err = r.pass(ctx, tx, tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}))
			return err
		})
	} else {
		moved, failed, err = r.pass(ctx, db, db)
	}
	if err != nil {
		return 0, err
	}
	return moved, failed
}

// pass reads a batch through read, queues it, and deletes through db the
// rows asynq took. failed is the first row asynq refused, or the replicas'
// silence; err is the database's. What asynq took is deleted even when a
// later row failed: those rows are done, and the failed one is tried again
// on the next pass.
func (r *Relay) pass(ctx context.Context, db, read *gorm.DB) (moved int, failed, err error) {
	var rows []outboxRow
	if err := read.Order("created_at, id").Limit(r.batch).Find(&rows).Error; err != nil {
		return 0, nil, fmt.Errorf("jobs: read outbox: %w", err)
	}
	var done []uuid.UUID
	for _, row := range rows {
		if err := r.enqueue(ctx, row); err != nil {
			failed = fmt.Errorf("%s: %w", row.TaskType, err)
			break
		}
		done = append(done, row.ID)
	}
	if len(done) > 0 {
		if err := r.replicated(ctx, rows[:len(done)]); err != nil {
			// Keep the rows: the next pass queues them again, and a task a
			// replica did get is then refused as a duplicate id.
			failed, done = err, nil
		}
	}
	if len(done) > 0 {
		if err := db.Where("id IN ?", done).Delete(&outboxRow{}).Error; err != nil {
			return 0, nil, fmt.Errorf("jobs: delete relayed rows: %w", err)
		}
	}
	return len(done), failed, nil
}

// errNotReplicated: no replica acknowledged the pass's tasks in time.
var errNotReplicated = errors.New("jobs: no Redis replica acknowledged the queued tasks yet")

// errNotOnPrimary: the server the relay reaches lacks a task it queued.
var errNotOnPrimary = errors.New("jobs: the Redis primary does not hold every queued task (failover under way)")

// replicated returns once the Redis primary holds every task of rows and
// a replica of it holds every write made so far, or at once when there
// are no replicas and have been none for ReplicaGrace. The fence is a write
// of the relay's own followed by WAIT on the same connection: replication
// is one ordered stream, so a replica that has the fence has the tasks
// queued before it. The tasks are looked for on that connection first, so
// a connection that reached the newly promoted primary, while asynq's
// enqueue reached the old one, does not vouch for tasks it never saw. A
// Redis Cluster is left to its shards.
func (r *Relay) replicated(ctx context.Context, rows []outboxRow) error {
	c, ok := r.rdb.(*redis.Client)
	if !ok {
		return nil
	}
	conn := c.Conn()
	defer conn.Close()
	info, err := conn.Info(ctx, "replication").Result()
	var refused redis.Error
	if errors.As(err, &refused) {
		return nil // a server that does not replicate (miniredis) says so
	}
	if err != nil {
		return fmt.Errorf("jobs: read replication state: %w", err)
	}
	keys := make([]string, 0, len(rows))
	for _, row := range rows {
		keys = append(keys, "asynq:{"+row.Queue+"}:t:"+row.taskID())
	}
	held, err := conn.Exists(ctx, keys...).Result()
	if err != nil {
		return fmt.Errorf("jobs: look for the queued tasks: %w", err)
	}
	if held < int64(len(keys)) {
		return errNotOnPrimary
	}
	now := time.Now()
	if connectedReplicas(info) == 0 {
		if r.replicaSeen.IsZero() || now.Sub(r.replicaSeen) > r.grace {
			if !r.replicaSeen.IsZero() && !r.unreplicated {
				r.unreplicated = true
				r.log.Warn("outbox_relay_unreplicated", "no_replica_for", now.Sub(r.replicaSeen).Round(time.Second).String())
			}
			return nil
		}
		return errNotReplicated
	}
	r.replicaSeen, r.unreplicated = now, false
	if err := conn.Incr(ctx, "gatehouse:outbox:fence").Err(); err != nil {
		return fmt.Errorf("jobs: replication fence: %w", err)
	}
	acked, err := conn.Wait(ctx, 1, r.wait).Result()
	if err != nil {
		return fmt.Errorf("jobs: wait for a replica: %w", err)
	}
	if acked < 1 {
		return errNotReplicated
	}
	return nil
}

// connectedReplicas reads connected_slaves from INFO replication.
func connectedReplicas(info string) int {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// taskID is the asynq task id of row: its own TaskID, else the row id.
func (row outboxRow) taskID() string {
	if row.TaskID != nil {
		return *row.TaskID
	}
	return row.ID.String()
}

func (r *Relay) enqueue(ctx context.Context, row outboxRow) error {
	id := row.taskID()
	opts := []asynq.Option{
		asynq.TaskID(id), asynq.Queue(row.Queue), asynq.MaxRetry(row.MaxRetry),
		asynq.Timeout(time.Duration(row.TimeoutSeconds) * time.Second), asynq.Retention(OutboxRetention),
	}
	if row.ProcessAt != nil {
		opts = append(opts, asynq.ProcessAt(*row.ProcessAt))
	}
	_, err := r.client.EnqueueContext(ctx, asynq.NewTask(row.TaskType, row.Payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil // queued by an earlier pass
	}
	if err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", row.TaskType, err)
	}
	return nil
}
