package imports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

type jobRow struct {
	ID         uuid.UUID
	TenantID   uuid.UUID
	FileName   string
	Format     string
	Dialect    datatypes.JSON
	SizeBytes  int64
	RowsTotal  int64
	Chunks     int
	Mapping    datatypes.JSON
	Status     string
	Phase      string
	DryRun     bool
	Run        int
	Attempt    int
	Error      string
	Result     datatypes.JSON
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

func (jobRow) TableName() string { return "import_jobs" }

type chunkRow struct {
	JobID      uuid.UUID
	Seq        int
	TenantID   uuid.UUID
	FirstLine  int64
	RowCount   int
	Data       []byte
	ScannedRun int
	AppliedRun int
}

func (chunkRow) TableName() string { return "import_chunks" }

type mappingRow struct {
	ID        uuid.UUID
	TenantID  uuid.UUID
	Name      string
	Mapping   datatypes.JSON
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (mappingRow) TableName() string { return "import_mappings" }

// Store keeps imports: jobs, their staged chunks, per-pass keys and
// errors, and saved mappings. Use For to bind it to one tenant; every
// statement it makes then carries that tenant.
type Store struct {
	db     *gorm.DB
	sql    *sql.DB
	pg     bool
	events Events // nil: a finished import reports nothing
}

// NewStore returns a store on db.
func NewStore(db *gorm.DB) (*Store, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("imports: %w", err)
	}
	return &Store{db: db, sql: sqlDB, pg: db.Dialector.Name() == "postgres"}, nil
}

// TenantStore is a Store bound to one tenant.
type TenantStore struct {
	*Store
	tenantID uuid.UUID
}

// For binds the store to tenantID. A nil id gives a store whose reads
// match nothing and whose writes fail.
func (s *Store) For(tenantID uuid.UUID) TenantStore {
	return TenantStore{Store: s, tenantID: tenantID}
}

var errNoJob = apperr.New(apperr.NotFound, "no such import")

func (s TenantStore) q(ctx context.Context) *gorm.DB {
	if s.tenantID == uuid.Nil {
		return s.db.WithContext(ctx).Where("1 = 0")
	}
	return s.db.WithContext(ctx).Where("tenant_id = ?", s.tenantID)
}

func (s TenantStore) noTenant() error {
	if s.tenantID == uuid.Nil {
		return apperr.New(apperr.Internal, "imports: no tenant")
	}
	return nil
}

// CreateJob stores a new job in status staging.
func (s TenantStore) CreateJob(ctx context.Context, j *Job) error {
	if err := s.noTenant(); err != nil {
		return err
	}
	j.TenantID = s.tenantID
	r, err := toJobRow(j)
	if err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return apperr.Wrap(err, "create import")
		}
		if err := tx.Exec(s.createScratchSQL(scratchFile, j.ID)).Error; err != nil {
			return apperr.Wrap(err, "create import file")
		}
		return nil
	})
}

// AddChunk stores one staged chunk of a job that is still staging: its
// place in import_chunks, its bytes in the job's file table.
func (s TenantStore) AddChunk(ctx context.Context, jobID uuid.UUID, c Chunk) error {
	if err := s.noTenant(); err != nil {
		return err
	}
	r := chunkRow{JobID: jobID, Seq: c.Seq, TenantID: s.tenantID, FirstLine: c.FirstLine, RowCount: c.Rows, Data: []byte{}}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.pg {
			// Like a chunk step's (asyncCommit): FinishStaging commits
			// synchronously, which flushes every chunk staged before it, and
			// a job PostgreSQL lost the end of stays staging, which no step
			// ever starts.
			if err := tx.Exec("SET LOCAL synchronous_commit = off").Error; err != nil {
				return apperr.Wrap(err, "stage chunk")
			}
		}
		var n int64
		if err := tx.Model(&jobRow{}).Where("id = ? AND tenant_id = ? AND status = ?", jobID, s.tenantID, StatusStaging).Count(&n).Error; err != nil {
			return apperr.Wrap(err, "stage chunk")
		}
		if n == 0 {
			return errNoJob
		}
		if err := tx.Create(&r).Error; err != nil {
			return apperr.Wrap(err, "stage chunk")
		}
		if err := tx.Exec("INSERT INTO "+scratchName(scratchFile, jobID)+" (seq, data) VALUES (?, ?)", c.Seq, c.Data).Error; err != nil {
			return apperr.Wrap(err, "stage chunk")
		}
		return nil
	})
}

// FinishStaging records what staging learnt and makes the job ready.
func (s TenantStore) FinishStaging(ctx context.Context, jobID uuid.UUID, d Dialect, st SplitStats) error {
	b, _ := json.Marshal(d)
	return s.updateJob(ctx, jobID, []Status{StatusStaging}, map[string]any{
		"dialect": datatypes.JSON(b), "format": string(d.Format), "size_bytes": st.Bytes,
		"rows_total": st.Rows, "chunks": st.Chunks, "status": string(StatusReady),
	})
}

// FailStaging marks a job whose file could not be read, and drops what
// was staged of it.
func (s TenantStore) FailStaging(ctx context.Context, jobID uuid.UUID, reason string) error {
	if err := s.updateJob(ctx, jobID, []Status{StatusStaging}, map[string]any{"status": string(StatusFailed), "error": reason}); err != nil {
		return err
	}
	if err := s.q(ctx).Where("job_id = ?", jobID).Delete(&chunkRow{}).Error; err != nil {
		return apperr.Wrap(err, "drop staged chunks")
	}
	return s.dropScratch(ctx, s.sql, jobID, true)
}

// updateJob sets cols on the job when its status is one of from; an empty
// from allows any status. Neither a missing job nor a job in another
// status is changed: both are a NotFound or Conflict error.
func (s TenantStore) updateJob(ctx context.Context, jobID uuid.UUID, from []Status, cols map[string]any) error {
	cols["updated_at"] = time.Now().UTC()
	q := s.q(ctx).Model(&jobRow{}).Where("id = ?", jobID)
	if len(from) > 0 {
		q = q.Where("status IN ?", statusStrings(from))
	}
	res := q.Updates(cols)
	if res.Error != nil {
		return apperr.Wrap(res.Error, "update import")
	}
	if res.RowsAffected == 0 {
		if _, err := s.Job(ctx, jobID); err != nil {
			return err
		}
		return apperr.New(apperr.Conflict, "This import cannot do that now: its status has changed. Reload the page.")
	}
	return nil
}

func statusStrings(list []Status) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return out
}

// Job returns one job.
func (s TenantStore) Job(ctx context.Context, id uuid.UUID) (*Job, error) {
	var r jobRow
	err := s.q(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNoJob
	}
	if err != nil {
		return nil, apperr.Wrap(err, "find import")
	}
	return fromJobRow(r)
}

// Jobs lists the tenant's newest jobs first.
func (s TenantStore) Jobs(ctx context.Context, limit int) ([]*Job, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var rows []jobRow
	if err := s.q(ctx).Order("created_at DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list imports")
	}
	out := make([]*Job, 0, len(rows))
	for _, r := range rows {
		j, err := fromJobRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// Chunk returns one staged chunk.
func (s TenantStore) Chunk(ctx context.Context, jobID uuid.UUID, seq int) (Chunk, error) {
	var r chunkRow
	err := s.q(ctx).Where("job_id = ? AND seq = ?", jobID, seq).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Chunk{}, errNoJob
	}
	if err != nil {
		return Chunk{}, apperr.Wrap(err, "read chunk")
	}
	data, err := s.chunkData(ctx, s.sql, jobID, seq, r.Data)
	if err != nil {
		return Chunk{}, err
	}
	return Chunk{Seq: r.Seq, FirstLine: r.FirstLine, Rows: r.RowCount, Data: data}, nil
}

// chunkData returns a chunk's bytes: those in import_chunks (jobs staged
// before per-job files), else those in the job's file table, else none
// (the file was dropped after its run).
func (s TenantStore) chunkData(ctx context.Context, q rowQuerier, jobID uuid.UUID, seq int, legacy []byte) ([]byte, error) {
	if len(legacy) > 0 {
		return legacy, nil
	}
	ok, err := s.scratchExists(ctx, q, scratchFile, jobID)
	if err != nil || !ok {
		return nil, err
	}
	var data []byte
	err = q.QueryRowContext(ctx, s.rebind("SELECT data FROM "+scratchName(scratchFile, jobID)+" WHERE seq = ?"), seq).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Wrap(err, "read chunk")
	}
	return data, nil
}

// StartPass begins a new pass (dry run or run) of a startable job with
// mapping m, and returns the job as it now is. The errors and scratch of
// earlier passes are dropped, and the pass gets an empty scan table.
func (s TenantStore) StartPass(ctx context.Context, jobID uuid.UUID, m Mapping, dry bool, now time.Time) (*Job, error) {
	var out *Job
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ts := TenantStore{Store: &Store{db: tx, sql: s.sql, pg: s.pg}, tenantID: s.tenantID}
		j, err := ts.Job(ctx, jobID)
		if err != nil {
			return err
		}
		if !j.Startable() {
			return apperr.New(apperr.Conflict, "This import is %s: it cannot be started again.", j.Status)
		}
		b, _ := json.Marshal(m)
		run := j.Run + 1
		res := tx.Model(&jobRow{}).Where("id = ? AND tenant_id = ? AND run = ?", jobID, s.tenantID, j.Run).Updates(map[string]any{
			"mapping": datatypes.JSON(b), "status": string(StatusQueued), "phase": string(PhaseScan), "dry_run": dry,
			"run": run, "attempt": 0, "error": "", "started_at": now, "finished_at": nil, "updated_at": now,
		})
		if res.Error != nil {
			return apperr.Wrap(res.Error, "start import")
		}
		if res.RowsAffected != 1 {
			return apperr.New(apperr.Conflict, "This import was started by someone else a moment ago.")
		}
		// A real run keeps the rejected rows of the dry run it follows, so
		// the dry run's report stays downloadable beside the run's own.
		keep := 0
		if !dry && j.DryRun {
			keep = j.Run
		}
		if err := tx.Exec("DELETE FROM import_errors WHERE job_id = ? AND tenant_id = ? AND run < ? AND run <> ?", jobID, s.tenantID, run, keep).Error; err != nil {
			return apperr.Wrap(err, "clear earlier pass")
		}
		for _, q := range []string{dropScratchSQL(scratchScan, jobID), dropScratchSQL(scratchDups, jobID), s.createScratchSQL(scratchScan, jobID)} {
			if err := tx.Exec(q).Error; err != nil {
				return apperr.Wrap(err, "prepare import scratch")
			}
		}
		out, err = ts.Job(ctx, jobID)
		return err
	})
	return out, err
}

// SetStatus moves a job from one of from to status; resuming bumps the
// attempt so re-queued tasks get fresh ids.
func (s TenantStore) SetStatus(ctx context.Context, jobID uuid.UUID, from []Status, to Status, errMsg string) error {
	cols := map[string]any{"status": string(to), "error": errMsg}
	if to == StatusRunning || to == StatusQueued {
		cols["attempt"] = gorm.Expr("attempt + 1")
	}
	if to == StatusCancelled || to == StatusFailed {
		cols["finished_at"] = time.Now().UTC()
	}
	return s.updateJob(ctx, jobID, from, cols)
}

// markRunning turns a queued pass into a running one when its first task
// starts.
func (s TenantStore) markRunning(ctx context.Context, jobID uuid.UUID, run int) error {
	err := s.q(ctx).Model(&jobRow{}).Where("id = ? AND run = ? AND status = ?", jobID, run, StatusQueued).
		Updates(map[string]any{"status": string(StatusRunning), "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return apperr.Wrap(err, "mark import running")
	}
	return nil
}

// pending returns up to limit chunks the pass has not finished in phase,
// lowest first.
func (s TenantStore) pending(ctx context.Context, jobID uuid.UUID, phase Phase, run, limit int) ([]int, error) {
	col := "scanned_run"
	if phase == PhaseApply {
		col = "applied_run"
	}
	var seqs []int
	err := s.q(ctx).Model(&chunkRow{}).Where("job_id = ? AND "+col+" <> ?", jobID, run).
		Order("seq").Limit(limit).Pluck("seq", &seqs).Error
	if err != nil {
		return nil, apperr.Wrap(err, "list pending chunks")
	}
	return seqs, nil
}

// Progress sums a pass's chunks: rows scanned and applied, and the counts.
type passSums struct {
	Rows, Scanned, Applied                    int64
	Created, Updated, Skipped, Rejected       int64
	ChunksTotal, ChunksScanned, ChunksApplied int64
}

func (s TenantStore) sums(ctx context.Context, jobID uuid.UUID, run int) (passSums, error) {
	var p passSums
	row := s.q(ctx).Model(&chunkRow{}).Where("job_id = ?", jobID).Select(
		"COALESCE(SUM(row_count), 0), "+
			"COALESCE(SUM(CASE WHEN scanned_run = ? THEN row_count ELSE 0 END), 0), "+
			"COALESCE(SUM(CASE WHEN applied_run = ? THEN row_count ELSE 0 END), 0), "+
			"COALESCE(SUM(CASE WHEN applied_run = ? THEN created ELSE 0 END), 0), "+
			"COALESCE(SUM(CASE WHEN applied_run = ? THEN updated ELSE 0 END), 0), "+
			"COALESCE(SUM(CASE WHEN applied_run = ? THEN skipped ELSE 0 END), 0), "+
			"COALESCE(SUM(CASE WHEN applied_run = ? THEN rejected ELSE 0 END), 0), "+
			"COUNT(*), "+
			"COALESCE(SUM(CASE WHEN scanned_run = ? THEN 1 ELSE 0 END), 0), "+
			"COALESCE(SUM(CASE WHEN applied_run = ? THEN 1 ELSE 0 END), 0)",
		run, run, run, run, run, run, run, run).Row()
	if err := row.Scan(&p.Rows, &p.Scanned, &p.Applied, &p.Created, &p.Updated, &p.Skipped, &p.Rejected,
		&p.ChunksTotal, &p.ChunksScanned, &p.ChunksApplied); err != nil {
		return p, apperr.Wrap(err, "sum import progress")
	}
	return p, nil
}

// finish marks a pass done once every chunk is applied, storing its
// counts. It reports whether this call did it (only one caller does).
func (s TenantStore) finish(ctx context.Context, jobID uuid.UUID, run int, now time.Time) (bool, Counts, error) {
	var did bool
	var counts Counts
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ts := TenantStore{Store: &Store{db: tx, sql: s.sql, pg: s.pg, events: s.events}, tenantID: s.tenantID}
		j, err := ts.Job(ctx, jobID)
		if err != nil {
			return err
		}
		if j.Run != run || !j.Status.Active() || j.Phase != PhaseApply {
			return nil
		}
		sums, err := ts.sums(ctx, jobID, run)
		if err != nil {
			return err
		}
		if sums.ChunksApplied != sums.ChunksTotal {
			return nil
		}
		counts = Counts{Rows: sums.Rows, Created: sums.Created, Updated: sums.Updated, Skipped: sums.Skipped, Rejected: sums.Rejected}
		res := j.Result
		if j.DryRun {
			res.Dry = &counts
			res.DryPass = run
		} else {
			res.Run = &counts
		}
		b, _ := json.Marshal(res)
		upd := tx.Model(&jobRow{}).Where("id = ? AND tenant_id = ? AND run = ? AND phase = ? AND status IN ?", jobID, s.tenantID, run, PhaseApply,
			statusStrings([]Status{StatusQueued, StatusRunning})).
			Updates(map[string]any{"status": string(StatusDone), "phase": "", "result": datatypes.JSON(b), "finished_at": now, "updated_at": now})
		if upd.Error != nil {
			return apperr.Wrap(upd.Error, "finish import")
		}
		did = upd.RowsAffected == 1
		if did && !j.DryRun {
			return ts.emitCompleted(ctx, j, counts, now)
		}
		return nil
	})
	return did, counts, err
}

// keepPreview stores the file's first rows in the job's result, before a
// real run drops the staged file.
func (s TenantStore) keepPreview(ctx context.Context, jobID uuid.UUID, p Preview) error {
	if err := s.noTenant(); err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ts := TenantStore{Store: &Store{db: tx, sql: s.sql, pg: s.pg, events: s.events}, tenantID: s.tenantID}
		j, err := ts.Job(ctx, jobID)
		if err != nil {
			return err
		}
		res := j.Result
		res.Preview = &p
		b, _ := json.Marshal(res)
		if err := tx.Model(&jobRow{}).Where("id = ? AND tenant_id = ?", jobID, s.tenantID).Update("result", datatypes.JSON(b)).Error; err != nil {
			return apperr.Wrap(err, "keep import preview")
		}
		return nil
	})
}

// purge drops what a pass no longer needs: its scratch tables, and the
// staged file itself when file is set (after a real run, which is never
// started again).
func (s TenantStore) purge(ctx context.Context, jobID uuid.UUID, file bool) error {
	if err := s.noTenant(); err != nil {
		return err
	}
	if err := s.dropScratch(ctx, s.sql, jobID, file); err != nil {
		return err
	}
	if file {
		// Jobs staged before per-job files keep their bytes here.
		if _, err := s.sql.ExecContext(ctx, s.rebind("UPDATE import_chunks SET data = ? WHERE job_id = ? AND tenant_id = ? AND LENGTH(data) > 0"), []byte{}, jobID.String(), s.tenantID.String()); err != nil {
			return apperr.Wrap(err, "drop staged file")
		}
	}
	return nil
}

// ErrorRow is one line of the error report.
type ErrorRow struct {
	Line   int64
	Column string
	Reason string
	Raw    string
}

// EachError calls fn for each row the pass rejected, in line order,
// streaming them from the database.
func (s TenantStore) EachError(ctx context.Context, jobID uuid.UUID, run int, fn func(ErrorRow) error) error {
	rows, err := s.q(ctx).Table("import_errors").Select("line, col, reason, raw").
		Where("job_id = ? AND run = ?", jobID, run).Order("line").Rows()
	if err != nil {
		return apperr.Wrap(err, "read error report")
	}
	defer rows.Close()
	for rows.Next() {
		var e ErrorRow
		if err := rows.Scan(&e.Line, &e.Column, &e.Reason, &e.Raw); err != nil {
			return apperr.Wrap(err, "read error report")
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return apperr.Wrap(err, "read error report")
	}
	return nil
}

// SaveMapping stores m under name, replacing a mapping of the same name.
func (s TenantStore) SaveMapping(ctx context.Context, name string, m Mapping) error {
	if err := s.noTenant(); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 80 {
		return apperr.Field("name", "must be 1 to 80 characters")
	}
	b, _ := json.Marshal(m)
	now := time.Now().UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&mappingRow{}).Where("tenant_id = ? AND name = ?", s.tenantID, name).
			Updates(map[string]any{"mapping": datatypes.JSON(b), "updated_at": now})
		if res.Error != nil {
			return apperr.Wrap(res.Error, "save mapping")
		}
		if res.RowsAffected == 1 {
			return nil
		}
		r := mappingRow{ID: uuid.Must(uuid.NewV7()), TenantID: s.tenantID, Name: name, Mapping: b, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&r).Error; err != nil {
			return apperr.Wrap(err, "save mapping")
		}
		return nil
	})
}

// SavedMapping is a mapping kept under a name.
type SavedMapping struct {
	Name    string
	Mapping Mapping
	Updated time.Time
}

// Mappings lists the tenant's saved mappings by name.
func (s TenantStore) Mappings(ctx context.Context) ([]SavedMapping, error) {
	var rows []mappingRow
	if err := s.q(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list mappings")
	}
	out := make([]SavedMapping, 0, len(rows))
	for _, r := range rows {
		var m Mapping
		if err := json.Unmarshal(r.Mapping, &m); err != nil {
			return nil, apperr.Wrap(err, "decode mapping")
		}
		out = append(out, SavedMapping{Name: r.Name, Mapping: m, Updated: r.UpdatedAt})
	}
	return out, nil
}

// MappingByName returns one saved mapping.
func (s TenantStore) MappingByName(ctx context.Context, name string) (Mapping, error) {
	var r mappingRow
	err := s.q(ctx).Where("name = ?", strings.TrimSpace(name)).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Mapping{}, apperr.Field("mapping", "no saved mapping is called %q", name)
	}
	if err != nil {
		return Mapping{}, apperr.Wrap(err, "find mapping")
	}
	var m Mapping
	if err := json.Unmarshal(r.Mapping, &m); err != nil {
		return Mapping{}, apperr.Wrap(err, "decode mapping")
	}
	return m, nil
}

// DeleteMapping removes a saved mapping.
func (s TenantStore) DeleteMapping(ctx context.Context, name string) error {
	res := s.q(ctx).Where("name = ?", name).Delete(&mappingRow{})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "delete mapping")
	}
	if res.RowsAffected == 0 {
		return apperr.New(apperr.NotFound, "no such mapping")
	}
	return nil
}

func toJobRow(j *Job) (jobRow, error) {
	d, err := json.Marshal(j.Dialect)
	if err != nil {
		return jobRow{}, apperr.Wrap(err, "encode dialect")
	}
	m, err := json.Marshal(j.Mapping)
	if err != nil {
		return jobRow{}, apperr.Wrap(err, "encode mapping")
	}
	res, err := json.Marshal(j.Result)
	if err != nil {
		return jobRow{}, apperr.Wrap(err, "encode result")
	}
	return jobRow{
		ID: j.ID, TenantID: j.TenantID, FileName: j.FileName, Format: string(j.Dialect.Format), Dialect: d,
		SizeBytes: j.SizeBytes, RowsTotal: j.Rows, Chunks: j.Chunks, Mapping: m, Status: string(j.Status),
		Phase: string(j.Phase), DryRun: j.DryRun, Run: j.Run, Attempt: j.Attempt, Error: j.Error, Result: res,
		CreatedBy: j.CreatedBy, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt,
	}, nil
}

func fromJobRow(r jobRow) (*Job, error) {
	j := &Job{
		ID: r.ID, TenantID: r.TenantID, FileName: r.FileName, SizeBytes: r.SizeBytes, Rows: r.RowsTotal, Chunks: r.Chunks,
		Status: Status(r.Status), Phase: Phase(r.Phase), DryRun: r.DryRun, Run: r.Run, Attempt: r.Attempt, Error: r.Error,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
	}
	for _, part := range []struct {
		raw  datatypes.JSON
		into any
	}{{r.Dialect, &j.Dialect}, {r.Mapping, &j.Mapping}, {r.Result, &j.Result}} {
		if len(part.raw) == 0 {
			continue
		}
		if err := json.Unmarshal(part.raw, part.into); err != nil {
			return nil, apperr.Wrap(err, "decode import")
		}
	}
	return j, nil
}

// rebind turns ? placeholders into PostgreSQL's $1, $2, ….
func (s *Store) rebind(q string) string {
	if !s.pg {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
