package imports

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/apperr"
)

// The hot path of an import runs on database/sql with one statement per
// chunk and table where it can: PostgreSQL gets whole arrays through
// unnest, SQLite gets batches of multi-row VALUES. Every statement names
// the tenant.

// chunkTx is one chunk's transaction.
type chunkTx struct {
	s   TenantStore
	tx  *sql.Tx
	ctx context.Context
}

func (c chunkTx) exec(q string, args ...any) (sql.Result, error) {
	return c.tx.ExecContext(c.ctx, c.s.rebind(q), args...)
}

func (c chunkTx) query(q string, args ...any) (*sql.Rows, error) {
	return c.tx.QueryContext(c.ctx, c.s.rebind(q), args...)
}

// withChunk runs fn in a transaction holding chunk seq of the job, unless
// col (scanned_run or applied_run) already says pass run finished it.
// It reports whether fn ran.
func (s TenantStore) withChunk(ctx context.Context, jobID uuid.UUID, seq, run int, col string, fn func(c chunkTx, ch Chunk) error) (bool, error) {
	if err := s.noTenant(); err != nil {
		return false, err
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return false, apperr.Wrap(err, "begin chunk")
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	c := chunkTx{s: s, tx: tx, ctx: ctx}
	lock := ""
	if s.pg {
		lock = " FOR UPDATE"
		if err := asyncCommit(ctx, tx); err != nil {
			return false, err
		}
	}
	var ch Chunk
	var done int
	err = tx.QueryRowContext(ctx, s.rebind("SELECT first_line, row_count, data, "+col+" FROM import_chunks WHERE job_id = ? AND tenant_id = ? AND seq = ?"+lock),
		jobID.String(), s.tenantID.String(), seq).Scan(&ch.FirstLine, &ch.Rows, &ch.Data, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return false, errNoJob
	}
	if err != nil {
		return false, apperr.Wrap(err, "lock chunk")
	}
	if done == run {
		return false, nil
	}
	ch.Seq = seq
	if ch.Data, err = s.chunkData(ctx, tx, jobID, seq, ch.Data); err != nil {
		return false, err
	}
	if err := fn(c, ch); err != nil {
		return false, err
	}
	if _, err := c.exec("UPDATE import_chunks SET "+col+" = ? WHERE job_id = ? AND tenant_id = ? AND seq = ?", run, jobID.String(), s.tenantID.String(), seq); err != nil {
		return false, apperr.Wrap(err, "mark chunk")
	}
	if err := tx.Commit(); err != nil {
		return false, apperr.Wrap(err, "commit chunk")
	}
	return true, nil
}

// asyncCommit lets PostgreSQL acknowledge the commit of tx before its WAL
// is on disk (synchronous_commit = off, for this transaction only). The
// database stays consistent whatever happens; what a crash of PostgreSQL
// (not of a worker: the server writes the WAL out within a fraction of a
// second on its own) can cost is the last few such commits, as if they
// had never happened. Every transaction that uses it is a chunk step
// whose "done" mark is written in the same transaction as its work, so a
// lost commit loses the mark with the work, and the chunk is simply
// found undone and done again: asynq retries the steps that failed
// during the outage, and each pumps the lowest undone chunks, these
// among them. The steps that end a phase or a job (FinishStaging,
// FindDuplicates, finish) commit synchronously, and a synchronous commit
// flushes every earlier commit with it, so nothing is ever reported done
// (counts, the import.completed event) on the strength of a commit that
// could still be lost.
func asyncCommit(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		return apperr.Wrap(err, "begin chunk")
	}
	return nil
}

// ScanChunk records the email of each row of one chunk for pass run in
// the job's scan table, in one transaction; emails reads them from the
// chunk. A chunk the pass has already scanned is left alone, so a retried
// task changes nothing.
func (s TenantStore) ScanChunk(ctx context.Context, jobID uuid.UUID, run, seq int, emails func(Chunk) ([]int64, []string, error)) (bool, error) {
	return s.withChunk(ctx, jobID, seq, run, "scanned_run", func(c chunkTx, ch Chunk) error {
		lines, addrs, err := emails(ch)
		if err != nil {
			return err
		}
		if err := c.insertKeys(jobID, lines, addrs); err != nil {
			return err
		}
		_, err = c.exec("UPDATE import_chunks SET scan_keys = ? WHERE job_id = ? AND tenant_id = ? AND seq = ?", len(lines), jobID.String(), c.s.tenantID.String(), seq)
		if err != nil {
			return apperr.Wrap(err, "count chunk keys")
		}
		return nil
	})
}

// insertKeys writes a chunk's emails to the job's scan table. The table
// is the job's alone, so its rows carry no job or tenant.
func (c chunkTx) insertKeys(jobID uuid.UUID, lines []int64, emails []string) error {
	if len(lines) == 0 {
		return nil
	}
	table := scratchName(scratchScan, jobID)
	if c.s.pg {
		_, err := c.exec("INSERT INTO "+table+" (line, email) SELECT * FROM unnest(?::bigint[], ?::text[])", lines, emails)
		if err != nil {
			return apperr.Wrap(err, "record emails")
		}
		return nil
	}
	rows := make([][]any, len(lines))
	for i := range lines {
		rows[i] = []any{lines[i], emails[i]}
	}
	_, err := c.insertValues(table, []string{"line", "email"}, rows, "")
	return err
}

// insertValues inserts rows with multi-row VALUES statements (SQLite) and
// returns how many went in.
func (c chunkTx) insertValues(table string, cols []string, rows [][]any, suffix string) (int, error) {
	per := 30000 / len(cols)
	if per > 500 {
		per = 500
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	total := 0
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, rows[i]...)
		}
		b.WriteString(suffix)
		res, err := c.tx.ExecContext(c.ctx, b.String(), args...)
		if err != nil {
			return total, apperr.Wrap(err, "insert %s", table)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// FindDuplicates marks, for pass run, every line whose email appears on
// more than one line of the file, with the first such line and the count,
// and moves the pass on to the apply phase. It does nothing unless the
// pass is scanning and has scanned every chunk; it reports whether the
// pass is (now) in the apply phase.
func (s TenantStore) FindDuplicates(ctx context.Context, jobID uuid.UUID, run int) (bool, error) {
	if err := s.noTenant(); err != nil {
		return false, err
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return false, apperr.Wrap(err, "begin dedup")
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	c := chunkTx{s: s, tx: tx, ctx: ctx}
	lock := ""
	if s.pg {
		lock = " FOR UPDATE"
	}
	var phase string
	var jobRun int
	err = tx.QueryRowContext(ctx, s.rebind("SELECT phase, run FROM import_jobs WHERE id = ? AND tenant_id = ?"+lock), jobID.String(), s.tenantID.String()).Scan(&phase, &jobRun)
	if errors.Is(err, sql.ErrNoRows) {
		return false, errNoJob
	}
	if err != nil {
		return false, apperr.Wrap(err, "lock import")
	}
	if jobRun != run {
		return false, nil
	}
	if Phase(phase) == PhaseApply {
		return true, nil
	}
	var left int
	if err := tx.QueryRowContext(ctx, s.rebind("SELECT COUNT(*) FROM import_chunks WHERE job_id = ? AND tenant_id = ? AND scanned_run <> ?"), jobID.String(), s.tenantID.String(), run).Scan(&left); err != nil {
		return false, apperr.Wrap(err, "count chunks")
	}
	if Phase(phase) != PhaseScan || left > 0 {
		return false, nil
	}
	// The scan table is unlogged: after a PostgreSQL crash it is empty
	// (or missing, after an upgrade) while the chunks say scanned. Then
	// the pass scans again rather than miss a duplicate.
	var want, got int64
	if err := tx.QueryRowContext(ctx, s.rebind("SELECT COALESCE(SUM(scan_keys), 0) FROM import_chunks WHERE job_id = ? AND tenant_id = ?"), jobID.String(), s.tenantID.String()).Scan(&want); err != nil {
		return false, apperr.Wrap(err, "count keys")
	}
	scan, dups := scratchName(scratchScan, jobID), scratchName(scratchDups, jobID)
	ok, err := s.scratchExists(ctx, tx, scratchScan, jobID)
	if err != nil {
		return false, err
	}
	got = -1
	if ok {
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+scan).Scan(&got); err != nil {
			return false, apperr.Wrap(err, "count keys")
		}
	}
	if got != want {
		if err := c.resetScan(jobID); err != nil {
			return false, err
		}
		if err := tx.Commit(); err != nil {
			return false, apperr.Wrap(err, "commit dedup")
		}
		return false, nil
	}
	if s.pg {
		// Room for one hash of the pass's emails, for this statement only.
		if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '64MB'"); err != nil {
			return false, apperr.Wrap(err, "find duplicates")
		}
	}
	// One hash aggregate over the pass's emails; the few that repeat are
	// kept, keyed by email, for the apply steps. The scan table has served.
	for _, q := range []string{
		dropScratchSQL(scratchDups, jobID),
		s.createScratchSQL(scratchDups, jobID),
		"INSERT INTO " + dups + " (email, first_line, n) SELECT email, MIN(line), COUNT(*) FROM " + scan + " GROUP BY email HAVING COUNT(*) > 1",
		dropScratchSQL(scratchScan, jobID),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return false, apperr.Wrap(err, "find duplicates")
		}
	}
	if _, err := c.exec("UPDATE import_jobs SET phase = ?, updated_at = ? WHERE id = ? AND tenant_id = ?", string(PhaseApply), time.Now().UTC(), jobID.String(), s.tenantID.String()); err != nil {
		return false, apperr.Wrap(err, "move to apply")
	}
	if err := tx.Commit(); err != nil {
		return false, apperr.Wrap(err, "commit dedup")
	}
	return true, nil
}

// duplicate is an email the file holds on more than one line.
type duplicate struct {
	first int64
	count int
}

// duplicates returns which of emails the file holds more than once.
func (c chunkTx) duplicates(jobID uuid.UUID, emails []string) (map[string]duplicate, error) {
	out := map[string]duplicate{}
	table := scratchName(scratchDups, jobID)
	// Most files repeat no email: then one look at the empty table saves
	// sending the chunk's emails.
	var some bool
	if err := c.tx.QueryRowContext(c.ctx, "SELECT EXISTS (SELECT 1 FROM "+table+")").Scan(&some); err != nil {
		return nil, apperr.Wrap(err, "read duplicates")
	}
	if !some {
		return out, nil
	}
	scan := func(rows *sql.Rows, err error) error {
		if err != nil {
			return apperr.Wrap(err, "read duplicates")
		}
		defer rows.Close()
		for rows.Next() {
			var email string
			var d duplicate
			if err := rows.Scan(&email, &d.first, &d.count); err != nil {
				return apperr.Wrap(err, "read duplicates")
			}
			out[email] = d
		}
		return rows.Err()
	}
	if c.s.pg {
		return out, scan(c.query("SELECT email, first_line, n FROM "+table+" WHERE email = ANY(?::text[])", emails))
	}
	for start := 0; start < len(emails); start += 500 {
		part := emails[start:min(start+500, len(emails))]
		args := make([]any, len(part))
		for i, e := range part {
			args[i] = e
		}
		if err := scan(c.tx.QueryContext(c.ctx, "SELECT email, first_line, n FROM "+table+" WHERE email IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+")", args...)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// existing is a customer already in the tenant, as an import sees it.
type existing struct {
	id       string
	verified bool
	hash     string
	profile  []byte
}

func (c chunkTx) existing(emails []string, lock bool) (map[string]existing, error) {
	out := make(map[string]existing, len(emails))
	scan := func(rows *sql.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var e existing
			var email string
			if err := rows.Scan(&e.id, &email, &e.verified, &e.hash, &e.profile); err != nil {
				return apperr.Wrap(err, "read customers")
			}
			out[email] = e
		}
		return rows.Err()
	}
	if c.s.pg {
		q := `SELECT id::text, email, email_verified, COALESCE(password_hash, ''), profile::text FROM customers
			WHERE tenant_id = ? AND email = ANY(?::text[]) ORDER BY email`
		if lock {
			q += " FOR UPDATE"
		}
		rows, err := c.query(q, c.s.tenantID.String(), emails)
		if err != nil {
			return nil, apperr.Wrap(err, "read customers")
		}
		return out, scan(rows)
	}
	for start := 0; start < len(emails); start += 500 {
		part := emails[start:min(start+500, len(emails))]
		args := make([]any, 0, len(part)+1)
		args = append(args, c.s.tenantID.String())
		for _, e := range part {
			args = append(args, e)
		}
		rows, err := c.tx.QueryContext(c.ctx, `SELECT id, email, email_verified, COALESCE(password_hash, ''), profile FROM customers
			WHERE tenant_id = ? AND email IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`)`, args...)
		if err != nil {
			return nil, apperr.Wrap(err, "read customers")
		}
		if err := scan(rows); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newCustomer is a row to insert.
type newCustomer struct {
	id       uuid.UUID
	email    string
	verified bool
	hash     string
	profile  []byte
	created  time.Time
}

// changedCustomer is an existing customer's new state.
type changedCustomer struct {
	id       string
	verified bool
	hash     string
	profile  []byte
}

// insertCustomers inserts rows, skipping any email that appeared since it
// was looked up (a customer signing up during the import), and returns
// how many went in.
func (c chunkTx) insertCustomers(rows []newCustomer, now time.Time) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	if c.s.pg {
		// Ids go as binary uuids, not text for the server to parse.
		ids := make([][16]byte, len(rows))
		emails := make([]string, len(rows))
		verified := make([]bool, len(rows))
		hashes := make([]string, len(rows))
		profiles := make([]string, len(rows))
		created := make([]time.Time, len(rows))
		for i, r := range rows {
			ids[i], emails[i], verified[i], hashes[i], profiles[i], created[i] = r.id, r.email, r.verified, r.hash, string(r.profile), r.created
		}
		res, err := c.exec(`INSERT INTO customers (id, tenant_id, email, email_verified, password_hash, status, profile, created_at, updated_at)
			SELECT n.id, ?, n.email, n.verified, NULLIF(n.hash, ''), 'active', n.profile::jsonb, n.created, ?
			FROM unnest(?::uuid[], ?::text[], ?::boolean[], ?::text[], ?::text[], ?::timestamptz[]) AS n(id, email, verified, hash, profile, created)
			ON CONFLICT (tenant_id, email) DO NOTHING`,
			c.s.tenantID.String(), now, ids, emails, verified, hashes, profiles, created)
		if err != nil {
			return 0, apperr.Wrap(err, "insert customers")
		}
		n, _ := res.RowsAffected()
		return int(n), nil
	}
	vals := make([][]any, len(rows))
	for i, r := range rows {
		var hash any
		if r.hash != "" {
			hash = r.hash
		}
		vals[i] = []any{r.id.String(), c.s.tenantID.String(), r.email, r.verified, hash, "active", string(r.profile), r.created, now}
	}
	return c.insertValues("customers", []string{"id", "tenant_id", "email", "email_verified", "password_hash", "status", "profile", "created_at", "updated_at"},
		vals, " ON CONFLICT (tenant_id, email) DO NOTHING")
}

func (c chunkTx) updateCustomers(rows []changedCustomer, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	if c.s.pg {
		ids := make([]string, len(rows))
		verified := make([]bool, len(rows))
		hashes := make([]string, len(rows))
		profiles := make([]string, len(rows))
		for i, r := range rows {
			ids[i], verified[i], hashes[i], profiles[i] = r.id, r.verified, r.hash, string(r.profile)
		}
		_, err := c.exec(`UPDATE customers SET email_verified = u.verified, password_hash = NULLIF(u.hash, ''), profile = u.profile::jsonb, updated_at = ?
			FROM unnest(?::uuid[], ?::boolean[], ?::text[], ?::text[]) AS u(id, verified, hash, profile)
			WHERE customers.tenant_id = ? AND customers.id = u.id`,
			now, ids, verified, hashes, profiles, c.s.tenantID.String())
		if err != nil {
			return apperr.Wrap(err, "update customers")
		}
		return nil
	}
	stmt, err := c.tx.PrepareContext(c.ctx, "UPDATE customers SET email_verified = ?, password_hash = ?, profile = ?, updated_at = ? WHERE tenant_id = ? AND id = ?")
	if err != nil {
		return apperr.Wrap(err, "update customers")
	}
	defer stmt.Close()
	for _, r := range rows {
		var hash any
		if r.hash != "" {
			hash = r.hash
		}
		if _, err := stmt.ExecContext(c.ctx, r.verified, hash, string(r.profile), now, c.s.tenantID.String(), r.id); err != nil {
			return apperr.Wrap(err, "update customer")
		}
	}
	return nil
}

func (c chunkTx) insertErrors(jobID uuid.UUID, run int, rej []Rejected) error {
	if len(rej) == 0 {
		return nil
	}
	if c.s.pg {
		lines := make([]int64, len(rej))
		cols := make([]string, len(rej))
		reasons := make([]string, len(rej))
		raws := make([]string, len(rej))
		for i, r := range rej {
			lines[i], cols[i], reasons[i], raws[i] = r.Line, r.Column, r.Reason, r.Raw
		}
		_, err := c.exec(`INSERT INTO import_errors (job_id, run, line, tenant_id, col, reason, raw)
			SELECT ?, ?, e.line, ?, e.col, e.reason, e.raw FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) AS e(line, col, reason, raw)`,
			jobID.String(), run, c.s.tenantID.String(), lines, cols, reasons, raws)
		if err != nil {
			return apperr.Wrap(err, "record rejected rows")
		}
		return nil
	}
	rows := make([][]any, len(rej))
	for i, r := range rej {
		rows[i] = []any{jobID.String(), run, r.Line, c.s.tenantID.String(), r.Column, r.Reason, r.Raw}
	}
	_, err := c.insertValues("import_errors", []string{"job_id", "run", "line", "tenant_id", "col", "reason", "raw"}, rows, "")
	return err
}

// ChunkCounts are what applying one chunk did.
type ChunkCounts struct {
	Created, Updated, Skipped, Rejected int
}

// ApplyInput is one chunk, read and normalised by the caller.
type ApplyInput struct {
	Records  []Record
	Rejected []Rejected
	// RawOf returns the original row of a line, for the error report of
	// rows rejected here (duplicates).
	RawOf func(line int64) string
}

// ApplyChunk applies one chunk of pass run in one transaction: rows whose
// email the file holds more than once are rejected, the rest are created,
// updated or skipped according to mode, and the chunk is marked done with
// its counts. In a dry run nothing is written to customers. A chunk the
// pass has already applied is left alone, so a retried task changes
// nothing. read turns the chunk into records and rejected rows.
func (s TenantStore) ApplyChunk(ctx context.Context, jobID uuid.UUID, run, seq int, mode Mode, dry bool, now time.Time,
	read func(Chunk) (ApplyInput, error)) (ChunkCounts, bool, error) {
	var counts ChunkCounts
	ran, err := s.withChunk(ctx, jobID, seq, run, "applied_run", func(c chunkTx, ch Chunk) error {
		in, err := read(ch)
		if err != nil {
			return err
		}
		all := make([]string, len(in.Records))
		for i, r := range in.Records {
			all[i] = r.Email
		}
		dups, err := c.duplicates(jobID, all)
		if err != nil {
			return err
		}
		rejected := in.Rejected
		recs := make([]Record, 0, len(in.Records))
		for _, r := range in.Records {
			if d, ok := dups[r.Email]; ok {
				rejected = append(rejected, duplicateRejection(r, d, in.RawOf))
				continue
			}
			recs = append(recs, r)
		}
		// One lock order for every writer: by email.
		sort.Slice(recs, func(i, j int) bool { return recs[i].Email < recs[j].Email })
		counts, err = c.apply(recs, mode, dry, now)
		if err != nil {
			return err
		}
		counts.Rejected = len(rejected)
		if err := c.insertErrors(jobID, run, rejected); err != nil {
			return err
		}
		if counts.Created+counts.Updated+counts.Skipped+counts.Rejected != ch.Rows {
			return apperr.New(apperr.Internal, "imports: chunk %d: %d rows but %d created, %d updated, %d skipped, %d rejected",
				seq, ch.Rows, counts.Created, counts.Updated, counts.Skipped, counts.Rejected)
		}
		_, err = c.exec("UPDATE import_chunks SET created = ?, updated = ?, skipped = ?, rejected = ? WHERE job_id = ? AND tenant_id = ? AND seq = ?",
			counts.Created, counts.Updated, counts.Skipped, counts.Rejected, jobID.String(), s.tenantID.String(), seq)
		if err != nil {
			return apperr.Wrap(err, "count chunk")
		}
		return nil
	})
	return counts, ran, err
}

// apply creates, updates or skips recs (sorted by email, none of them a
// duplicate) according to mode, or in a dry run only counts what it would
// do, and returns the counts.
//
// A real run in create or upsert mode inserts first: one INSERT … ON
// CONFLICT DO NOTHING of every record, so a chunk of new customers (the
// bulk of any first import) costs one statement and no lookup. Only when
// some rows were already there does it read those, under lock, and merge
// them (upsert) or count them skipped (create). A dry run and update mode
// read first and write only what classify decides.
func (c chunkTx) apply(recs []Record, mode Mode, dry bool, now time.Time) (ChunkCounts, error) {
	var counts ChunkCounts
	emails := make([]string, len(recs))
	for i, r := range recs {
		emails[i] = r.Email
	}
	if dry || mode == ModeUpdate {
		have, err := c.existing(emails, !dry)
		if err != nil {
			return counts, err
		}
		plan, err := classify(recs, have, mode, now)
		if err != nil {
			return counts, err
		}
		counts = ChunkCounts{Created: len(plan.insert), Updated: len(plan.update), Skipped: plan.skipped}
		if dry {
			return counts, nil
		}
		return counts, c.updateCustomers(plan.update, now)
	}
	plan, err := classify(recs, nil, mode, now)
	if err != nil {
		return counts, err
	}
	n, err := c.insertCustomers(plan.insert, now)
	if err != nil {
		return counts, err
	}
	counts.Created = n
	if n == len(recs) {
		return counts, nil
	}
	if mode == ModeCreate {
		counts.Skipped = len(recs) - n
		return counts, nil
	}
	// Upsert: the rows not inserted were there already (or arrived since
	// the insert looked). Read them all, ours included, and merge the
	// others as update mode would.
	have, err := c.existing(emails, true)
	if err != nil {
		return counts, err
	}
	ours := make(map[string]bool, n)
	for _, r := range plan.insert {
		if e, ok := have[r.email]; ok && e.id == r.id.String() {
			ours[r.email] = true
		}
	}
	if len(ours) != n {
		return counts, apperr.New(apperr.Internal, "imports: inserted %d customers but found %d of them", n, len(ours))
	}
	rest := make([]Record, 0, len(recs)-n)
	for _, r := range recs {
		if !ours[r.Email] {
			rest = append(rest, r)
		}
	}
	merge, err := classify(rest, have, ModeUpdate, now)
	if err != nil {
		return counts, err
	}
	counts.Updated, counts.Skipped = len(merge.update), merge.skipped
	return counts, c.updateCustomers(merge.update, now)
}

func duplicateRejection(r Record, d duplicate, rawOf func(int64) string) Rejected {
	var reason string
	if d.first == r.Line {
		reason = fmt.Sprintf("the email %s is on %d lines of this file; none of them was imported: keep one and import it again", r.Email, d.count)
	} else {
		reason = fmt.Sprintf("the email %s is also on line %d (%d lines in all); none of them was imported: keep one and import it again", r.Email, d.first, d.count)
	}
	raw := ""
	if rawOf != nil {
		raw = rawOf(r.Line)
	}
	return Rejected{Line: r.Line, Column: "", Reason: reason, Raw: raw}
}

// plan is what to do with a chunk's records.
type plan struct {
	insert  []newCustomer
	update  []changedCustomer
	skipped int
}

// classify decides each record's fate against the customers the tenant
// already has:
//   - new emails are created (create, upsert) or skipped (update);
//   - known emails are skipped (create) or merged (upsert, update): the
//     file's non-empty field values replace the stored ones, other fields
//     stay; email_verified only ever goes from false to true; a password
//     hash is only set on an account that has none; created_at is kept.
//     A merge that changes nothing is skipped, which is what makes
//     importing the same file twice a no-op.
func classify(recs []Record, have map[string]existing, mode Mode, now time.Time) (plan, error) {
	var p plan
	for _, r := range recs {
		e, known := have[r.Email]
		if !known {
			if mode == ModeUpdate {
				p.skipped++
				continue
			}
			profile, err := json.Marshal(orEmpty(r.Profile))
			if err != nil {
				return p, apperr.Wrap(err, "encode profile")
			}
			created := r.CreatedAt
			if created.IsZero() {
				created = now
			}
			p.insert = append(p.insert, newCustomer{id: uuid.Must(uuid.NewV7()), email: r.Email, verified: r.EmailVerified, hash: r.PasswordHash, profile: profile, created: created})
			continue
		}
		if mode == ModeCreate {
			p.skipped++
			continue
		}
		var stored map[string]any
		if len(e.profile) > 0 {
			if err := json.Unmarshal(e.profile, &stored); err != nil {
				return p, apperr.Wrap(err, "decode profile")
			}
		}
		before, _ := json.Marshal(orEmpty(stored))
		merged := make(map[string]any, len(stored)+len(r.Profile))
		for k, v := range stored {
			merged[k] = v
		}
		for k, v := range r.Profile {
			merged[k] = v
		}
		after, err := json.Marshal(merged)
		if err != nil {
			return p, apperr.Wrap(err, "encode profile")
		}
		next := changedCustomer{id: e.id, verified: e.verified || r.EmailVerified, hash: e.hash, profile: after}
		if next.hash == "" {
			next.hash = r.PasswordHash
		}
		if next.verified == e.verified && next.hash == e.hash && bytes.Equal(before, after) {
			p.skipped++
			continue
		}
		p.update = append(p.update, next)
	}
	return p, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
