package imports_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/db"
	"gatehouse/app/imports"
	"gatehouse/tenants"
)

// fixture is a migrated database with two tenants and an import service
// running its steps in process.
type fixture struct {
	ctx     context.Context
	db      *db.DB
	store   *imports.Store
	svc     *imports.Service
	queue   *imports.LocalQueue
	tenants *tenants.Service
	a, b    *tenants.Tenant
	audit   *audit.Recorder
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var demoFields = []tenants.Field{
	{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
	{Key: "birthday", Label: "Birthday", Type: tenants.TypeDate, Capture: tenants.CaptureOptional},
	{Key: "phone", Label: "Phone", Type: tenants.TypePhone, Capture: tenants.CaptureOptional},
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, apptest.Database(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	ts := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, err := ts.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ts.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "Bravo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []*tenants.Tenant{a, b} {
		if _, err := ts.SaveFields(ctx, tn.ID, demoFields); err != nil {
			t.Fatal(err)
		}
	}
	a, _ = ts.ByID(ctx, a.ID)
	b, _ = ts.ByID(ctx, b.ID)
	store, err := imports.NewStore(d.Gorm)
	if err != nil {
		t.Fatal(err)
	}
	rec := audit.NewRecorder(d.Gorm, quiet)
	svc := imports.NewService(imports.Deps{Store: store, Tenants: ts, Audit: rec, Log: quiet, Limits: imports.Limits{ChunkRows: 3}})
	qctx, cancel := context.WithCancel(ctx)
	q := imports.NewLocalQueue(qctx, svc, 2)
	t.Cleanup(func() { cancel(); q.Wait() })
	svc.SetQueue(q)
	return &fixture{ctx: ctx, db: d, store: store, svc: svc, queue: q, tenants: ts, a: a, b: b, audit: rec}
}

var cli = imports.Actor{Name: "cli"}

func (f *fixture) stage(t testing.TB, tn *tenants.Tenant, name, content string) *imports.Job {
	t.Helper()
	j, err := f.svc.Stage(f.ctx, tn, cli, name, "", strings.NewReader(content))
	if err != nil {
		t.Fatalf("stage %s: %v", name, err)
	}
	return j
}

// pass starts a pass, waits for it and returns its progress, which must
// be done.
func (f *fixture) pass(t testing.TB, tn *tenants.Tenant, j *imports.Job, m imports.Mapping, dry bool) imports.Progress {
	t.Helper()
	if _, err := f.svc.Start(f.ctx, tn, cli, j.ID, m, dry); err != nil {
		t.Fatalf("start: %v", err)
	}
	f.queue.Wait()
	p, err := f.svc.Progress(f.ctx, tn.ID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Job.Status != imports.StatusDone {
		t.Fatalf("pass ended %s (%s), not done", p.Job.Status, p.Job.Error)
	}
	return p
}

// auto is the mapping AutoMap guesses for a job, in mode.
func auto(j *imports.Job, tn *tenants.Tenant, mode imports.Mode) imports.Mapping {
	return imports.Mapping{Mode: mode, Columns: imports.AutoMap(j.Dialect.Columns, tn.Fields, false)}
}

// customer is a customer row as tests compare them.
type customer struct {
	ID        string
	Email     string
	Verified  bool
	Hash      string
	Profile   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// customers returns a tenant's customers by email.
func (f *fixture) customers(t testing.TB, tenantID uuid.UUID) map[string]customer {
	t.Helper()
	type row struct {
		ID            string
		Email         string
		EmailVerified bool
		PasswordHash  *string
		Profile       string
		CreatedAt     time.Time
		UpdatedAt     time.Time
	}
	var rows []row
	if err := f.db.Gorm.Table("customers").Where("tenant_id = ?", tenantID).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]customer{}
	for _, r := range rows {
		c := customer{ID: r.ID, Email: r.Email, Verified: r.EmailVerified, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		if r.PasswordHash != nil {
			c.Hash = *r.PasswordHash
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(r.Profile), &m)
		b, _ := json.Marshal(m)
		c.Profile = string(b)
		out[r.Email] = c
	}
	return out
}

func (f *fixture) report(t testing.TB, tenantID, jobID uuid.UUID) string {
	t.Helper()
	var b strings.Builder
	if err := f.svc.WriteErrorReport(f.ctx, tenantID, jobID, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func (f *fixture) auditActions(t testing.TB, tenantID uuid.UUID) []string {
	t.Helper()
	events, _, err := f.audit.List(f.ctx, tenantID, audit.Filter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
	}
	sort.Strings(out)
	return out
}
