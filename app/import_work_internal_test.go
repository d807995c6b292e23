package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"gatehouse/app/db"
	"gatehouse/app/imports"
	"gatehouse/config"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// importWorkFixture is a migrated SQLite database with one tenant and two
// customers imported without a password, and an in-process Redis.
type importWorkFixture struct {
	ctx  context.Context
	db   *db.DB
	rc   *redisConn
	cfg  *config.Config
	log  *slog.Logger
	acme *tenants.Tenant
}

func newImportWorkFixture(t *testing.T) *importWorkFixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	database := migratedSQLite(t, dir, log)
	rc, redisURL := miniRedisConn(t)
	cfg, _ := config.Load("test", func(string) string { return "" })
	cfg.Dev, cfg.DataDir, cfg.RedisURL = true, dir, redisURL
	cfg.Finish()
	ts := tenants.NewService(tenants.NewStore(database.Gorm), nil, "localhost", log)
	acme, err := ts.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		err := database.Gorm.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at) VALUES (?, ?, ?, false, 'active', '{}', ?, ?)`,
			uuid.Must(uuid.NewV7()), acme.ID, email, now, now).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	return &importWorkFixture{ctx: ctx, db: database, rc: rc, cfg: cfg, log: log, acme: acme}
}

// migratedSQLite is a migrated SQLite database in dir, closed when the
// test ends.
func migratedSQLite(t *testing.T, dir string, log *slog.Logger) *db.DB {
	t.Helper()
	database, err := db.Open(context.Background(), filepath.Join(dir, "gatehouse.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close() })
	if _, err := database.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return database
}

// miniRedisConn is a connection to an in-process Redis, and its URL,
// closed when the test ends.
func miniRedisConn(t *testing.T) (*redisConn, string) {
	t.Helper()
	url := "redis://" + miniredis.RunT(t).Addr() + "/0"
	rc, err := openRedis(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.client.Close() })
	return rc, url
}

// queuedMails lists the mail tasks waiting on the critical queue, by
// recipient.
func (f *importWorkFixture) queuedMails(t *testing.T) []jobs.SendMail {
	t.Helper()
	inspector := asynq.NewInspector(f.rc.asynq)
	defer inspector.Close()
	tasks, err := inspector.ListPendingTasks(jobs.QueueCritical)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatal(err)
	}
	var out []jobs.SendMail
	for _, task := range tasks {
		if task.Type != jobs.TypeSendMail {
			continue
		}
		var msg jobs.SendMail
		if err := json.Unmarshal(task.Payload, &msg); err != nil {
			t.Fatal(err)
		}
		out = append(out, msg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].To < out[j].To })
	return out
}

// TestImportWorkerCampaignMailCommitsWithItsStamp: the campaign mail that
// `gatehouse import work` sends is queued only if the recipient's link
// and stamp commit. A batch that fails halfway (here, the stamp) queues
// no mail with a link that was rolled back; the retried batch mails each
// recipient once, through the outbox and the process's own relay.
func TestImportWorkerCampaignMailCommitsWithItsStamp(t *testing.T) {
	t.Parallel()
	f := newImportWorkFixture(t)
	ctx, database, rc, cfg, log, acme := f.ctx, f.db, f.rc, f.cfg, f.log, f.acme

	// The second recipient's stamp fails once, after its link and mail
	// were written in the same transaction.
	var stamps atomic.Int64
	var failStamp atomic.Bool
	err := database.Gorm.Callback().Update().Before("gorm:update").Register("test:fail_stamp", func(tx *gorm.DB) {
		if tx.Statement.Table == "password_campaign_recipients" && stamps.Add(1) == 2 && failStamp.Load() {
			_ = tx.AddError(errors.New("injected: the stamp could not be written"))
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	client, relay := importQueue(database, rc, log)
	defer client.Close()
	campaigns := importCampaigns(cfg, log, database, client)
	cp, err := campaigns.Start(ctx, acme, imports.Actor{Name: "cli"}, 60, 0)
	if err != nil {
		t.Fatal(err)
	}
	mails := func() []jobs.SendMail {
		t.Helper()
		if _, err := relay.Flush(ctx); err != nil {
			t.Fatalf("relay: %v", err)
		}
		return f.queuedMails(t)
	}
	tokens := func() (n int64) {
		t.Helper()
		if err := database.Gorm.Raw(`SELECT count(*) FROM one_time_tokens WHERE purpose = 'set_password'`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	failStamp.Store(true)
	tick := jobs.CampaignTick{TenantID: acme.ID, CampaignID: cp.ID, Tick: 0}
	if err := campaigns.CampaignTick(ctx, tick); err == nil {
		t.Fatal("the tick succeeded although a stamp failed")
	}
	got := mails()
	if len(got) != 1 || got[0].To != "ann@example.com" || tokens() != 1 {
		t.Fatalf("after a batch that failed at bob's stamp: %d mails %v and %d links; want ann's alone (bob's rolled back)", len(got), recipients(got), tokens())
	}

	failStamp.Store(false)
	if err := campaigns.CampaignTick(ctx, tick); err != nil {
		t.Fatalf("retried tick: %v", err)
	}
	got = mails()
	if len(got) != 2 || got[0].To != "ann@example.com" || got[1].To != "bob@example.com" || tokens() != 2 {
		t.Fatalf("after the retry: %d mails %v and %d links; want one each for ann and bob", len(got), recipients(got), tokens())
	}
	for _, msg := range got {
		if !strings.Contains(msg.Text, "/password/set?token=") {
			t.Fatalf("the mail to %s carries no set-password link:\n%s", msg.To, msg.Text)
		}
	}
}

func recipients(ms []jobs.SendMail) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.To
	}
	return out
}

// TestImportWorkerRelaysItsJobs: an import worker alone (no serving node,
// no `gatehouse worker`) takes a campaign the console started, sends its
// batch and queues the mail: its own relay moves the outbox rows, the
// console's tick and the batch's mails, to asynq.
func TestImportWorkerRelaysItsJobs(t *testing.T) {
	t.Parallel()
	f := newImportWorkFixture(t)
	// The console's side: a campaign and its first tick, as an outbox row
	// that nothing here relays.
	console := importCampaigns(f.cfg, f.log, f.db, jobs.NewClient(f.rc.asynq).WithOutbox(f.db.Gorm, nil))
	if _, err := console.Start(f.ctx, f.acme, imports.Actor{Name: "staff:owner@acme.test"}, 60, 0); err != nil {
		t.Fatal(err)
	}
	run, err := wiring{}.Imports(f.ctx, f.cfg, f.log, f.db, io.Discard, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(f.queuedMails(t)) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	run.Close()
	got := f.queuedMails(t)
	if len(got) != 2 || got[0].To != "ann@example.com" || got[1].To != "bob@example.com" {
		t.Fatalf("queued mails %v; want one each for ann and bob", recipients(got))
	}
	var left int64
	if err := f.db.Gorm.Raw(`SELECT count(*) FROM job_outbox`).Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d jobs left in the outbox after the import worker stopped", left)
	}
}
