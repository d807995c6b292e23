package imports_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gatehouse/app/imports"
	"gatehouse/jobs"
)

// dupFile has ann twice, in different chunks (the fixture cuts every 3
// rows), so finding her needs every chunk's scan.
const dupFile = "email,first_name\nann@example.com,Ann\nbob@example.com,Bob\ncarl@example.com,Carl\ndora@example.com,Dora\nann@example.com,Again\neve@example.com,Eve\n"

// byHand runs a job's steps one at a time in this goroutine.
type byHand struct {
	f    *fixture
	t    *testing.T
	task jobs.ImportTask
}

func (f *fixture) byHand(t *testing.T, j *imports.Job) *byHand {
	return &byHand{f: f, t: t, task: jobs.ImportTask{TenantID: j.TenantID, JobID: j.ID, Run: j.Run, Attempt: j.Attempt}}
}

func (h *byHand) job() *imports.Job {
	h.t.Helper()
	j, err := h.f.svc.Job(h.f.ctx, h.task.TenantID, h.task.JobID)
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

func (h *byHand) scan() {
	h.t.Helper()
	for seq := 0; seq < h.job().Chunks; seq++ {
		h.task.Seq = seq
		if err := h.f.svc.ScanChunk(h.f.ctx, h.task); err != nil {
			h.t.Fatalf("scan %d: %v", seq, err)
		}
	}
}

func (h *byHand) dedup() {
	h.t.Helper()
	h.task.Seq = 0
	if err := h.f.svc.FindDuplicates(h.f.ctx, h.task); err != nil {
		h.t.Fatalf("dedup: %v", err)
	}
}

func (h *byHand) apply(seqs ...int) {
	h.t.Helper()
	for _, seq := range seqs {
		h.task.Seq = seq
		if err := h.f.svc.ApplyChunk(h.f.ctx, h.task); err != nil {
			h.t.Fatalf("apply %d: %v", seq, err)
		}
	}
}

func (h *byHand) scratch() []string {
	h.t.Helper()
	left, err := h.f.store.ScratchTables(h.f.ctx, h.task.JobID)
	if err != nil {
		h.t.Fatal(err)
	}
	return left
}

// wantDone checks the pass ended with ann's two rows rejected and the
// other four created, and left no scratch.
func (h *byHand) wantDone() {
	h.t.Helper()
	p, err := h.f.svc.Progress(h.f.ctx, h.task.TenantID, h.task.JobID)
	if err != nil {
		h.t.Fatal(err)
	}
	if p.Job.Status != imports.StatusDone || p.Counts != (imports.Counts{Rows: 6, Created: 4, Rejected: 2}) {
		h.t.Fatalf("pass ended %s (%s) with %+v", p.Job.Status, p.Job.Error, p.Counts)
	}
	if c := h.f.customers(h.t, h.task.TenantID); len(c) != 4 {
		h.t.Fatalf("customers %+v", c)
	}
	if left := h.scratch(); len(left) != 0 {
		h.t.Fatalf("a finished run left scratch tables %v", left)
	}
}

func (f *fixture) startByHand(t *testing.T) *byHand {
	t.Helper()
	f.svc.SetQueue(nopQueue{})
	j := f.stage(t, f.a, "dup.csv", dupFile)
	j, err := f.svc.Start(f.ctx, f.a, cli, j.ID, auto(j, f.a, imports.ModeUpsert), false)
	if err != nil {
		t.Fatal(err)
	}
	return f.byHand(t, j)
}

func TestScratchTablesLiveAsLongAsTheirPass(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.startByHand(t)
	if got := h.scratch(); !reflect.DeepEqual(got, []string{"file", "scan"}) {
		t.Fatalf("a started pass has %v", got)
	}
	h.scan()
	h.dedup()
	if got := h.scratch(); !reflect.DeepEqual(got, []string{"file", "dups"}) {
		t.Fatalf("after dedup: %v, want the scan table dropped", got)
	}
	h.apply(0, 1)
	h.wantDone()
}

// An unlogged scan table comes back empty after a PostgreSQL crash; the
// dedup step must notice rather than let ann's two rows both in.
func TestLostScanKeysAreScannedAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.startByHand(t)
	h.scan()
	if err := f.db.Gorm.Exec("DELETE FROM " + imports.ScratchName("scan", h.task.JobID)).Error; err != nil {
		t.Fatal(err)
	}
	h.dedup()
	j := h.job()
	if j.Phase != imports.PhaseScan || j.Attempt != h.task.Attempt+1 {
		t.Fatalf("after dedup on an emptied scan table: phase %q attempt %d, want a new scan under attempt %d", j.Phase, j.Attempt, h.task.Attempt+1)
	}
	p, err := f.svc.Progress(f.ctx, f.a.ID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Scanned != 0 {
		t.Fatalf("%d rows still count as scanned", p.Scanned)
	}
	h.task.Attempt = j.Attempt
	h.scan()
	h.dedup()
	h.apply(0, 1)
	h.wantDone()
}

func TestFailedImportReleasesScratchAndResumeRebuildsIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.startByHand(t)
	h.scan()
	h.dedup()
	h.apply(0)
	f.svc.ImportFailed(f.ctx, h.task, errors.New("the disk is on fire"))
	if j := h.job(); j.Status != imports.StatusFailed {
		t.Fatalf("status %s", j.Status)
	}
	if got := h.scratch(); !reflect.DeepEqual(got, []string{"file"}) {
		t.Fatalf("a failed pass keeps %v, want only its file (for the resume)", got)
	}
	if err := f.svc.Resume(f.ctx, f.a.ID, cli, h.task.JobID); err != nil {
		t.Fatal(err)
	}
	j := h.job()
	if j.Phase != imports.PhaseScan || !reflect.DeepEqual(h.scratch(), []string{"file", "scan"}) {
		t.Fatalf("resumed: phase %q, scratch %v; want a new scan", j.Phase, h.scratch())
	}
	h.task.Attempt = j.Attempt
	h.scan()
	h.dedup()
	h.apply(0, 1) // chunk 0 was applied before the failure: it stays as it was
	h.wantDone()
}

func TestCancelledImportReleasesScratch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.startByHand(t)
	h.scan()
	if err := f.svc.Cancel(f.ctx, f.a.ID, cli, h.task.JobID); err != nil {
		t.Fatal(err)
	}
	if got := h.scratch(); len(got) != 0 {
		t.Fatalf("a cancelled run keeps %v", got)
	}
}

func TestSweepDropsOnlyScratchNobodyNeeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.SetQueue(nopQueue{})
	start := func(name string) *byHand {
		j := f.stage(t, f.a, name, dupFile)
		j, err := f.svc.Start(f.ctx, f.a, cli, j.ID, auto(j, f.a, imports.ModeUpsert), false)
		if err != nil {
			t.Fatal(err)
		}
		return f.byHand(t, j)
	}
	running := start("running.csv")
	// A job in the other tenant that was then deleted with its tenant: its
	// rows cascade away, its tables do not.
	jb, err := f.svc.Stage(f.ctx, f.b, cli, "gone.csv", "", strings.NewReader(dupFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Start(f.ctx, f.b, cli, jb.ID, auto(jb, f.b, imports.ModeUpsert), false); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Gorm.Exec("DELETE FROM import_jobs WHERE id = ?", jb.ID).Error; err != nil {
		t.Fatal(err)
	}
	// A job whose worker died after marking it failed, before dropping
	// its scan table, an hour ago; and one that failed a moment ago.
	old, recent := start("old.csv"), start("recent.csv")
	for _, h := range []*byHand{old, recent} {
		if err := f.svc.Pause(f.ctx, f.a.ID, cli, h.task.JobID); err != nil {
			t.Fatal(err)
		}
		if err := f.db.Gorm.Exec("UPDATE import_jobs SET status = ? WHERE id = ?", imports.StatusFailed, h.task.JobID).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := f.db.Gorm.Exec("UPDATE import_jobs SET updated_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Hour), old.task.JobID).Error; err != nil {
		t.Fatal(err)
	}

	n, err := f.store.SweepScratch(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("swept %d tables, want 3 (the deleted job's file and scan, the old failure's scan)", n)
	}
	gone, err := f.store.ScratchTables(f.ctx, jb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 0 {
		t.Fatalf("the deleted job keeps %v", gone)
	}
	for _, c := range []struct {
		h    *byHand
		want []string
	}{{running, []string{"file", "scan"}}, {old, []string{"file"}}, {recent, []string{"file", "scan"}}} {
		if got := c.h.scratch(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: scratch %v, want %v", c.h.job().FileName, got, c.want)
		}
	}
	// The old failure resumes from scratch rebuilt.
	if err := f.svc.Resume(f.ctx, f.a.ID, cli, old.task.JobID); err != nil {
		t.Fatal(err)
	}
	old.task.Attempt = old.job().Attempt
	old.scan()
	old.dedup()
	old.apply(0, 1)
	old.wantDone()
}
