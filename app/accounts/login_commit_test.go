package accounts_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/passwords"
	"gatehouse/app/ratelimit"
	"gatehouse/app/secrets"
	"gatehouse/app/sessions"
	"gatehouse/app/webhooks"
	"gatehouse/tenants"
	"gatehouse/txn"
)

// commitCounter sits between gorm and the database: it counts the commits
// of explicit transactions, and the statements sent outside any (each of
// which the database runs, and on PostgreSQL commits, as a transaction of
// its own).
type commitCounter struct {
	gorm.ConnPool
	commits, alone atomic.Int64
}

func (p *commitCounter) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.ConnPool.(gorm.TxBeginner).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countedTx{Tx: tx, commits: &p.commits}, nil
}

func (p *commitCounter) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	p.alone.Add(1)
	return p.ConnPool.ExecContext(ctx, q, args...)
}

func (p *commitCounter) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	p.alone.Add(1)
	return p.ConnPool.QueryContext(ctx, q, args...)
}

func (p *commitCounter) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	p.alone.Add(1)
	return p.ConnPool.QueryRowContext(ctx, q, args...)
}

func (p *commitCounter) reset() { p.commits.Store(0); p.alone.Store(0) }

type countedTx struct {
	*sql.Tx
	commits *atomic.Int64
}

func (t *countedTx) Commit() error {
	err := t.Tx.Commit()
	if err == nil {
		t.commits.Add(1)
	}
	return err
}

// loginRig is the accounts service as app/wiring.go builds it (customer
// writes report webhook events through the real webhooks service, to an
// endpoint the tenant has), on a database handle whose commits are counted.
type loginRig struct {
	svc      *accounts.Service
	counter  *commitCounter
	db       *gorm.DB
	tenant   *tenants.Tenant
	customer uuid.UUID
	audit    *audit.Recorder
	failNext atomic.Bool // the next session insert fails, as a full disk would
	// redisInTx counts the Redis commands sent while the context carried a
	// transaction of txn.Run.
	redisInTx atomic.Int64
}

// txWatch is a go-redis hook that counts into n the commands sent with a
// transaction in their context.
type txWatch struct{ n *atomic.Int64 }

func (w txWatch) DialHook(next redis.DialHook) redis.DialHook { return next }

func (w txWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if txn.InTx(ctx) {
			w.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (w txWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if txn.InTx(ctx) {
			w.n.Add(int64(len(cmds)))
		}
		return next(ctx, cmds)
	}
}

func newLoginRig(t testing.TB) *loginRig {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := apptest.MigratedDB(t)
	rig := &loginRig{counter: &commitCounter{ConnPool: d.Gorm.ConnPool}}
	gdb := d.Gorm.Session(&gorm.Session{NewDB: true})
	gdb.Statement.ConnPool = rig.counter
	if err := gdb.Callback().Create().Before("gorm:create").Register("test:fail_session", func(tx *gorm.DB) {
		if tx.Statement.Table == "sessions" && rig.failNext.CompareAndSwap(true, false) {
			_ = tx.AddError(errors.New("injected: session insert failed"))
		}
	}); err != nil {
		t.Fatal(err)
	}
	rig.db = gdb

	var err error
	if rig.tenant, err = tenants.NewService(tenants.NewStore(gdb), nil, "localhost", quiet).Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(txWatch{&rig.redisInTx})
	box, err := secrets.NewBox([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	rig.audit = audit.NewRecorder(gdb, quiet)
	hooks := webhooks.NewService(webhooks.Deps{DB: gdb, Box: box, Client: http.DefaultClient, Audit: rig.audit, Log: quiet})
	if _, _, err := hooks.Create(ctx, rig.tenant.ID, webhooks.New{URL: "https://hooks.acme.example/in", Events: []string{accounts.EventCustomerLogin}}); err != nil {
		t.Fatal(err)
	}
	store := accounts.NewStore(gdb).WithEvents(hooks)
	hasher := passwords.NewHasher(passwords.Params{Memory: 1024, Time: 1, Threads: 1}, 0, 0)
	rig.svc = accounts.NewService(accounts.Deps{
		Store: store, Sessions: sessions.NewStore(gdb), Hasher: hasher, Policy: passwords.NewPolicy(),
		Limiter: ratelimit.New(rdb, "test:", quiet), Audit: rig.audit, Log: quiet,
	})
	c := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: "ann@example.com", Status: accounts.StatusActive, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := store.For(rig.tenant.ID).Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	hash, err := hasher.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.For(rig.tenant.ID).SetPasswordHash(ctx, c.ID, hash); err != nil {
		t.Fatal(err)
	}
	rig.customer = c.ID
	return rig
}

func (rig *loginRig) signIn(password string) (string, error) {
	_, token, err := rig.svc.SignIn(context.Background(), rig.tenant, "ann@example.com", password, accounts.Request{Host: "acme.localhost", IP: "192.0.2.7"}, "")
	return token, err
}

// rows counts what a login may have written.
func (rig *loginRig) rows(t *testing.T) (sessionRows, loginEvents, failedEvents, outboxRows int64, lastLogin *time.Time) {
	t.Helper()
	q := rig.db.Session(&gorm.Session{NewDB: true})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(q.Table("sessions").Where("subject_id = ?", rig.customer).Count(&sessionRows).Error)
	must(q.Table("audit_events").Where("tenant_id = ? AND action = ?", rig.tenant.ID, "customer.login").Count(&loginEvents).Error)
	must(q.Table("audit_events").Where("tenant_id = ? AND action = ?", rig.tenant.ID, "customer.login.failed").Count(&failedEvents).Error)
	must(q.Table("job_outbox").Count(&outboxRows).Error)
	var row struct{ LastLoginAt *time.Time }
	must(q.Table("customers").Select("last_login_at").Where("id = ?", rig.customer).Take(&row).Error)
	return sessionRows, loginEvents, failedEvents, outboxRows, row.LastLoginAt
}

// TestPasswordLoginCommitsOnce signs in with a password and counts what
// reaches the database: one commit, holding the customer read (on
// PostgreSQL), the login stamp, its webhook event, the audit event and the
// session. A wrong password commits its audit event, once. A failure
// halfway (the session insert) leaves no stamp, no audit event, no webhook
// and no session behind.
func TestPasswordLoginCommitsOnce(t *testing.T) {
	rig := newLoginRig(t)
	// On SQLite the customer read runs just before the transaction (see
	// accounts.TenantStore.loginTx): a read, which commits nothing.
	wantAlone := int64(1)
	if apptest.UsingPostgres() {
		wantAlone = 0
	}

	t.Run("success", func(t *testing.T) {
		rig.counter.reset()
		token, err := rig.signIn("correct horse battery")
		if err != nil || token == "" {
			t.Fatalf("sign-in: %q, %v", token, err)
		}
		if c, a := rig.counter.commits.Load(), rig.counter.alone.Load(); c != 1 || a != wantAlone {
			t.Fatalf("one login: %d commits and %d statements outside them, want 1 and %d", c, a, wantAlone)
		}
		sessionRows, loginEvents, _, outboxRows, lastLogin := rig.rows(t)
		if sessionRows != 1 || loginEvents != 1 || outboxRows != 1 || lastLogin == nil {
			t.Fatalf("after the login: %d sessions, %d login events, %d outbox rows, last login %v", sessionRows, loginEvents, outboxRows, lastLogin)
		}
	})

	t.Run("wrong password is audited in one commit", func(t *testing.T) {
		rig.counter.reset()
		if _, err := rig.signIn("wrong horse battery"); err == nil {
			t.Fatal("a wrong password signed in")
		}
		if c, a := rig.counter.commits.Load(), rig.counter.alone.Load(); c != 1 || a != wantAlone {
			t.Fatalf("a failed login: %d commits and %d statements outside them, want 1 and %d", c, a, wantAlone)
		}
		sessionRows, _, failedEvents, _, _ := rig.rows(t)
		if failedEvents != 1 || sessionRows != 1 {
			t.Fatalf("after the failure: %d failure events, %d sessions", failedEvents, sessionRows)
		}
	})

	t.Run("no Redis call inside the SQLite transaction", func(t *testing.T) {
		// SQLite's transactions hold the file's one write lock, so a login
		// counts its throttles (Redis) before it begins. On PostgreSQL the
		// whole login runs in its transaction, which locks only its rows.
		rig.redisInTx.Store(0)
		if _, err := rig.signIn("wrong horse battery"); err == nil {
			t.Fatal("a wrong password signed in")
		}
		if _, err := rig.signIn("correct horse battery"); err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		n := rig.redisInTx.Load()
		switch {
		case !apptest.UsingPostgres() && n != 0:
			t.Fatalf("%d Redis commands ran inside a login's SQLite transaction", n)
		case apptest.UsingPostgres() && n == 0:
			t.Fatal("no Redis command seen inside the login's transaction on PostgreSQL: the watch is not watching")
		}
	})

	t.Run("failure halfway writes nothing", func(t *testing.T) {
		sessionsBefore, loginsBefore, _, outboxBefore, lastBefore := rig.rows(t)
		time.Sleep(2 * time.Millisecond) // a new stamp would differ from the old
		rig.counter.reset()
		rig.failNext.Store(true)
		if _, err := rig.signIn("correct horse battery"); err == nil {
			t.Fatal("the sign-in succeeded although its session could not be written")
		}
		if c := rig.counter.commits.Load(); c != 0 {
			t.Fatalf("%d commits for a login that failed halfway", c)
		}
		sessionRows, loginEvents, _, outboxRows, lastLogin := rig.rows(t)
		if sessionRows != sessionsBefore || loginEvents != loginsBefore || outboxRows != outboxBefore || !lastLogin.Equal(*lastBefore) {
			t.Fatalf("a failed login left writes behind: sessions %d→%d, login events %d→%d, outbox %d→%d, last login %v→%v",
				sessionsBefore, sessionRows, loginsBefore, loginEvents, outboxBefore, outboxRows, lastBefore, lastLogin)
		}
	})
}
