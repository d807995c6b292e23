package imports

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/apperr"
)

// Scratch space. Each job keeps what it needs only while it runs in
// tables of its own, named after the job, so that releasing them is a
// DROP TABLE, which frees the space at once. Deleting rows from shared
// tables would leave dead rows that only VACUUM reclaims, and autovacuum
// may be off.
//
//   - file: the staged file's chunks (seq, data). Durable: it is the only
//     copy of the upload. Dropped after a real run finishes, or when the
//     job can no longer be started.
//   - scan: every row's email for the pass (line, email), written by the
//     scan steps. Unlogged on PostgreSQL: no WAL, and a crash that empties
//     it is noticed (import_chunks.scan_keys) and the pass scans again.
//     Dropped by the dedup step once it has found the duplicates.
//   - dups: the emails the file holds more than once, with their first
//     line and count, read by the apply steps. Dropped when the pass ends.
//
// A job that failed or was cancelled drops scan and dups; resuming one
// builds them again (recoverScratch). SweepScratch drops whatever a crash
// left behind: scratch of jobs that are over or gone.
const (
	scratchFile = "file"
	scratchScan = "scan"
	scratchDups = "dups"
)

// scratchKinds are the scratch tables, in the order they are dropped.
var scratchKinds = []string{scratchScan, scratchDups, scratchFile}

// scratchName is the table of one kind of a job's scratch: the job id in
// hex, so the name is a safe identifier without quoting.
func scratchName(kind string, jobID uuid.UUID) string {
	return "import_" + kind + "_" + strings.ReplaceAll(jobID.String(), "-", "")
}

// parseScratchName is scratchName's inverse; ok is false for any other
// table.
func parseScratchName(table string) (kind string, jobID uuid.UUID, ok bool) {
	rest, found := strings.CutPrefix(table, "import_")
	if !found || len(rest) != 5+32 || rest[4] != '_' {
		return "", uuid.Nil, false
	}
	kind = rest[:4]
	if kind != scratchFile && kind != scratchScan && kind != scratchDups {
		return "", uuid.Nil, false
	}
	id, err := uuid.Parse(rest[5:])
	if err != nil || scratchName(kind, id) != table {
		return "", uuid.Nil, false
	}
	return kind, id, true
}

// createScratchSQL is the statement that creates one kind of a job's
// scratch table.
func (s *Store) createScratchSQL(kind string, jobID uuid.UUID) string {
	name := scratchName(kind, jobID)
	switch kind {
	case scratchFile:
		blob := "blob"
		if s.pg {
			blob = "bytea"
		}
		return "CREATE TABLE " + name + " (seq integer PRIMARY KEY, data " + blob + " NOT NULL)"
	case scratchScan:
		// No index: it is only ever read whole, once, by the dedup step.
		unlogged := ""
		if s.pg {
			unlogged = "UNLOGGED "
		}
		return "CREATE " + unlogged + "TABLE " + name + " (line bigint NOT NULL, email text NOT NULL)"
	default:
		return "CREATE TABLE " + name + " (email text PRIMARY KEY, first_line bigint NOT NULL, n integer NOT NULL)"
	}
}

func dropScratchSQL(kind string, jobID uuid.UUID) string {
	return "DROP TABLE IF EXISTS " + scratchName(kind, jobID)
}

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// scratchExists reports whether a job's scratch table of kind exists.
func (s *Store) scratchExists(ctx context.Context, q rowQuerier, kind string, jobID uuid.UUID) (bool, error) {
	var n int
	var err error
	if s.pg {
		err = q.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1", scratchName(kind, jobID)).Scan(&n)
	} else {
		err = q.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", scratchName(kind, jobID)).Scan(&n)
	}
	if err != nil {
		return false, apperr.Wrap(err, "look for import scratch")
	}
	return n > 0, nil
}

// dropScratch drops the job's scan and dups tables, and its file too when
// file is set.
func (s *Store) dropScratch(ctx context.Context, q rowQuerier, jobID uuid.UUID, file bool) error {
	for _, kind := range scratchKinds {
		if kind == scratchFile && !file {
			continue
		}
		if _, err := q.ExecContext(ctx, dropScratchSQL(kind, jobID)); err != nil {
			return apperr.Wrap(err, "drop import scratch")
		}
	}
	return nil
}

// resetScan makes a pass scan every chunk again into a fresh scan table,
// under a new attempt so the scan tasks get fresh ids.
func (c chunkTx) resetScan(jobID uuid.UUID) error {
	for _, q := range []string{dropScratchSQL(scratchScan, jobID), dropScratchSQL(scratchDups, jobID), c.s.createScratchSQL(scratchScan, jobID)} {
		if _, err := c.tx.ExecContext(c.ctx, q); err != nil {
			return apperr.Wrap(err, "reset import scan")
		}
	}
	if _, err := c.exec("UPDATE import_chunks SET scanned_run = 0, scan_keys = 0 WHERE job_id = ? AND tenant_id = ?", jobID.String(), c.s.tenantID.String()); err != nil {
		return apperr.Wrap(err, "reset import scan")
	}
	_, err := c.exec("UPDATE import_jobs SET phase = ?, attempt = attempt + 1, updated_at = ? WHERE id = ? AND tenant_id = ?",
		string(PhaseScan), time.Now().UTC(), jobID.String(), c.s.tenantID.String())
	if err != nil {
		return apperr.Wrap(err, "reset import scan")
	}
	return nil
}

// recoverScratch gives a paused or failed pass the scratch its phase
// needs before it resumes: a pass whose scan or dups table is gone (it
// failed, a sweep took it, or it predates per-job scratch) scans again.
// Chunks already applied stay applied.
func (s TenantStore) recoverScratch(ctx context.Context, jobID uuid.UUID) error {
	if err := s.noTenant(); err != nil {
		return err
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return apperr.Wrap(err, "begin import recovery")
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	c := chunkTx{s: s, tx: tx, ctx: ctx}
	lock := ""
	if s.pg {
		lock = " FOR UPDATE"
	}
	var phase string
	err = tx.QueryRowContext(ctx, s.rebind("SELECT phase FROM import_jobs WHERE id = ? AND tenant_id = ?"+lock), jobID.String(), s.tenantID.String()).Scan(&phase)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoJob
	}
	if err != nil {
		return apperr.Wrap(err, "lock import")
	}
	need := scratchScan
	if Phase(phase) == PhaseApply {
		need = scratchDups
	} else if Phase(phase) != PhaseScan {
		return nil
	}
	ok, err := s.scratchExists(ctx, tx, need, jobID)
	if err != nil || ok {
		return err
	}
	if err := c.resetScan(jobID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return apperr.Wrap(err, "commit import recovery")
	}
	return nil
}

// sweepGrace spares the scratch of a job that changed a moment ago: a
// resume rebuilds its scratch just before the job turns active again.
const sweepGrace = 10 * time.Minute

// SweepScratch drops scratch tables that nothing will use again, in every
// tenant: those of deleted jobs (a tenant's deletion cascades to its jobs,
// not to their tables), the scan and dups of jobs that are over, and the
// file of a real run that finished or was cancelled. It is what cleans up
// after a worker that died before its job could. It returns how many
// tables it dropped.
func (s *Store) SweepScratch(ctx context.Context) (int, error) {
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'import\\_%' ESCAPE '\\'"
	if s.pg {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'import\_%'`
	}
	rows, err := s.sql.QueryContext(ctx, q)
	if err != nil {
		return 0, apperr.Wrap(err, "list import scratch")
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return 0, apperr.Wrap(err, "list import scratch")
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, apperr.Wrap(err, "list import scratch")
	}
	dropped := 0
	cutoff := time.Now().UTC().Add(-sweepGrace)
	for _, table := range tables {
		kind, jobID, ok := parseScratchName(table)
		if !ok {
			continue
		}
		var status string
		var dry, settled bool
		err := s.sql.QueryRowContext(ctx, s.rebind("SELECT status, dry_run, CASE WHEN updated_at < ? THEN 1 ELSE 0 END FROM import_jobs WHERE id = ?"),
			cutoff, jobID.String()).Scan(&status, &dry, &settled)
		gone := errors.Is(err, sql.ErrNoRows)
		if err != nil && !gone {
			return dropped, apperr.Wrap(err, "read import for sweep")
		}
		if !gone && !(settled && sweepable(kind, Status(status), dry)) {
			continue
		}
		if _, err := s.sql.ExecContext(ctx, dropScratchSQL(kind, jobID)); err != nil {
			return dropped, apperr.Wrap(err, "drop import scratch")
		}
		dropped++
	}
	return dropped, nil
}

// sweepable says whether a scratch table of kind belongs to a job that
// will not use it again.
func sweepable(kind string, st Status, dry bool) bool {
	if kind == scratchFile {
		return !dry && (st == StatusDone || st == StatusCancelled)
	}
	return st == StatusDone || st == StatusCancelled || st == StatusFailed || st == StatusReady
}

// SweepExpired drops the scratch tables no import will use again (see
// Store.SweepScratch): the worker's periodic sweep.
func (s *Service) SweepExpired(ctx context.Context) error {
	n, err := s.store.SweepScratch(ctx)
	if n > 0 || err != nil {
		s.log.InfoContext(ctx, "import_scratch_sweep", "tables_dropped", n, "error", err)
	}
	return err
}
