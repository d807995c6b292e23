// Package audit records security-relevant events (sign-ins, sign-ups,
// password changes, console changes, imports) in the audit_events table and
// in the log under stable keys, and lists them for the console.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/apperr"
	"gatehouse/txn"
)

// Event is one thing that happened.
type Event struct {
	TenantID uuid.UUID // uuid.Nil for platform events
	Actor    string    // "customer:<id>", "staff:<email>", "system", "anonymous"
	Action   string    // stable, dotted: "customer.login.failed"
	Target   string
	IP       string
	// UserAgent is the device's User-Agent header, cut to 256 bytes. Left
	// empty, it and IP are taken from the request the context carries
	// (WithClient), so no call site has to pass them on.
	UserAgent string
	Detail    map[string]any // before/after and the like; never secrets
	At        time.Time
}

// Client is where a request came from: its address and its device.
type Client struct {
	IP        string
	UserAgent string
}

type clientKey struct{}

// WithClient returns ctx carrying c, for every event recorded under it.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the client ctx carries, if any.
func ClientFrom(ctx context.Context) (Client, bool) {
	c, ok := ctx.Value(clientKey{}).(Client)
	return c, ok
}

// Middleware puts the request's client into its context, so any event
// recorded while serving it says where it came from: one place, not one
// per call site. It runs after the engine's trusted-proxy setup, so the
// address is the one the login throttles use.
func Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Request = c.Request.WithContext(WithClient(c.Request.Context(), Client{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}))
		c.Next()
	}
}

// maxUserAgent is how much of a User-Agent header is kept; real ones are
// far shorter, and a longer one is noise or an attack on the log.
const maxUserAgent = 256

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

type row struct {
	ID        uuid.UUID
	TenantID  *uuid.UUID
	Actor     string
	Action    string
	Target    string
	IP        string
	UserAgent string
	Detail    datatypes.JSON
	At        time.Time
}

func (row) TableName() string { return "audit_events" }

// Recorder writes audit events.
type Recorder struct {
	db  *gorm.DB
	log *slog.Logger
}

// NewRecorder returns a recorder on db.
func NewRecorder(db *gorm.DB, log *slog.Logger) *Recorder { return &Recorder{db: db, log: log} }

// In returns a recorder that writes through tx, so an event commits or
// rolls back with the change it records (a login with its session).
func (r *Recorder) In(tx *gorm.DB) *Recorder { return &Recorder{db: tx, log: r.log} }

// Record stores e. A failure is logged and returned; callers that must not
// fail because of the audit trail may ignore it, the log line stays.
func (r *Recorder) Record(ctx context.Context, e Event) error {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	if cl, ok := ClientFrom(ctx); ok {
		if e.IP == "" {
			e.IP = cl.IP
		}
		if e.UserAgent == "" {
			e.UserAgent = cl.UserAgent
		}
	}
	e.UserAgent = truncate(e.UserAgent, maxUserAgent)
	r.log.LogAttrs(ctx, slog.LevelInfo, "audit",
		slog.String("action", e.Action), slog.String("actor", e.Actor), slog.String("target", e.Target),
		slog.String("tenant_id", e.TenantID.String()), slog.String("client_ip", e.IP))
	detail, err := json.Marshal(e.Detail)
	if err != nil || e.Detail == nil {
		detail = []byte("{}")
	}
	rw := row{ID: uuid.Must(uuid.NewV7()), Actor: e.Actor, Action: e.Action, Target: e.Target, IP: e.IP, UserAgent: e.UserAgent, Detail: detail, At: e.At}
	if e.TenantID != uuid.Nil {
		id := e.TenantID
		rw.TenantID = &id
	}
	// Inside a txn.Run the event joins that transaction: it commits with
	// the change it records, or not at all.
	if err := txn.DB(ctx, r.db).Create(&rw).Error; err != nil {
		r.log.Error("audit_write_failed", "action", e.Action, "error", err)
		return apperr.Wrap(err, "write audit event")
	}
	return nil
}

// Filter narrows a listing.
type Filter struct {
	Actor, Action, Target string
	From, To              time.Time
	Before                uuid.UUID // keyset: events older than this id
	Limit                 int
}

// List returns one tenant's events, newest first. Ids are UUIDv7, so their
// order is time order and a keyset page is one index range.
func (r *Recorder) List(ctx context.Context, tenantID uuid.UUID, f Filter) ([]Event, []uuid.UUID, error) {
	if tenantID == uuid.Nil {
		return nil, nil, apperr.New(apperr.Invalid, "tenant required")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := r.db.WithContext(ctx).Where("tenant_id = ?", tenantID)
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Target != "" {
		q = q.Where("target = ?", f.Target)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To)
	}
	if f.Before != uuid.Nil {
		q = q.Where("id < ?", f.Before)
	}
	var rows []row
	if err := q.Order("id DESC").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, nil, apperr.Wrap(err, "list audit events")
	}
	events := make([]Event, 0, len(rows))
	ids := make([]uuid.UUID, 0, len(rows))
	for _, rw := range rows {
		e := Event{TenantID: tenantID, Actor: rw.Actor, Action: rw.Action, Target: rw.Target, IP: rw.IP, UserAgent: rw.UserAgent, At: rw.At.UTC()}
		_ = json.Unmarshal(rw.Detail, &e.Detail)
		events = append(events, e)
		ids = append(ids, rw.ID)
	}
	return events, ids, nil
}
