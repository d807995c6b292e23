package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"
)

// window is a stretch of the run: a fault from its injection until the
// topology has recovered, plus grace for requests that were in flight.
type window struct {
	name       string
	start, end time.Time
	note       string
	err        error
}

// recoveryGrace is how long after recovery a request still counts as part
// of the fault: haproxy needs two health checks (1 s) to bring a node back.
const recoveryGrace = 2 * time.Second

// fault is one scheduled injection. inject does the damage and waits for
// the recovery; its note says what happened.
type fault struct {
	name   string
	inject func(ctx context.Context) (string, error)
	// begins, if set, starts work in the background once this fault has
	// recovered (the import, so it is under way for the next fault; an
	// import posted during a failover can lose its first task, see
	// docs/reliability.md).
	begins func()
	// before, if set, waits outside the window until the fault can be
	// injected; such a fault then goes at once rather than at its slot.
	before func(ctx context.Context) error
}

func (s *soak) faults() []fault {
	return []fault{
		{name: "SIGKILL serve node 1, restart after 3 s", inject: s.killServe},
		// The import is posted once the failover has recovered, and the
		// worker is killed as soon as its rows are being applied.
		{name: "SENTINEL FAILOVER " + masterName, inject: s.failover, begins: s.postImport},
		{name: "SIGKILL worker 1 during the import, restart after 2 s", inject: s.killWorker, before: s.importUnderWay},
		{name: "PostgreSQL restart (pg_ctl restart -m fast)", inject: s.restartPG},
		{name: "Redis stopped 10 s (primary and replica)", inject: s.stopRedis},
	}
}

func (s *soak) killServe(ctx context.Context) (string, error) {
	n := s.serve[0]
	pid := n.pid()
	n.kill()
	sleep(ctx, 3*time.Second)
	if err := n.restart(60 * time.Second); err != nil {
		return "", err
	}
	return fmt.Sprintf("pid %d killed; restarted as pid %d", pid, n.pid()), nil
}

// killWorker waits until the workers have applied a tenth of the import
// (posted at the end of the warm-up), then kills one of them.
func (s *soak) killWorker(ctx context.Context) (string, error) {
	w := s.workers[0]
	pid := w.pid()
	w.kill()
	sleep(ctx, 2*time.Second)
	if err := w.restart(60 * time.Second); err != nil {
		return "", err
	}
	return fmt.Sprintf("import %s; worker pid %d killed with %d of %d rows applied; restarted as pid %d", s.importID, pid, s.killedAt, s.importRows, w.pid()), nil
}

// postImport posts the import and hands the answer to importUnderWay.
func (s *soak) postImport() {
	s.logf("posting the %d-row import", s.importRows)
	s.importPosted <- s.startImport()
}

// startImport posts the file to the API, as a brand's back-end does.
func (s *soak) startImport() error {
	f, err := os.Open(s.importFile)
	if err != nil {
		return err
	}
	defer f.Close()
	id, err := s.load.startImport(f)
	s.importID = id
	return err
}

// importUnderWay waits, before the worker fault's window opens, until the
// workers have applied the import's first rows.
func (s *soak) importUnderWay(ctx context.Context) error {
	select {
	case err := <-s.importPosted:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	err := waitFor(3*time.Minute, "the import to be under way", func() bool {
		s.killedAt = s.importedRows()
		return s.killedAt > 0 || ctx.Err() != nil
	})
	// Memory's baseline is read here, once every kind of work has run:
	// the import's upload (the largest request) and its first chunks, and
	// the Redis clients that only the import's enqueue and the failover
	// bring up (each a Sentinel subscription of three goroutines). Read
	// before them, the first 60 s of the short form measured the
	// process's growth into its working size, not a leak.
	s.load.quiesce(func() { s.warmMem = s.readMemory() })
	s.logf("memory baseline read (import under way)")
	return err
}

func (s *soak) failover(context.Context) (string, error) {
	before, after, err := s.redis.failover(60 * time.Second)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("primary %s → %s", before, after), nil
}

func (s *soak) restartPG(context.Context) (string, error) {
	start := time.Now()
	if err := s.pg.restart(); err != nil {
		return "", err
	}
	return fmt.Sprintf("down and back in %.1f s", time.Since(start).Seconds()), nil
}

func (s *soak) stopRedis(ctx context.Context) (string, error) {
	s.redis.stopServers()
	stopped := time.Now()
	sleep(ctx, 10*time.Second)
	if err := s.redis.startServers(); err != nil {
		return "", err
	}
	down := time.Since(stopped)
	m, err := s.redis.waitPrimary(60 * time.Second)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("both down %.1f s; primary after restart %s", down.Seconds(), m), nil
}

// schedule runs the faults one after another, spread over the run: a
// warm-up first, then each fault at its slot (or as soon as the previous
// one has recovered and a short steady gap has passed), leaving a steady
// tail at the end for the final readings.
func (s *soak) schedule(ctx context.Context, t0 time.Time, warm, duration time.Duration) {
	fs := s.faults()
	slot := (duration*85/100 - warm) / time.Duration(len(fs))
	next := t0.Add(warm)
	for i, f := range fs {
		at := t0.Add(warm + time.Duration(i)*slot)
		if at.Before(next) || f.before != nil {
			at = next
		}
		sleep(ctx, time.Until(at))
		if ctx.Err() != nil {
			return
		}
		if f.before != nil {
			if err := f.before(ctx); err != nil {
				s.logf("  %s: %v", f.name, err)
			}
		}
		w := window{name: f.name, start: time.Now()}
		s.logf("fault %d/%d: %s", i+1, len(fs), f.name)
		w.note, w.err = f.inject(ctx)
		w.end = time.Now().Add(recoveryGrace)
		if f.begins != nil {
			go f.begins()
		}
		if w.err != nil {
			s.logf("  failed: %v", w.err)
		} else {
			s.logf("  %s (%.1f s)", w.note, time.Since(w.start).Seconds())
		}
		s.mu.Lock()
		s.windows = append(s.windows, w)
		s.mu.Unlock()
		// Whole again before the next fault: a primary every Sentinel
		// names, every node ready. (The old primary rejoins as a replica
		// some seconds after a failover, while the run goes on.)
		if err := s.settle(); err != nil {
			s.logf("  not settled: %v", err)
		}
		next = time.Now().Add(3 * time.Second)
	}
}

// settle waits until the topology is whole again.
func (s *soak) settle() error {
	if _, err := s.redis.waitPrimary(60 * time.Second); err != nil {
		return err
	}
	for _, n := range s.serve {
		if err := n.waitReady(30 * time.Second); err != nil {
			return err
		}
	}
	return nil
}

// importedRows counts the import's customers in the database; during a
// PostgreSQL restart it answers 0.
func (s *soak) importedRows() int64 {
	var n int64
	err := s.db.QueryRow(`SELECT count(*) FROM customers WHERE email LIKE 'imp%@import.soak.test'`).Scan(&n)
	if err != nil {
		return 0
	}
	return n
}

// importState reads the import job's status and counts.
func importState(d *sql.DB, id string) (status string, result string, err error) {
	err = d.QueryRow(`SELECT status, result::text FROM import_jobs WHERE id = $1`, id).Scan(&status, &result)
	return
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
