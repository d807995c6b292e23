package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// Task types of imports and "set your password" campaigns.
const (
	TypeImportScan   = "import:scan"   // one chunk: record each row's email
	TypeImportDedup  = "import:dedup"  // one pass: find emails the file holds twice
	TypeImportApply  = "import:apply"  // one chunk: create, update or skip its rows (or only count them, in a dry run)
	TypeCampaignTick = "campaign:tick" // one minute of a campaign: a batch of mails, then reminders when due
)

// ImportTask is one step of one pass of an import. Tasks are only
// triggers: the job's state in the database says what is left to do, so
// a task that runs twice, late or after a crash does no harm.
type ImportTask struct {
	TenantID uuid.UUID `json:"tenant_id"`
	JobID    uuid.UUID `json:"job_id"`
	Run      int       `json:"run"`     // the pass
	Attempt  int       `json:"attempt"` // bumped by each resume
	Seq      int       `json:"seq"`     // the chunk; 0 for TypeImportDedup
}

// ID is the task's asynq id: one task per chunk, phase, pass and attempt
// can be queued at a time, however often it is asked for.
func (t ImportTask) ID(typ string) string {
	return typ + ":" + t.JobID.String() + ":" + strconv.Itoa(t.Run) + "." + strconv.Itoa(t.Attempt) + ":" + strconv.Itoa(t.Seq)
}

// CampaignTick asks for one minute's batch of a campaign.
type CampaignTick struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	CampaignID uuid.UUID `json:"campaign_id"`
	Tick       int       `json:"tick"`
}

// ImportWorker runs import steps; app/imports implements it.
type ImportWorker interface {
	ScanChunk(ctx context.Context, t ImportTask) error
	FindDuplicates(ctx context.Context, t ImportTask) error
	ApplyChunk(ctx context.Context, t ImportTask) error
	// ImportFailed is told when a step has failed for good (its retries
	// are spent or the error is permanent), so the job can say so.
	ImportFailed(ctx context.Context, t ImportTask, err error)
}

// CampaignWorker runs campaign ticks; app/imports implements it.
type CampaignWorker interface {
	CampaignTick(ctx context.Context, t CampaignTick) error
}

// Retries of import and campaign tasks. A chunk runs in one transaction,
// so a retry is always safe; the budget covers a database restart.
const (
	importMaxRetry   = 25
	importTimeout    = 15 * time.Minute
	campaignMaxRetry = 10
)

// EnqueueImport queues an import step on the bulk queue under its id. A
// step already queued, running or waiting for a retry is not queued again,
// and that is not an error.
func (c *Client) EnqueueImport(ctx context.Context, typ string, t ImportTask) error {
	err := c.enqueue(ctx, typ, t, asynq.Queue(QueueBulk), asynq.TaskID(t.ID(typ)), asynq.MaxRetry(importMaxRetry), asynq.Timeout(importTimeout))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// EnqueueCampaignTick queues a campaign tick on the bulk queue, to run at
// at. Each tick number is queued once: its task id is the campaign and the
// tick, so a second request for it (a retried tick, two relays) is refused
// by asynq as a duplicate.
func (c *Client) EnqueueCampaignTick(ctx context.Context, t CampaignTick, at time.Time) error {
	id := TypeCampaignTick + ":" + t.CampaignID.String() + ":" + strconv.Itoa(t.Tick)
	err := c.add(ctx, OutboxTask{
		TenantID: t.TenantID, Type: TypeCampaignTick, Payload: t, Queue: QueueBulk, TaskID: id, ProcessAt: at,
		MaxRetry: campaignMaxRetry, Timeout: 5 * time.Minute,
	})
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// RegisterImports adds the import and campaign handlers to mux. jobs.Server
// calls it when Handlers has an ImportWorker; a dedicated import worker
// (`gatehouse import work`) calls it on its own mux.
func RegisterImports(mux *asynq.ServeMux, w ImportWorker, c CampaignWorker) {
	if w != nil {
		for typ, run := range map[string]func(context.Context, ImportTask) error{
			TypeImportScan:  w.ScanChunk,
			TypeImportDedup: w.FindDuplicates,
			TypeImportApply: w.ApplyChunk,
		} {
			mux.HandleFunc(typ, importHandler(w, run))
		}
	}
	if c != nil {
		mux.HandleFunc(TypeCampaignTick, func(ctx context.Context, t *asynq.Task) error {
			var p CampaignTick
			if err := json.Unmarshal(t.Payload(), &p); err != nil {
				return Permanent(fmt.Errorf("decode campaign payload: %w", err))
			}
			return c.CampaignTick(ctx, p)
		})
	}
}

func importHandler(w ImportWorker, run func(context.Context, ImportTask) error) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var p ImportTask
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return Permanent(fmt.Errorf("decode import payload: %w", err))
		}
		err := run(ctx, p)
		if err == nil {
			return nil
		}
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		if IsPermanent(err) || retried >= maxRetry {
			w.ImportFailed(context.WithoutCancel(ctx), p, err)
		}
		return err
	}
}

// ImportRetryDelay is a RetryDelayFunc for worker servers: import and
// campaign tasks retry after seconds, not asynq's minutes, because they
// are safe to repeat and a crashed worker's chunk should not hold up the
// whole file; other tasks get asynq's default.
func ImportRetryDelay(n int, err error, t *asynq.Task) time.Duration {
	switch t.Type() {
	case TypeImportScan, TypeImportDedup, TypeImportApply, TypeCampaignTick:
		d := time.Duration(n+1) * 2 * time.Second
		if d > time.Minute {
			d = time.Minute
		}
		return d
	case TypeWebhookDeliver:
		return webhookRetryDelay(n)
	case TypeBackchannelLogout:
		return BackchannelRetryDelay(n)
	case TypeSendMail:
		// A worker that died mid-delivery, or a server's 4xx, is often
		// over at once: the first retries come after 5 s and 15 s, then
		// asynq's growing delays take over.
		if n < 2 {
			return 5 * time.Second * time.Duration(1+2*n)
		}
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// ImportServer runs only the bulk queue, where import steps and campaign
// ticks go, with concurrency tasks at once. The CLI runs one while it
// imports, and `gatehouse import work` runs one on machines set aside for
// imports; both hand running tasks back on Shutdown.
func ImportServer(opt asynq.RedisConnOpt, concurrency int, w ImportWorker, c CampaignWorker, log *slog.Logger) (*asynq.Server, *asynq.ServeMux) {
	if concurrency <= 0 {
		concurrency = 2
	}
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: concurrency,
		Queues:      map[string]int{QueueBulk: 1},
		// Steps follow each other through the queue; a short poll keeps a
		// small import from waiting a second between them.
		TaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout:   10 * time.Second,
		RetryDelayFunc:    ImportRetryDelay,
		Logger:            asynqLogger{log},
		LogLevel:          asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			log.Warn("task_failed", "task_type", t.Type(), "retry", retried, "error", err)
		}),
	})
	mux := asynq.NewServeMux()
	RegisterImports(mux, w, c)
	return srv, mux
}
