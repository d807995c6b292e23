// Package imports brings existing customer bases into a tenant: a file
// (CSV with any of , ; TAB | as delimiter, or JSON Lines) is streamed into
// the database in chunks of whole rows, mapped column by column to the
// tenant's registration fields, validated by a dry run, and applied by
// asynq tasks on the bulk queue, one transaction per chunk.
//
// A pass over the file has three phases. Scan records every row's email;
// dedup finds emails the file holds more than once (all of those rows are
// rejected: a file that says two things about one person is not guessed
// at); apply creates, updates or skips each chunk's rows by email, or in a
// dry run only counts what it would do. The job's state in the database is
// the truth: tasks are triggers keyed by chunk, each chunk is marked done
// in the transaction that applies it, so a task run twice, or run again
// after its worker was killed, changes nothing. At most Window chunks of a
// job are queued at a time, which bounds an import's share of the workers.
package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"gatehouse/app/audit"
	"gatehouse/app/csvsafe"
	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// TenantLookup loads a tenant with its registration fields, for steps that
// run in a worker.
type TenantLookup interface {
	ByID(ctx context.Context, id uuid.UUID) (*tenants.Tenant, error)
}

// Queue puts import steps on the job queue. jobs.Client does it with
// asynq; LocalQueue runs them in this process. Asking twice for a step
// that is already queued queues it once.
type Queue interface {
	EnqueueImport(ctx context.Context, typ string, t jobs.ImportTask) error
}

// Pacer slows bulk work down while interactive traffic needs the
// machine (app/yield). Pace is called after each chunk with the job's work
// it stands for in units (a row scanned is a quarter, a row applied three
// quarters, times the chunks that run beside it) and the time it took, and
// returns when the chunk's successor may run.
type Pacer interface {
	Pace(ctx context.Context, units float64, worked time.Duration)
}

// Actor is who asked for something, as the audit trail names them.
type Actor struct {
	Name string // "staff:ann@example.com", "cli"
	IP   string
}

// Deps are the service's collaborators.
type Deps struct {
	Store   *Store
	Tenants TenantLookup
	Queue   Queue
	Audit   *audit.Recorder
	Log     *slog.Logger
	Limits  Limits // zero means DefaultLimits
	Window  int    // chunks of one job queued at a time; 0 means 2
	Pacer   Pacer  // nil: every chunk runs at full speed
}

// Service runs imports.
type Service struct {
	store   *Store
	tenants TenantLookup
	queue   Queue
	audit   *audit.Recorder
	log     *slog.Logger
	limits  Limits
	window  int
	pacer   Pacer
	now     func() time.Time
}

var _ jobs.ImportWorker = (*Service)(nil)

// NewService returns the import service.
func NewService(d Deps) *Service {
	if d.Window <= 0 {
		d.Window = 2
	}
	return &Service{
		store: d.Store, tenants: d.Tenants, queue: d.Queue, audit: d.Audit, log: d.Log,
		limits: d.Limits.withDefaults(), window: d.Window, pacer: d.Pacer, now: func() time.Time { return time.Now().UTC() },
	}
}

// SetQueue replaces the queue, for a LocalQueue that needs the service
// before the service can have it.
func (s *Service) SetQueue(q Queue) { s.queue = q }

// SetPacer sets the pacer, for a CLI run that learns only later whether
// it has a Redis to read the pressure from.
func (s *Service) SetPacer(p Pacer) { s.pacer = p }

// Stage streams r into a new job of tenant t, cut into chunks in the
// database, and returns the job, ready for a mapping. A file that cannot
// be read leaves a failed job and returns a *FileError naming the line.
func (s *Service) Stage(ctx context.Context, t *tenants.Tenant, a Actor, name string, format Format, r io.Reader) (*Job, error) {
	store := s.store.For(t.ID)
	now := s.now()
	j := &Job{ID: uuid.Must(uuid.NewV7()), FileName: cleanFileName(name), Status: StatusStaging, CreatedBy: a.Name, CreatedAt: now, UpdatedAt: now}
	if err := store.CreateJob(ctx, j); err != nil {
		return nil, err
	}
	d, stats, err := Split(r, name, format, s.limits, func(c Chunk) error {
		return store.AddChunk(ctx, j.ID, c)
	})
	if err != nil {
		reason := "the upload was interrupted"
		var fe *FileError
		if errors.As(err, &fe) {
			reason = fe.Error()
		}
		if ferr := store.FailStaging(context.WithoutCancel(ctx), j.ID, reason); ferr != nil {
			s.log.Error("import_staging_cleanup_failed", "import_id", j.ID, "error", ferr)
		}
		s.record(ctx, t.ID, a, "import.upload_failed", j, map[string]any{"file": j.FileName, "reason": reason})
		return j, err
	}
	if err := store.FinishStaging(ctx, j.ID, d, stats); err != nil {
		return nil, err
	}
	j, err = store.Job(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	s.record(ctx, t.ID, a, "import.uploaded", j, map[string]any{"file": j.FileName, "bytes": j.SizeBytes, "rows": j.Rows, "format": string(d.Format)})
	return j, nil
}

// cleanFileName keeps the base name of an upload, without control
// characters, at most 200 bytes.
func cleanFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == "" {
		name = "upload"
	}
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}

// Job returns one of the tenant's jobs.
func (s *Service) Job(ctx context.Context, tenantID, jobID uuid.UUID) (*Job, error) {
	return s.store.For(tenantID).Job(ctx, jobID)
}

// Jobs lists the tenant's newest jobs.
func (s *Service) Jobs(ctx context.Context, tenantID uuid.UUID) ([]*Job, error) {
	return s.store.For(tenantID).Jobs(ctx, 50)
}

// PreviewRow is one row of a preview.
type PreviewRow struct {
	Line   int64
	Values []string // lined up with Preview.Columns
	Error  string   // what is wrong with the row as a whole, if anything
}

// PreviewRows is how many first rows the job page shows, and how many are
// kept after a run drops the file.
const PreviewRows = 10

// Preview is the first rows of a staged file.
type Preview struct {
	Columns []string
	Rows    []PreviewRow
}

// Preview reads the first n rows of a staged job.
func (s *Service) Preview(ctx context.Context, tenantID, jobID uuid.UUID, n int) (Preview, error) {
	store := s.store.For(tenantID)
	j, err := store.Job(ctx, jobID)
	if err != nil {
		return Preview{}, err
	}
	if j.Chunks == 0 {
		return Preview{Columns: j.Dialect.Columns}, nil
	}
	if j.Result.Preview != nil {
		// The file was dropped after its run; these are its first rows.
		p := *j.Result.Preview
		if len(p.Rows) > n {
			p.Rows = p.Rows[:n]
		}
		return p, nil
	}
	var p Preview
	var r Reader
	for seq := 0; seq < j.Chunks && len(p.Rows) < n; seq++ {
		c, err := store.Chunk(ctx, jobID, seq)
		if err != nil {
			return Preview{}, err
		}
		if len(c.Data) == 0 {
			break // the file was dropped after its run
		}
		cr := NewReader(j.Dialect, c)
		if r != nil && j.Dialect.Format == FormatJSONL {
			// Keep one column order across chunks.
			cr.(*jsonReader).seed(r.Columns())
		}
		r = cr
		for len(p.Rows) < n {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			pr := PreviewRow{Line: row.Line, Values: append([]string(nil), row.Fields...)}
			var re *RowError
			if errors.As(err, &re) {
				pr.Error = re.Reason
			} else if err != nil {
				return Preview{}, err
			}
			p.Rows = append(p.Rows, pr)
		}
	}
	if r == nil {
		return Preview{Columns: j.Dialect.Columns}, nil
	}
	p.Columns = r.Columns()
	if j.Dialect.Format == FormatJSONL {
		p.Columns = mergeColumns(j.Dialect.Columns, r.Columns())
		for i := range p.Rows {
			p.Rows[i].Values = realign(p.Rows[i].Values, r.Columns(), p.Columns)
		}
	}
	return p, nil
}

func mergeColumns(first, more []string) []string {
	out := append([]string(nil), first...)
	seen := map[string]bool{}
	for _, c := range out {
		seen[c] = true
	}
	for _, c := range more {
		if !seen[c] {
			out = append(out, c)
			seen[c] = true
		}
	}
	return out
}

func realign(vals, from, to []string) []string {
	pos := map[string]int{}
	for i, c := range from {
		pos[c] = i
	}
	out := make([]string, len(to))
	for i, c := range to {
		if k, ok := pos[c]; ok && k < len(vals) {
			out[i] = vals[k]
		}
	}
	return out
}

// Start begins a dry run (dry) or the real run of a job with mapping m,
// checked against tenant t's fields. A dry run writes no customer; the
// real run can start after it, with the same or another mapping.
func (s *Service) Start(ctx context.Context, t *tenants.Tenant, a Actor, jobID uuid.UUID, m Mapping, dry bool) (*Job, error) {
	store := s.store.For(t.ID)
	j, err := store.Job(ctx, jobID)
	if err != nil {
		return nil, err
	}
	if !j.Startable() {
		return nil, apperr.New(apperr.Conflict, "This import is %s: it cannot be started again.", j.Status)
	}
	if m.Mode == "" {
		m.Mode = DefaultMode
	}
	if err := m.Check(j.Dialect, t.Fields); err != nil {
		return nil, err
	}
	j, err = store.StartPass(ctx, jobID, m, dry, s.now())
	if err != nil {
		return nil, err
	}
	action := "import.started"
	if dry {
		action = "import.dry_run.started"
	}
	s.record(ctx, t.ID, a, action, j, map[string]any{"file": j.FileName, "rows": j.Rows, "mode": string(m.Mode), "legacy_passwords": m.LegacyPasswords, "mapping": m.Columns})
	return j, s.pump(ctx, j)
}

// Pause stops a running pass after the chunks in hand; Resume goes on.
func (s *Service) Pause(ctx context.Context, tenantID uuid.UUID, a Actor, jobID uuid.UUID) error {
	store := s.store.For(tenantID)
	if err := store.SetStatus(ctx, jobID, []Status{StatusQueued, StatusRunning}, StatusPaused, ""); err != nil {
		return err
	}
	j, err := store.Job(ctx, jobID)
	if err == nil {
		s.record(ctx, tenantID, a, "import.paused", j, map[string]any{"file": j.FileName})
	}
	return nil
}

// Resume restarts a paused or failed pass where it stopped.
func (s *Service) Resume(ctx context.Context, tenantID uuid.UUID, a Actor, jobID uuid.UUID) error {
	store := s.store.For(tenantID)
	j, err := store.Job(ctx, jobID)
	if err != nil {
		return err
	}
	if j.Run == 0 {
		return apperr.New(apperr.Conflict, "This import has not started: start a dry run or a run instead.")
	}
	if !j.Status.Active() {
		// Before the job turns active, so no step finds half of it.
		if err := store.recoverScratch(ctx, jobID); err != nil {
			return err
		}
	}
	if err := store.SetStatus(ctx, jobID, []Status{StatusPaused, StatusFailed}, StatusRunning, ""); err != nil {
		return err
	}
	if j, err = store.Job(ctx, jobID); err != nil {
		return err
	}
	s.record(ctx, tenantID, a, "import.resumed", j, map[string]any{"file": j.FileName})
	return s.pump(ctx, j)
}

// Cancel stops a job for good. Chunks already applied stay applied (each
// whole); the counts say how far it got.
func (s *Service) Cancel(ctx context.Context, tenantID uuid.UUID, a Actor, jobID uuid.UUID) error {
	store := s.store.For(tenantID)
	from := []Status{StatusReady, StatusQueued, StatusRunning, StatusPaused, StatusFailed}
	if err := store.SetStatus(ctx, jobID, from, StatusCancelled, ""); err != nil {
		return err
	}
	j, err := store.Job(ctx, jobID)
	if err != nil {
		return err
	}
	// A cancelled job is over, and only one cancelled after a dry run
	// can be started again, so only that one keeps its file.
	if err := store.purge(ctx, jobID, !j.DryRun); err != nil {
		s.log.Warn("import_purge_failed", "import_id", jobID, "error", err)
	}
	s.record(ctx, tenantID, a, "import.cancelled", j, map[string]any{"file": j.FileName})
	return nil
}

// Progress is how far a job has got.
type Progress struct {
	Job     *Job
	Scanned int64 // rows whose email the pass has recorded
	Applied int64 // rows the pass has applied (or classified, in a dry run)
	Counts  Counts
	// Percent is the share of the pass done, weighting applying a row
	// three times scanning one, which is about what they cost.
	Percent       int
	RowsPerSecond float64
	ETA           time.Duration // 0 when not known
}

// Progress reports a job's progress.
func (s *Service) Progress(ctx context.Context, tenantID, jobID uuid.UUID) (Progress, error) {
	store := s.store.For(tenantID)
	j, err := store.Job(ctx, jobID)
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Job: j, Counts: Counts{Rows: j.Rows}}
	if j.Run == 0 {
		return p, nil
	}
	sums, err := store.sums(ctx, jobID, j.Run)
	if err != nil {
		return Progress{}, err
	}
	p.Scanned, p.Applied = sums.Scanned, sums.Applied
	p.Counts = Counts{Rows: j.Rows, Created: sums.Created, Updated: sums.Updated, Skipped: sums.Skipped, Rejected: sums.Rejected}
	if j.Rows > 0 {
		work := float64(sums.Scanned)/4 + float64(sums.Applied)*3/4
		p.Percent = int(100 * work / float64(j.Rows))
		end := s.now()
		if j.FinishedAt != nil {
			end = *j.FinishedAt
		}
		if j.StartedAt != nil {
			if el := end.Sub(*j.StartedAt).Seconds(); el > 0.5 && work > 0 {
				p.RowsPerSecond = work / el
				if j.Status.Active() {
					p.ETA = time.Duration((float64(j.Rows) - work) / p.RowsPerSecond * float64(time.Second))
				}
			}
		}
	}
	if j.Status == StatusDone {
		p.Percent = 100
	}
	return p, nil
}

// pump queues the next steps of a job: up to Window unfinished chunks of
// the current phase (those already queued are not queued twice), the
// dedup step once every chunk is scanned, and the finish once every chunk
// is applied.
func (s *Service) pump(ctx context.Context, j *Job) error {
	if !j.Status.Active() {
		return nil
	}
	store := s.store.For(j.TenantID)
	task := jobs.ImportTask{TenantID: j.TenantID, JobID: j.ID, Run: j.Run, Attempt: j.Attempt}
	switch j.Phase {
	case PhaseScan:
		seqs, err := store.pending(ctx, j.ID, PhaseScan, j.Run, s.window)
		if err != nil {
			return err
		}
		if len(seqs) == 0 {
			return s.queue.EnqueueImport(ctx, jobs.TypeImportDedup, task)
		}
		for _, seq := range seqs {
			task.Seq = seq
			if err := s.queue.EnqueueImport(ctx, jobs.TypeImportScan, task); err != nil {
				return err
			}
		}
	case PhaseApply:
		seqs, err := store.pending(ctx, j.ID, PhaseApply, j.Run, s.window)
		if err != nil {
			return err
		}
		if len(seqs) == 0 {
			return s.finish(ctx, j)
		}
		for _, seq := range seqs {
			task.Seq = seq
			if err := s.queue.EnqueueImport(ctx, jobs.TypeImportApply, task); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish closes a pass whose chunks are all applied: its counts are
// stored, the audit trail told, and what it no longer needs dropped.
func (s *Service) finish(ctx context.Context, j *Job) error {
	store := s.store.For(j.TenantID)
	did, counts, err := store.finish(ctx, j.ID, j.Run, s.now())
	if err != nil || !did {
		return err
	}
	action := "import.finished"
	if j.DryRun {
		action = "import.dry_run.finished"
	}
	s.record(ctx, j.TenantID, Actor{Name: "system"}, action, j, map[string]any{
		"file": j.FileName, "mode": string(j.Mapping.Mode), "rows": counts.Rows, "created": counts.Created,
		"updated": counts.Updated, "skipped": counts.Skipped, "rejected": counts.Rejected,
	})
	if !j.DryRun {
		if p, err := s.Preview(ctx, j.TenantID, j.ID, PreviewRows); err != nil {
			s.log.Warn("import_preview_keep_failed", "import_id", j.ID, "error", err)
		} else if err := store.keepPreview(ctx, j.ID, p); err != nil {
			s.log.Warn("import_preview_keep_failed", "import_id", j.ID, "error", err)
		}
	}
	if err := store.purge(ctx, j.ID, !j.DryRun); err != nil {
		s.log.Warn("import_purge_failed", "import_id", j.ID, "error", err)
	}
	return nil
}

// step loads what a task needs: the job, if the task still belongs to its
// current pass and the pass is active, and its tenant. A nil job means
// "nothing to do".
func (s *Service) step(ctx context.Context, p jobs.ImportTask) (*Job, *tenants.Tenant, error) {
	store := s.store.For(p.TenantID)
	j, err := store.Job(ctx, p.JobID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, nil // deleted with its tenant, or never ours
	}
	if err != nil {
		return nil, nil, err
	}
	if j.Run != p.Run || !j.Status.Active() {
		return nil, nil, nil
	}
	t, err := s.tenants.ByID(ctx, p.TenantID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if j.Status == StatusQueued {
		if err := store.markRunning(ctx, j.ID, j.Run); err != nil {
			return nil, nil, err
		}
	}
	return j, t, nil
}

// next reloads the job after a step and queues what comes after it.
func (s *Service) next(ctx context.Context, p jobs.ImportTask) error {
	j, err := s.store.For(p.TenantID).Job(ctx, p.JobID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		return err
	}
	if j.Run != p.Run {
		return nil
	}
	return s.pump(ctx, j)
}

// ScanChunk records the emails of one chunk (a worker step).
func (s *Service) ScanChunk(ctx context.Context, p jobs.ImportTask) error {
	j, t, err := s.step(ctx, p)
	if err != nil || j == nil {
		return err
	}
	if j.Phase == PhaseScan {
		n, err := newNormaliser(j.Mapping, t.Fields)
		if err != nil {
			return jobs.Permanent(err)
		}
		began, rows := time.Now(), 0
		ran, err := s.store.For(t.ID).ScanChunk(ctx, j.ID, j.Run, p.Seq, func(ch Chunk) ([]int64, []string, error) {
			rows = ch.Rows
			lines := make([]int64, 0, ch.Rows)
			emails := make([]string, 0, ch.Rows)
			r := NewReader(j.Dialect, ch)
			for {
				row, err := r.Next()
				if err == io.EOF {
					return lines, emails, nil
				}
				var re *RowError
				if errors.As(err, &re) {
					continue
				}
				if err != nil {
					return nil, nil, jobs.Permanent(err)
				}
				n.bind(r.Columns())
				if e, why := n.emailOf(row); why == "" {
					lines = append(lines, row.Line)
					emails = append(emails, e)
				}
			}
		})
		if err != nil {
			return err
		}
		s.pace(ctx, ran, float64(rows)/4, began)
	}
	return s.next(ctx, p)
}

// pace gives way to interactive traffic after a chunk that ran, before
// its successor is queued. Up to window chunks of a job run side by side,
// so each is paced as window times its own work: one lane's share of the
// floor, which holds the job as a whole to the floor rate rather than
// window times it.
func (s *Service) pace(ctx context.Context, ran bool, units float64, began time.Time) {
	if ran && s.pacer != nil {
		s.pacer.Pace(ctx, units*float64(s.window), time.Since(began))
	}
}

// FindDuplicates runs the dedup step once every chunk is scanned (a
// worker step).
func (s *Service) FindDuplicates(ctx context.Context, p jobs.ImportTask) error {
	j, _, err := s.step(ctx, p)
	if err != nil || j == nil {
		return err
	}
	if _, err := s.store.For(j.TenantID).FindDuplicates(ctx, j.ID, j.Run); err != nil {
		return err
	}
	return s.next(ctx, p)
}

// ApplyChunk applies (or, in a dry run, classifies) one chunk (a worker
// step).
func (s *Service) ApplyChunk(ctx context.Context, p jobs.ImportTask) error {
	j, t, err := s.step(ctx, p)
	if err != nil || j == nil {
		return err
	}
	if j.Phase == PhaseApply {
		n, err := newNormaliser(j.Mapping, t.Fields)
		if err != nil {
			return jobs.Permanent(err)
		}
		began, rows := time.Now(), 0
		_, ran, err := s.store.For(t.ID).ApplyChunk(ctx, j.ID, j.Run, p.Seq, j.Mapping.Mode, j.DryRun, s.now(), func(ch Chunk) (ApplyInput, error) {
			rows = ch.Rows
			return readChunk(j.Dialect, ch, n)
		})
		if err != nil {
			return err
		}
		s.pace(ctx, ran, float64(rows)*3/4, began)
	}
	return s.next(ctx, p)
}

// readChunk normalises every row of a chunk.
func readChunk(d Dialect, ch Chunk, n *normaliser) (ApplyInput, error) {
	in := ApplyInput{Records: make([]Record, 0, ch.Rows)}
	r := NewReader(d, ch)
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			in.Rejected = append(in.Rejected, Rejected{Line: re.Line, Column: re.Column, Reason: re.Reason, Raw: rawOf(d, row)})
			continue
		}
		if err != nil {
			return in, jobs.Permanent(err)
		}
		rec, rerr := n.record(row, r.Columns())
		if rerr != nil {
			in.Rejected = append(in.Rejected, Rejected{Line: rerr.Line, Column: rerr.Column, Reason: rerr.Reason, Raw: rawOf(d, row)})
			continue
		}
		in.Records = append(in.Records, rec)
	}
	// Duplicates are rare: find their original rows only when asked.
	var raws map[int64]string
	in.RawOf = func(line int64) string {
		if raws == nil {
			raws = map[int64]string{}
			r := NewReader(d, ch)
			for {
				row, err := r.Next()
				if err == io.EOF || (err != nil && !errors.As(err, new(*RowError))) {
					break
				}
				raws[row.Line] = rawOf(d, row)
			}
		}
		return raws[line]
	}
	return in, nil
}

// rawOf is a row as the error report keeps it.
func rawOf(d Dialect, row Row) string {
	if d.Format == FormatJSONL {
		return row.Raw
	}
	b, _ := json.Marshal(row.Fields)
	return string(b)
}

// ImportFailed marks a job failed when one of its steps has failed for
// good (a worker hook).
func (s *Service) ImportFailed(ctx context.Context, p jobs.ImportTask, err error) {
	reason := "A worker could not finish a step of this import; see the worker log, then resume."
	var fe *FileError
	if errors.As(err, &fe) {
		reason = "The staged file could not be read: " + fe.Error()
	} else if e, ok := apperr.As(err); ok && e.Code != apperr.Internal {
		reason = e.Message
	}
	s.log.Error("import_step_failed", "import_id", p.JobID, "tenant_id", p.TenantID, "chunk", p.Seq, "error", err)
	store := s.store.For(p.TenantID)
	if serr := store.SetStatus(ctx, p.JobID, []Status{StatusQueued, StatusRunning}, StatusFailed, reason); serr != nil {
		return
	}
	// A resume builds the scratch again; until then it holds no space.
	if derr := store.purge(ctx, p.JobID, false); derr != nil {
		s.log.Warn("import_purge_failed", "import_id", p.JobID, "error", derr)
	}
	if j, jerr := store.Job(ctx, p.JobID); jerr == nil {
		s.record(ctx, p.TenantID, Actor{Name: "system"}, "import.failed", j, map[string]any{"file": j.FileName, "reason": reason})
	}
}

// ReportName is the file name of a job's error report.
func ReportName(j *Job) string {
	base := strings.TrimSuffix(j.FileName, filepath.Ext(j.FileName))
	return base + "-errors.csv"
}

// WriteErrorReport writes the rows the job's last pass rejected as CSV:
// a line and a reason column, then the row as the file had it (its columns
// for CSV, the JSON line for JSON Lines), ready to fix and import again.
// Every cell is written through csvsafe, since the values are the
// uploader's and the reader opens the report in a spreadsheet.
func (s *Service) WriteErrorReport(ctx context.Context, tenantID, jobID uuid.UUID, w io.Writer) error {
	return s.writeReport(ctx, tenantID, jobID, false, w)
}

// WriteDryRunReport writes the rows the job's last dry run rejected, which
// are kept after the real run that followed it.
func (s *Service) WriteDryRunReport(ctx context.Context, tenantID, jobID uuid.UUID, w io.Writer) error {
	return s.writeReport(ctx, tenantID, jobID, true, w)
}

func (s *Service) writeReport(ctx context.Context, tenantID, jobID uuid.UUID, dry bool, w io.Writer) error {
	store := s.store.For(tenantID)
	j, err := store.Job(ctx, jobID)
	if err != nil {
		return err
	}
	pass := j.Run
	if dry {
		pass = j.Result.DryPass
	}
	cw := csvsafe.NewWriter(w)
	header := []string{"line", "reason"}
	if j.Dialect.Format == FormatJSONL {
		header = append(header, "json")
	} else {
		header = append(header, j.Dialect.Columns...)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	if pass > 0 {
		err = store.EachError(ctx, jobID, pass, func(e ErrorRow) error {
			rec := []string{strconv.FormatInt(e.Line, 10), e.Reason}
			if e.Column != "" {
				rec[1] = fmt.Sprintf("%s: %s", e.Column, e.Reason)
			}
			if j.Dialect.Format == FormatJSONL {
				rec = append(rec, e.Raw)
			} else {
				var vals []string
				_ = json.Unmarshal([]byte(e.Raw), &vals)
				rec = append(rec, vals...)
			}
			return cw.Write(rec)
		})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SaveMapping keeps m under name for the tenant's next files.
func (s *Service) SaveMapping(ctx context.Context, tenantID uuid.UUID, a Actor, name string, m Mapping) error {
	if err := s.store.For(tenantID).SaveMapping(ctx, name, m); err != nil {
		return err
	}
	s.record(ctx, tenantID, a, "import.mapping.saved", nil, map[string]any{"name": name, "mapping": m.Columns})
	return nil
}

// Mappings lists the tenant's saved mappings.
func (s *Service) Mappings(ctx context.Context, tenantID uuid.UUID) ([]SavedMapping, error) {
	return s.store.For(tenantID).Mappings(ctx)
}

// Mapping returns one saved mapping.
func (s *Service) Mapping(ctx context.Context, tenantID uuid.UUID, name string) (Mapping, error) {
	return s.store.For(tenantID).MappingByName(ctx, name)
}

func (s *Service) record(ctx context.Context, tenantID uuid.UUID, a Actor, action string, j *Job, detail map[string]any) {
	if s.audit == nil {
		return
	}
	target := ""
	if j != nil {
		target = "import:" + j.ID.String()
	}
	_ = s.audit.Record(context.WithoutCancel(ctx), audit.Event{TenantID: tenantID, Actor: a.Name, Action: action, Target: target, IP: a.IP, Detail: detail})
}
