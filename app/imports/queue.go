package imports

import (
	"context"
	"sync"
	"time"

	"gatehouse/jobs"
)

// LocalQueue runs import steps in this process, at most Workers at a
// time, for a CLI run with no Redis to share them with workers. Like
// asynq with task ids, a step asked for while it is queued or running is
// not queued twice, and a failed step is retried a few times before the
// job is marked failed.
type LocalQueue struct {
	w       jobs.ImportWorker
	ctx     context.Context
	slots   chan struct{}
	retries int
	delay   time.Duration

	mu      sync.Mutex
	pending map[string]bool
	wg      sync.WaitGroup
}

var _ Queue = (*LocalQueue)(nil)

// NewLocalQueue returns a queue running steps of w under ctx.
func NewLocalQueue(ctx context.Context, w jobs.ImportWorker, workers int) *LocalQueue {
	if workers <= 0 {
		workers = 2
	}
	return &LocalQueue{w: w, ctx: ctx, slots: make(chan struct{}, workers), retries: 3, delay: 200 * time.Millisecond, pending: map[string]bool{}}
}

// EnqueueImport runs the step in the background.
func (q *LocalQueue) EnqueueImport(_ context.Context, typ string, t jobs.ImportTask) error {
	id := t.ID(typ)
	q.mu.Lock()
	if q.pending[id] {
		q.mu.Unlock()
		return nil
	}
	q.pending[id] = true
	q.wg.Add(1)
	q.mu.Unlock()
	go q.run(id, typ, t)
	return nil
}

func (q *LocalQueue) run(id, typ string, t jobs.ImportTask) {
	defer q.wg.Done()
	select {
	case q.slots <- struct{}{}:
	case <-q.ctx.Done():
		q.forget(id)
		return
	}
	var err error
	for try := 0; try <= q.retries; try++ {
		if try > 0 {
			time.Sleep(q.delay * time.Duration(try))
		}
		err = q.step(typ, t)
		if err == nil || jobs.IsPermanent(err) || q.ctx.Err() != nil {
			break
		}
	}
	<-q.slots
	// Like an asynq task id, the id stays taken until the step has ended.
	q.mu.Lock()
	delete(q.pending, id)
	q.mu.Unlock()
	if err != nil && q.ctx.Err() == nil {
		q.w.ImportFailed(q.ctx, t, err)
	}
}

func (q *LocalQueue) step(typ string, t jobs.ImportTask) error {
	switch typ {
	case jobs.TypeImportScan:
		return q.w.ScanChunk(q.ctx, t)
	case jobs.TypeImportDedup:
		return q.w.FindDuplicates(q.ctx, t)
	case jobs.TypeImportApply:
		return q.w.ApplyChunk(q.ctx, t)
	}
	return nil
}

func (q *LocalQueue) forget(id string) {
	q.mu.Lock()
	delete(q.pending, id)
	q.mu.Unlock()
}

// Wait blocks until every step queued so far, and every step they queue,
// has ended.
func (q *LocalQueue) Wait() { q.wg.Wait() }
