// Package stats keeps the figures of a tenant's console overview: sign-ups,
// sign-ins and failed sign-ins per UTC day and method, customers in all,
// and how many customers have filled each registration field.
//
// Nothing on the sign-in path writes here. Logins already write an audit
// event in their own transaction; a rollup folds a tenant's new audit
// events into daily counters (stats_daily) and moves the tenant's
// watermark (stats_tenants.watermark, the id of the last event folded) in
// one transaction, so a crash leaves both as they were and a second run
// finds nothing new. Concurrent sign-ins therefore never wait on a shared
// counter row. Customer figures are counted in the background and stored
// with the time they were counted. A page view reads one stats_tenants
// row, at most a few hundred counter rows, and the audit events younger
// than the watermark, whatever the number of customers.
package stats

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/apperr"
)

// The metrics counted per day.
const (
	SignUps = "signup"       // customer.signup
	SignIns = "login"        // customer.login
	Failed  = "login_failed" // customer.login.failed, social.failed
)

// MethodPassword is the method of a sign-in or sign-up that names none:
// password sign-ups are audited without a method.
const MethodPassword = "password"

// Days is how many UTC days, today included, the overview shows.
const Days = 30

// Tuning of the rollup. Settle is how old an audit event must be before
// the rollup folds it in: ids are UUIDv7, taken when the event is
// recorded, so a transaction still open when a later one commits would
// otherwise slip under a watermark that has moved past it. Younger events
// are read live on each page view instead.
const (
	Settle       = time.Minute
	batch        = 5000  // events folded per transaction
	tailMax      = 20000 // live events a page view reads at most
	RecountEvery = 10 * time.Minute
	smallTenant  = 10000 // customers; fewer are recounted on a page view
)

// folded are the audit actions the counters are made of.
var folded = []string{"customer.signup", "customer.login", "customer.login.failed", "social.failed"}

// Store reads and writes one database's figures. Every method takes the
// tenant and every query carries it.
type Store struct {
	db       *gorm.DB
	postgres bool
	log      *slog.Logger
	now      func() time.Time
}

// New returns a store on db.
func New(db *gorm.DB, log *slog.Logger) *Store {
	return &Store{db: db, postgres: db.Dialector.Name() == "postgres", log: log, now: func() time.Time { return time.Now().UTC() }}
}

// WithClock returns a store that reads the time from now: tests play an
// hour later, so events they have just written count as settled.
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// Day is one UTC day's count.
type Day struct {
	Day string // YYYY-MM-DD, UTC
	N   int64
}

// Overview is what the console's tenant overview shows.
type Overview struct {
	From, To time.Time // the first and last day shown (UTC midnights)
	SignUps  []Day     // one per day, From to To, zeros included
	SignIns  []Day
	Failed   []Day
	// Methods counts the sign-ins of the window by method key
	// ("password", "google", "oidc", …), most used first.
	Methods []MethodCount
	// Customers is customers in all, and Completed how many of them have
	// a value for each field key asked for, as of CountedAt.
	Customers int64
	Completed map[string]int64
	CountedAt time.Time
	// Behind is true when more recent events wait to be counted than one
	// page view reads: the worker is catching up.
	Behind bool
}

// MethodCount is one sign-in method's share.
type MethodCount struct {
	Method string
	N      int64
}

// Total sums days.
func Total(days []Day) int64 {
	var n int64
	for _, d := range days {
		n += d.N
	}
	return n
}

type dailyRow struct {
	TenantID uuid.UUID
	Day      string
	Metric   string
	Method   string
	N        int64
}

func (dailyRow) TableName() string { return "stats_daily" }

type tenantRow struct {
	TenantID  uuid.UUID
	Watermark uuid.UUID
	Customers int64
	Fields    datatypes.JSON
	CountedAt *time.Time
	UpdatedAt time.Time
}

func (tenantRow) TableName() string { return "stats_tenants" }

type eventRow struct {
	ID     uuid.UUID
	Action string
	Target string
	Detail []byte
	At     time.Time
}

// key is one counter.
type key struct{ day, metric, method string }

// count folds events into counters.
func count(events []eventRow, into map[key]int64) {
	for _, e := range events {
		var d struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal(e.Detail, &d)
		k := key{day: e.At.UTC().Format(time.DateOnly)}
		switch e.Action {
		case "customer.signup":
			k.metric, k.method = SignUps, d.Method
		case "customer.login":
			k.metric, k.method = SignIns, d.Method
		case "customer.login.failed":
			k.metric, k.method = Failed, MethodPassword
		case "social.failed":
			k.metric, k.method = Failed, e.Target
		default:
			continue
		}
		if k.method == "" {
			k.method = MethodPassword
		}
		into[k]++
	}
}

// wrap is apperr.Wrap that keeps nil nil.
func wrap(err error, msg string) error {
	if err == nil {
		return nil
	}
	return apperr.Wrap(err, "%s", msg)
}

// FloorV7 is the smallest UUIDv7 of instant t: every event recorded at or
// after t has a greater id, every one recorded before a smaller one.
func FloorV7(t time.Time) uuid.UUID {
	var u uuid.UUID
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = 0x70
	u[8] = 0x80
	return u
}

// start is the watermark of a tenant seen for the first time: the
// overview never shows older days, so older events are not folded.
func (s *Store) start(now time.Time) uuid.UUID {
	return FloorV7(dayOf(now).AddDate(0, 0, -(Days - 1)))
}

func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ensure makes the tenant's stats row if it has none.
func (s *Store) ensure(ctx context.Context, tenantID uuid.UUID) error {
	now := s.now()
	row := tenantRow{TenantID: tenantID, Watermark: s.start(now), Fields: datatypes.JSON("{}"), UpdatedAt: now}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
	return wrap(err, "stats: create tenant row")
}

func (s *Store) row(ctx context.Context, db *gorm.DB, tenantID uuid.UUID) (tenantRow, error) {
	var r tenantRow
	err := db.WithContext(ctx).Where("tenant_id = ?", tenantID).Take(&r).Error
	return r, wrap(err, "stats: read tenant row")
}

// Rollup folds a tenant's settled audit events into its counters, one
// batch per transaction, until none is left. It returns how many events
// it folded. Running it twice, or on two nodes at once, counts each event
// once: the watermark moves in the transaction that adds the counts, and
// only from the value that transaction read.
func (s *Store) Rollup(ctx context.Context, tenantID uuid.UUID) (int, error) {
	if tenantID == uuid.Nil {
		return 0, apperr.New(apperr.Invalid, "tenant required")
	}
	if err := s.ensure(ctx, tenantID); err != nil {
		return 0, err
	}
	total := 0
	for {
		n, more, err := s.rollupBatch(ctx, tenantID, 0)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// errRaced ends a batch whose watermark another rollup moved first.
var errRaced = errors.New("stats: watermark moved by another rollup")

// rollupBatch folds at most one batch. With minStep set it does nothing
// when the watermark is younger than that, which keeps page views from
// writing on every request. more reports a full batch.
func (s *Store) rollupBatch(ctx context.Context, tenantID uuid.UUID, minStep time.Duration) (n int, more bool, err error) {
	bound := FloorV7(s.now().Add(-Settle))
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := s.row(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if !s.due(r.Watermark, minStep) {
			return nil
		}
		var events []eventRow
		if err := tx.Table("audit_events").Select("id, action, target, detail, at").
			Where("tenant_id = ? AND id > ? AND id < ? AND action IN ?", tenantID, r.Watermark, bound, folded).
			Order("id").Limit(batch).Find(&events).Error; err != nil {
			return apperr.Wrap(err, "stats: read audit events")
		}
		next := bound
		if more = len(events) == batch; more {
			next = events[len(events)-1].ID
		}
		// The watermark moves first, and only from the value read above:
		// a rollup that lost the race changes nothing and adds nothing.
		res := tx.Model(&tenantRow{}).Where("tenant_id = ? AND watermark = ?", tenantID, r.Watermark).
			Updates(map[string]any{"watermark": next, "updated_at": s.now()})
		if res.Error != nil {
			return apperr.Wrap(res.Error, "stats: move watermark")
		}
		if res.RowsAffected != 1 {
			return errRaced
		}
		counts := map[key]int64{}
		count(events, counts)
		if err := s.add(ctx, tx, tenantID, counts); err != nil {
			return err
		}
		n = len(events)
		return nil
	})
	if errors.Is(err, errRaced) {
		return 0, false, nil
	}
	return n, more, err
}

// due reports whether a rollup from watermark has settled events to look
// at: it is more than minStep behind the settled bound.
func (s *Store) due(watermark uuid.UUID, minStep time.Duration) bool {
	bound := FloorV7(s.now().Add(-Settle))
	return watermark.String() < bound.String() && !watermarkTime(watermark).Add(minStep).After(watermarkTime(bound))
}

// watermarkTime is the instant a UUIDv7 was made.
func watermarkTime(u uuid.UUID) time.Time {
	var ms [8]byte
	copy(ms[2:], u[:6])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ms[:]))).UTC()
}

// add adds counts to the tenant's counters.
func (s *Store) add(ctx context.Context, tx *gorm.DB, tenantID uuid.UUID, counts map[key]int64) error {
	if len(counts) == 0 {
		return nil
	}
	rows := make([]dailyRow, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, dailyRow{TenantID: tenantID, Day: k.day, Metric: k.metric, Method: k.method, N: n})
	}
	// A stable order, so two transactions touching the same counters take
	// their row locks in the same order.
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		return a.Day+a.Metric+a.Method < b.Day+b.Metric+b.Method
	})
	err := tx.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "day"}, {Name: "metric"}, {Name: "method"}},
		DoUpdates: clause.Assignments(map[string]any{"n": gorm.Expr("stats_daily.n + excluded.n")}),
	}).Create(&rows).Error
	return wrap(err, "stats: add counters")
}

// Load is the overview's data: the tenant's counters of the last Days
// days plus its events younger than the watermark, counted live, and its
// customer figures for fields (counted now if they never were, or a field
// is new). It first folds settled events in, when the last rollup is more
// than Settle old, so the page stays current without a worker; that write
// is bounded to one batch.
func (s *Store) Load(ctx context.Context, tenantID uuid.UUID, fields []string) (Overview, error) {
	if tenantID == uuid.Nil {
		return Overview{}, apperr.New(apperr.Invalid, "tenant required")
	}
	now := s.now()
	r, err := s.row(ctx, s.db, tenantID)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if err = s.ensure(ctx, tenantID); err == nil {
			r, err = s.row(ctx, s.db, tenantID)
		}
	}
	if err != nil {
		return Overview{}, err
	}
	fresh := true // r is current
	if s.due(r.Watermark, Settle) {
		if _, _, err := s.rollupBatch(ctx, tenantID, Settle); err != nil {
			return Overview{}, err
		}
		fresh = false
	}
	o := Overview{To: dayOf(now), From: dayOf(now).AddDate(0, 0, -(Days - 1))}
	counts := map[key]int64{}
	// Counters and the live events are read against one watermark: were a
	// rollup to commit in between, they would count its events twice, so
	// the reads are retried until the watermark held still.
	for attempt := 0; ; attempt++ {
		if !fresh {
			if r, err = s.row(ctx, s.db, tenantID); err != nil {
				return Overview{}, err
			}
		}
		fresh = false
		clear(counts)
		var daily []dailyRow
		if err := s.db.WithContext(ctx).Where("tenant_id = ? AND day >= ? AND day <= ?", tenantID,
			o.From.Format(time.DateOnly), o.To.Format(time.DateOnly)).Find(&daily).Error; err != nil {
			return Overview{}, apperr.Wrap(err, "stats: read counters")
		}
		for _, d := range daily {
			counts[key{d.Day, d.Metric, d.Method}] += d.N
		}
		var live []eventRow
		if err := s.db.WithContext(ctx).Table("audit_events").Select("id, action, target, detail, at").
			Where("tenant_id = ? AND id > ? AND action IN ?", tenantID, r.Watermark, folded).
			Order("id").Limit(tailMax + 1).Find(&live).Error; err != nil {
			return Overview{}, apperr.Wrap(err, "stats: read recent audit events")
		}
		o.Behind = len(live) > tailMax
		if o.Behind {
			live = live[:tailMax]
		}
		count(live, counts)
		var again []uuid.UUID
		if err := s.db.WithContext(ctx).Model(&tenantRow{}).Where("tenant_id = ?", tenantID).Pluck("watermark", &again).Error; err != nil {
			return Overview{}, apperr.Wrap(err, "stats: read watermark")
		}
		if len(again) == 1 && again[0] == r.Watermark || attempt == 3 {
			break
		}
	}
	o.SignUps, o.SignIns, o.Failed = o.series(counts, SignUps), o.series(counts, SignIns), o.series(counts, Failed)
	o.Methods = methods(counts, o.From.Format(time.DateOnly))
	completed := map[string]int64{}
	_ = json.Unmarshal(r.Fields, &completed)
	// A small tenant is counted again on the page once its figures are a
	// minute old: that costs less than a millisecond or so, and its admin
	// sees a first sign-up at once. Larger ones wait for the worker.
	stale := r.CountedAt == nil || r.Customers < smallTenant && now.Sub(*r.CountedAt) > Settle
	for _, f := range fields {
		if _, ok := completed[f]; !ok {
			stale = true
		}
	}
	if stale {
		var err error
		if r, err = s.Recount(ctx, tenantID, fields); err != nil {
			return Overview{}, err
		}
		completed = map[string]int64{}
		_ = json.Unmarshal(r.Fields, &completed)
	}
	o.Customers, o.CountedAt = r.Customers, r.CountedAt.UTC()
	o.Completed = map[string]int64{}
	for _, f := range fields {
		o.Completed[f] = completed[f]
	}
	return o, nil
}

// series is one metric's counts per day of o's window, methods summed.
func (o Overview) series(counts map[key]int64, metric string) []Day {
	byDay := map[string]int64{}
	for k, n := range counts {
		if k.metric == metric {
			byDay[k.day] += n
		}
	}
	var out []Day
	for d := o.From; !d.After(o.To); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		out = append(out, Day{Day: day, N: byDay[day]})
	}
	return out
}

// methods are the window's sign-ins by method, most used first.
func methods(counts map[key]int64, from string) []MethodCount {
	by := map[string]int64{}
	for k, n := range counts {
		if k.metric == SignIns && k.day >= from {
			by[k.method] += n
		}
	}
	out := make([]MethodCount, 0, len(by))
	for m, n := range by {
		out = append(out, MethodCount{Method: m, N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Recount counts the tenant's customers, and for each of fields those
// with a value (not missing, null, empty or false, as
// tenants.Missing reads a profile), in one pass, and stores the figures.
// It scans the tenant's customers, so it runs in the background
// (RollupAll) and on a page view only when a figure was never counted.
func (s *Store) Recount(ctx context.Context, tenantID uuid.UUID, fields []string) (tenantRow, error) {
	if tenantID == uuid.Nil {
		return tenantRow{}, apperr.New(apperr.Invalid, "tenant required")
	}
	if err := s.ensure(ctx, tenantID); err != nil {
		return tenantRow{}, err
	}
	sel := "count(*) AS customers"
	var args []any
	for i, f := range fields {
		if s.postgres {
			sel += fmt.Sprintf(", coalesce(sum(CASE WHEN (profile -> ?) NOT IN ('null'::jsonb, '\"\"'::jsonb, 'false'::jsonb) THEN 1 ELSE 0 END), 0) AS f%d", i)
			args = append(args, f)
		} else {
			sel += fmt.Sprintf(", coalesce(sum(CASE WHEN json_type(profile, ?) IS NULL OR json_type(profile, ?) IN ('null', 'false') "+
				"OR (json_type(profile, ?) = 'text' AND json_extract(profile, ?) = '') THEN 0 ELSE 1 END), 0) AS f%d", i)
			p := `$."` + f + `"`
			args = append(args, p, p, p, p)
		}
	}
	args = append(args, tenantID)
	at := s.now()
	sqlRows, err := s.db.WithContext(ctx).Raw("SELECT "+sel+" FROM customers WHERE tenant_id = ?", args...).Rows()
	if err != nil {
		return tenantRow{}, apperr.Wrap(err, "stats: count customers")
	}
	defer sqlRows.Close()
	vals := make([]int64, 1+len(fields))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if sqlRows.Next() {
		if err := sqlRows.Scan(ptrs...); err != nil {
			return tenantRow{}, apperr.Wrap(err, "stats: count customers")
		}
	}
	if err := sqlRows.Err(); err != nil {
		return tenantRow{}, apperr.Wrap(err, "stats: count customers")
	}
	completed := map[string]int64{}
	for i, f := range fields {
		completed[f] = vals[i+1]
	}
	b, _ := json.Marshal(completed)
	if err := s.db.WithContext(ctx).Model(&tenantRow{}).Where("tenant_id = ?", tenantID).
		Updates(map[string]any{"customers": vals[0], "fields": datatypes.JSON(b), "counted_at": at}).Error; err != nil {
		return tenantRow{}, apperr.Wrap(err, "stats: store customer figures")
	}
	return s.row(ctx, s.db, tenantID)
}

// RollupAll is the worker's periodic task (jobs.TypeStatsRollup): every
// tenant's settled events are folded in, and a tenant's customer figures
// are counted again once they are RecountEvery old and something was
// audited for the tenant since (a sign-up, an import, a console change).
// One tenant failing does not stop the others.
func (s *Store) RollupAll(ctx context.Context) error {
	var ids []uuid.UUID
	if err := s.db.WithContext(ctx).Table("tenants").Order("id").Pluck("id", &ids).Error; err != nil {
		return apperr.Wrap(err, "stats: list tenants")
	}
	var errs []error
	folded := 0
	for _, id := range ids {
		n, err := s.Rollup(ctx, id)
		folded += n
		if err == nil {
			err = s.recountIfStale(ctx, id)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", id, err))
		}
	}
	s.log.InfoContext(ctx, "stats_rollup", "tenants", len(ids), "events", folded, "failed", len(errs))
	return errors.Join(errs...)
}

// recountIfStale recounts a tenant's customer figures when they are old
// and may have changed.
func (s *Store) recountIfStale(ctx context.Context, tenantID uuid.UUID) error {
	r, err := s.row(ctx, s.db, tenantID)
	if err != nil {
		return err
	}
	if r.CountedAt != nil {
		if s.now().Sub(*r.CountedAt) < RecountEvery {
			return nil
		}
		var changed []uuid.UUID
		if err := s.db.WithContext(ctx).Table("audit_events").Where("tenant_id = ? AND id > ?", tenantID, FloorV7(*r.CountedAt)).
			Limit(1).Pluck("id", &changed).Error; err != nil {
			return apperr.Wrap(err, "stats: look for changes")
		}
		if len(changed) == 0 {
			return nil
		}
	}
	var fields []string
	if err := s.db.WithContext(ctx).Table("registration_fields").Where("tenant_id = ? AND capture <> ?", tenantID, "required").
		Order("position").Pluck("key", &fields).Error; err != nil {
		return apperr.Wrap(err, "stats: list fields")
	}
	_, err = s.Recount(ctx, tenantID, fields)
	return err
}
