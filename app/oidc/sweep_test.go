package oidc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/apps"
	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/app/oidc"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// sweepWorld is two tenants, each with an app, a customer and, in every
// table the sweep covers, one row that must go and one that must stay.
type sweepWorld struct {
	d       *db.DB
	storage *oidc.Storage
	rows    map[string]sweepRow // by name: "<tenant> <table> <expired|live>"
}

type sweepRow struct {
	table string
	id    string
	gone  bool // what the sweep must do with it
}

func newSweepWorld(t *testing.T) *sweepWorld {
	t.Helper()
	d := apptest.MigratedDB(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := apps.NewStore(d.Gorm)
	w := &sweepWorld{d: d, rows: map[string]sweepRow{},
		storage: oidc.NewStorage(oidc.StorageDeps{DB: d.Gorm, Apps: store, Keys: oidc.NewKeys(d.Gorm, mustBox(t)), Log: quiet})}
	now := time.Now().UTC()
	for _, slug := range []string{"acme", "bravo"} {
		tenant := mustTenant(t, d, slug)
		a, _, err := store.For(tenant).Create(context.Background(), apps.New{Name: "Shop", Type: apps.Web, RedirectURIs: []string{"https://shop.example/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		cust := uuid.Must(uuid.NewV7())
		mustInsert(t, d, "customers", map[string]any{"id": cust, "tenant_id": tenant, "email": slug + "@example.com", "created_at": now, "updated_at": now})
		for _, c := range []struct {
			state   string
			expires time.Time
			gone    bool
		}{
			// An unfinished request a second past its expiry goes; tokens
			// stay for TokenRetention after theirs, so one a minute inside
			// that window stays and one a second past it goes.
			{"expired", now.Add(-time.Second), true},
			{"live", now.Add(time.Minute), false},
		} {
			reqID := fmt.Sprintf("%s-%s-req", slug, c.state)
			mustInsert(t, d, "oidc_auth_requests", map[string]any{"id": reqID, "tenant_id": tenant, "app_id": a.ID,
				"request": []byte(`{}`), "created_at": now.Add(-time.Hour), "expires_at": c.expires})
			w.rows[slug+" oidc_auth_requests "+c.state] = sweepRow{"oidc_auth_requests", reqID, c.gone}

			tokenExpiry := now.Add(-oidc.TokenRetention + time.Minute)
			if c.gone {
				tokenExpiry = now.Add(-oidc.TokenRetention - time.Second)
			}
			access := uuid.Must(uuid.NewV7())
			mustInsert(t, d, "oidc_access_tokens", map[string]any{"id": access, "tenant_id": tenant, "app_id": a.ID, "customer_id": cust,
				"subject": cust.String(), "scopes": []byte(`[]`), "created_at": now.Add(-48 * time.Hour), "expires_at": tokenExpiry})
			w.rows[slug+" oidc_access_tokens "+c.state] = sweepRow{"oidc_access_tokens", access.String(), c.gone}

			refresh := uuid.Must(uuid.NewV7())
			mustInsert(t, d, "oidc_refresh_tokens", map[string]any{"id": refresh, "tenant_id": tenant, "app_id": a.ID, "customer_id": cust,
				"family_id": uuid.Must(uuid.NewV7()), "token_hash": refresh.String(), "scopes": []byte(`[]`), "auth_time": now.Add(-48 * time.Hour),
				"created_at": now.Add(-48 * time.Hour), "expires_at": tokenExpiry})
			w.rows[slug+" oidc_refresh_tokens "+c.state] = sweepRow{"oidc_refresh_tokens", refresh.String(), c.gone}
		}
	}
	return w
}

func mustInsert(t *testing.T, d *db.DB, table string, row map[string]any) {
	t.Helper()
	if err := d.Gorm.Table(table).Create(row).Error; err != nil {
		t.Fatalf("insert into %s: %v", table, err)
	}
}

func (w *sweepWorld) exists(t *testing.T, r sweepRow) bool {
	t.Helper()
	var n int64
	if err := w.d.Gorm.Table(r.table).Where("id = ?", r.id).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// check asserts that every row of the tenants in swept is gone or kept as
// its kind says, and that every row of any other tenant is untouched.
func (w *sweepWorld) check(t *testing.T, swept ...string) {
	t.Helper()
	in := func(name string) bool {
		for _, s := range swept {
			if len(name) > len(s) && name[:len(s)+1] == s+" " {
				return true
			}
		}
		return false
	}
	for name, r := range w.rows {
		want := !(r.gone && in(name))
		if got := w.exists(t, r); got != want {
			t.Errorf("%s: present = %v, want %v", name, got, want)
		}
	}
}

func (w *sweepWorld) tenant(t *testing.T, slug string) uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	if err := w.d.Gorm.Table("tenants").Where("slug = ?", slug).Pluck("id", &ids).Error; err != nil || len(ids) != 1 {
		t.Fatalf("tenant %s: %v", slug, err)
	}
	return ids[0]
}

func TestSweepTenant(t *testing.T) {
	w := newSweepWorld(t)
	ctx := context.Background()

	t.Run("until the sweep, an expired request is not served", func(t *testing.T) {
		// Nothing but the sweep deletes expired requests, so every read
		// must skip them.
		on := func(slug string) context.Context {
			return tenants.WithTenant(ctx, &tenants.Tenant{ID: w.tenant(t, slug), Slug: slug})
		}
		if _, err := w.storage.AuthRequestByID(on("acme"), "acme-expired-req"); err == nil {
			t.Fatal("an expired authorization request was served")
		}
		if _, err := w.storage.AuthRequestByID(on("acme"), "acme-live-req"); err != nil {
			t.Fatalf("a live authorization request: %v", err)
		}
		if _, err := w.storage.AuthRequestByID(on("bravo"), "acme-live-req"); err == nil {
			t.Fatal("bravo was served acme's authorization request")
		}
	})

	t.Run("one tenant's expired rows go, its live rows and the other tenant's rows stay", func(t *testing.T) {
		n, err := w.storage.SweepTenant(ctx, w.tenant(t, "acme"))
		if err != nil {
			t.Fatal(err)
		}
		if n != (oidc.Swept{AuthRequests: 1, AccessTokens: 1, RefreshTokens: 1}) {
			t.Fatalf("swept %+v", n)
		}
		w.check(t, "acme")
	})

	t.Run("sweeping again removes nothing", func(t *testing.T) {
		n, err := w.storage.SweepTenant(ctx, w.tenant(t, "acme"))
		if err != nil || n != (oidc.Swept{}) {
			t.Fatalf("second sweep %+v %v", n, err)
		}
	})

	t.Run("no tenant is refused", func(t *testing.T) {
		if _, err := w.storage.SweepTenant(ctx, uuid.Nil); err == nil {
			t.Fatal("a sweep without a tenant ran")
		}
	})

	t.Run("the periodic sweep covers every tenant", func(t *testing.T) {
		if err := w.storage.SweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
		w.check(t, "acme", "bravo")
	})
}

// TestSweepIsScheduled runs the real worker with its scheduler on Redis and
// waits for the periodic task to sweep both tenants.
func TestSweepIsScheduled(t *testing.T) {
	w := newSweepWorld(t)
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	conn := asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB, Password: opt.Password}
	srv := jobs.NewServer(conn, jobs.ServerOptions{Concurrency: 1, ShutdownTimeout: time.Second, SweepEvery: time.Second},
		jobs.Handlers{Sweeper: w.storage}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	apptest.Eventually(t, 20*time.Second, func() error {
		for name, r := range w.rows {
			if r.gone && w.exists(t, r) {
				return errors.New(name + " is still there")
			}
		}
		return nil
	})
	w.check(t, "acme", "bravo")
}
