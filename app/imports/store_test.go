package imports_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/imports"
	"gatehouse/apperr"
	"gatehouse/jobs"
)

// TestStoreIsTenantScoped runs every store method of tenant B against a
// job of tenant A: each answers "not found" (or nothing), and A's job is
// unchanged.
func TestStoreIsTenantScoped(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	a, b := f.store.For(f.a.ID), f.store.For(f.b.ID)
	now := time.Now().UTC()
	j := &imports.Job{ID: uuid.Must(uuid.NewV7()), FileName: "a.csv", Status: imports.StatusStaging, CreatedAt: now, UpdatedAt: now}

	t.Run("ok", func(t *testing.T) {
		if err := a.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if err := a.AddChunk(ctx, j.ID, imports.Chunk{Seq: 0, FirstLine: 2, Rows: 1, Data: []byte("ann@example.com,Ann\n")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		chunk := imports.Chunk{Seq: 1, FirstLine: 3, Rows: 1, Data: []byte("x@example.com,X\n")}
		d := imports.Dialect{Format: imports.FormatCSV, Delimiter: ",", Columns: []string{"email", "first_name"}}
		notFound := map[string]error{
			"AddChunk":      b.AddChunk(ctx, j.ID, chunk),
			"FinishStaging": b.FinishStaging(ctx, j.ID, d, imports.SplitStats{Rows: 1, Chunks: 1}),
			"FailStaging":   b.FailStaging(ctx, j.ID, "nope"),
			"SetStatus":     b.SetStatus(ctx, j.ID, nil, imports.StatusCancelled, ""),
		}
		_, notFound["Job"] = b.Job(ctx, j.ID)
		_, notFound["Chunk"] = b.Chunk(ctx, j.ID, 0)
		_, notFound["StartPass"] = b.StartPass(ctx, j.ID, imports.Mapping{Mode: imports.ModeCreate}, false, now)
		_, notFound["ScanChunk"] = b.ScanChunk(ctx, j.ID, 1, 0, func(imports.Chunk) ([]int64, []string, error) {
			t.Fatal("B read A's chunk")
			return nil, nil, nil
		})
		_, notFound["FindDuplicates"] = b.FindDuplicates(ctx, j.ID, 1)
		_, _, notFound["ApplyChunk"] = b.ApplyChunk(ctx, j.ID, 1, 0, imports.ModeUpsert, false, now, func(imports.Chunk) (imports.ApplyInput, error) {
			t.Fatal("B read A's chunk")
			return imports.ApplyInput{}, nil
		})
		for name, err := range notFound {
			if !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s from B: %v, want NotFound", name, err)
			}
		}
		if list, err := b.Jobs(ctx, 10); err != nil || len(list) != 0 {
			t.Fatalf("Jobs from B: %v, %v", list, err)
		}
		err := b.EachError(ctx, j.ID, 1, func(imports.ErrorRow) error {
			t.Fatal("B read A's errors")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Job(ctx, j.ID)
		if err != nil || got.Status != imports.StatusStaging || got.Error != "" {
			t.Fatalf("B changed A's job: %+v, %v", got, err)
		}
		if _, err := a.Chunk(ctx, j.ID, 1); !apperr.Is(err, apperr.NotFound) {
			t.Fatal("B added a chunk to A's job")
		}
	})
	t.Run("nil tenant", func(t *testing.T) {
		none := f.store.For(uuid.Nil)
		if _, err := none.Job(ctx, j.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("nil tenant reads a job: %v", err)
		}
		if err := none.CreateJob(ctx, &imports.Job{ID: uuid.Must(uuid.NewV7())}); err == nil {
			t.Fatal("nil tenant creates a job")
		}
		if err := none.SaveMapping(ctx, "x", imports.Mapping{}); err == nil {
			t.Fatal("nil tenant saves a mapping")
		}
	})
}

// TestStepsAreIdempotent runs every step of a pass twice, as asynq does
// after a crash: the second run of each changes nothing.
func TestStepsAreIdempotent(t *testing.T) {
	f := newFixture(t)
	// Steps run by hand here: keep the queue from running them.
	f.svc.SetQueue(nopQueue{})
	j := f.stage(t, f.a, "a.csv", "email,first_name\nann@example.com,Ann\nbob@example.com,Bob\nann@example.com,Again\ncarl@example.com,Carl\ndora@example.com,Dora\n")
	j, err := f.svc.Start(f.ctx, f.a, cli, j.ID, auto(j, f.a, imports.ModeUpsert), false)
	if err != nil {
		t.Fatal(err)
	}
	task := jobs.ImportTask{TenantID: f.a.ID, JobID: j.ID, Run: j.Run}
	twice := func(name string, step func(jobs.ImportTask) error, seq int) {
		t.Helper()
		task.Seq = seq
		for i := 0; i < 2; i++ {
			if err := step(task); err != nil {
				t.Fatalf("%s #%d: %v", name, i+1, err)
			}
		}
	}
	for seq := 0; seq < j.Chunks; seq++ {
		twice("scan", func(p jobs.ImportTask) error { return f.svc.ScanChunk(f.ctx, p) }, seq)
	}
	twice("dedup", func(p jobs.ImportTask) error { return f.svc.FindDuplicates(f.ctx, p) }, 0)
	for seq := 0; seq < j.Chunks; seq++ {
		twice("apply", func(p jobs.ImportTask) error { return f.svc.ApplyChunk(f.ctx, p) }, seq)
	}
	p, err := f.svc.Progress(f.ctx, f.a.ID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Job.Status != imports.StatusDone || p.Counts != (imports.Counts{Rows: 5, Created: 3, Rejected: 2}) {
		t.Fatalf("after every step twice: %s %+v", p.Job.Status, p.Counts)
	}
	if c := f.customers(t, f.a.ID); len(c) != 3 {
		t.Fatalf("customers %+v", c)
	}
	// A task of an earlier pass, or for a stopped job, does nothing.
	stale := task
	stale.Run = 0
	if err := f.svc.ApplyChunk(f.ctx, stale); err != nil {
		t.Fatal(err)
	}
}

type nopQueue struct{}

func (nopQueue) EnqueueImport(context.Context, string, jobs.ImportTask) error { return nil }
