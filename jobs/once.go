package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/txn"
)

// Redis can run a task twice: a Sentinel failover can promote a replica
// that never saw the task complete, and asynq's lease hands a task whose
// worker went quiet to another one. Delivery is therefore at least once,
// and the handlers whose effects must happen once record the task id in
// job_done, in PostgreSQL or SQLite, which a failover of Redis cannot undo.

type doneRow struct {
	TaskID   string
	TaskType string
	DoneAt   time.Time
}

func (doneRow) TableName() string { return "job_done" }

// DoneRetention is how long a task id stays in job_done. asynq gives a
// failed task up after about a day of retries, so a week covers every
// retry there can be.
const DoneRetention = 7 * 24 * time.Hour

// Once runs fn at most once per asynq task id, for a task whose effects
// are all database writes (the outbox row of a mail among them): fn runs in
// one transaction (txn.Run) with the task id's job_done row, so the effects
// and the mark commit together. A task run again after that commit returns
// nil without calling fn; one whose transaction rolled back runs fn again.
// Outside a task (no id in ctx) fn simply runs.
//
// On SQLite, whose pool is one connection, fn cannot run inside a
// transaction held open around it (a store that reads outside the
// transaction would wait for that connection forever), so the mark is
// checked before fn and written after it, as SendOnce does there: a
// single node's dev setup, where a rerun needs its worker to die between
// the two.
func Once(ctx context.Context, db *gorm.DB, typ string, fn func(ctx context.Context) error) error {
	id, ok := asynq.GetTaskID(ctx)
	if db == nil || !ok || id == "" {
		return fn(ctx)
	}
	if db.Dialector.Name() != "postgres" {
		return SendOnce(ctx, db, typ, fn)
	}
	return txn.Run(ctx, db, func(ctx context.Context) error {
		first, err := markDone(ctx, txn.DB(ctx, db), id, typ)
		if err != nil || !first {
			return err
		}
		return fn(ctx)
	})
}

// SendOnce runs send, an effect outside the database (an SMTP delivery),
// at most once per asynq task id as far as the database can tell: a task
// whose send is recorded in job_done does nothing. On PostgreSQL the mark
// is inserted first and committed after send returns, so a copy of the task
// running at the same moment on another worker waits on the row and then
// sees it; a failed send rolls the mark back. On SQLite, which has one
// writer for the whole node, the mark is checked before and written after
// send, so no write lock is held while SMTP talks.
//
// When send succeeded but the mark could not be written (the commit or
// the insert failed: the database restarting, SQLite busy), the mark is
// written again, on a fresh connection, until it holds or markSentFor has
// passed; a retry of the task would send the message again. Only a worker
// that dies between SMTP's acceptance and the mark, or a database away
// for longer than markSentFor, sends it once more on the retry: at least
// once, with duplicates suppressed by task id.
func SendOnce(ctx context.Context, db *gorm.DB, typ string, send func(ctx context.Context) error) error {
	id, ok := asynq.GetTaskID(ctx)
	if db == nil || !ok || id == "" {
		return send(ctx)
	}
	sent := false
	var err error
	if db.Dialector.Name() == "postgres" {
		err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			first, err := markDone(ctx, tx, id, typ)
			if err != nil || !first {
				return err
			}
			if err := send(ctx); err != nil {
				return err
			}
			sent = true
			return nil
		})
	} else {
		var n int64
		if err := db.WithContext(ctx).Model(&doneRow{}).Where("task_id = ?", id).Count(&n).Error; err != nil {
			return fmt.Errorf("jobs: read job_done: %w", err)
		}
		if n > 0 {
			return nil
		}
		if err := send(ctx); err != nil {
			return err
		}
		sent = true
		_, err = markDone(ctx, db.WithContext(ctx), id, typ)
	}
	if err != nil && sent {
		return markSent(ctx, db, id, typ, err)
	}
	return err
}

// markSentFor bounds how long SendOnce keeps writing the mark of a message
// SMTP accepted: longer than a database restart or failover takes, well
// inside a mail task's one-minute timeout.
const markSentFor = 30 * time.Second

// markSent writes the job_done mark of a send that succeeded, after the
// first write of the mark failed with cause. An insert that finds the mark
// there (the failed commit had in fact landed) is success too. It goes on
// when the task's context ends (a worker shutting down, the task's
// timeout), since giving the task back then sends the message again.
func markSent(ctx context.Context, db *gorm.DB, id, typ string, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markSentFor)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		if _, err := markDone(ctx, db.WithContext(ctx), id, typ); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("jobs: %s was sent, but its mark could not be written, so a retry sends it again: %w", id, cause)
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// markDone inserts the task id's row and reports whether it was new.
func markDone(ctx context.Context, tx *gorm.DB, id, typ string) (bool, error) {
	res := tx.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&doneRow{TaskID: id, TaskType: typ, DoneAt: time.Now().UTC()})
	if res.Error != nil {
		return false, fmt.Errorf("jobs: mark task %s done: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// IsDone reports whether task id is recorded as done (tests, operators).
func IsDone(ctx context.Context, db *gorm.DB, id string) (bool, error) {
	var n int64
	err := db.WithContext(ctx).Model(&doneRow{}).Where("task_id = ?", id).Count(&n).Error
	return n > 0, err
}

// sweepDone deletes job_done rows older than DoneRetention.
func sweepDone(ctx context.Context, db *gorm.DB, now time.Time) error {
	err := db.WithContext(ctx).Where("done_at < ?", now.Add(-DoneRetention)).Delete(&doneRow{}).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("jobs: sweep job_done: %w", err)
	}
	return nil
}
