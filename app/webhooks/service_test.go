package webhooks_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/app/outbound"
	"gatehouse/app/secrets"
	"gatehouse/app/webhooks"
	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustTenant(t *testing.T, d *db.DB, slug string) uuid.UUID {
	t.Helper()
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	tn, err := svc.Create(context.Background(), tenants.NewTenant{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

func newService(t *testing.T, d *db.DB, client *http.Client, allowHTTP bool) *webhooks.Service {
	t.Helper()
	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return webhooks.NewService(webhooks.Deps{DB: d.Gorm, Box: box, Client: client, Log: quiet, AllowHTTP: allowHTTP})
}

func count(t *testing.T, d *db.DB, table string, tenantID uuid.UUID) int64 {
	t.Helper()
	var n int64
	if err := d.Gorm.Table(table).Where("tenant_id = ?", tenantID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func emit(svc *webhooks.Service, d *db.DB, tenantID uuid.UUID, typ string, fail error) error {
	return d.Gorm.Transaction(func(tx *gorm.DB) error {
		if err := svc.Emit(context.Background(), tx, tenantID, typ, func() (any, error) { return map[string]string{"id": "c1"}, nil }); err != nil {
			return err
		}
		return fail
	})
}

// TestEmit: an event is written with the change's transaction, for the
// tenant's own subscribed, enabled endpoints only.
func TestEmit(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	acme, bravo := mustTenant(t, d, "acme"), mustTenant(t, d, "bravo")
	svc := newService(t, d, http.DefaultClient, false)
	if _, _, err := svc.Create(ctx, acme, webhooks.New{URL: "https://hooks.example.com/a", Events: []string{webhooks.CustomerCreated}}); err != nil {
		t.Fatal(err)
	}

	t.Run("rolled back", func(t *testing.T) {
		if err := emit(svc, d, acme, webhooks.CustomerCreated, errors.New("the change failed")); err == nil {
			t.Fatal("no error")
		}
		for _, table := range []string{"webhook_events", "webhook_deliveries", "job_outbox"} {
			if n := count(t, d, table, acme); n != 0 {
				t.Fatalf("%d rows in %s after a rollback", n, table)
			}
		}
	})
	t.Run("committed", func(t *testing.T) {
		if err := emit(svc, d, acme, webhooks.CustomerCreated, nil); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"webhook_events", "webhook_deliveries", "job_outbox"} {
			if n := count(t, d, table, acme); n != 1 {
				t.Fatalf("%d rows in %s, want 1", n, table)
			}
		}
	})
	t.Run("not subscribed", func(t *testing.T) {
		called := false
		err := d.Gorm.Transaction(func(tx *gorm.DB) error {
			return svc.Emit(ctx, tx, acme, webhooks.CustomerLogin, func() (any, error) { called = true; return nil, nil })
		})
		if err != nil || called || count(t, d, "webhook_events", acme) != 1 {
			t.Fatalf("an unsubscribed event was written (called %v, %v)", called, err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		if err := emit(svc, d, bravo, webhooks.CustomerCreated, nil); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, "webhook_deliveries", bravo) + count(t, d, "webhook_events", bravo); n != 0 {
			t.Fatalf("bravo's event was queued for acme's endpoint (%d rows)", n)
		}
		list, err := svc.List(ctx, bravo)
		if err != nil || len(list) != 0 {
			t.Fatalf("bravo lists %d endpoints (%v)", len(list), err)
		}
		acmeList, _ := svc.List(ctx, acme)
		if _, err := svc.Get(ctx, bravo, acmeList[0].ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo reads acme's endpoint: %v", err)
		}
		if err := svc.SetEnabled(ctx, bravo, acmeList[0].ID, false); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo disables acme's endpoint: %v", err)
		}
		if err := svc.Delete(ctx, bravo, acmeList[0].ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("bravo deletes acme's endpoint: %v", err)
		}
	})
	t.Run("disabled endpoint", func(t *testing.T) {
		list, _ := svc.List(ctx, acme)
		if err := svc.SetEnabled(ctx, acme, list[0].ID, false); err != nil {
			t.Fatal(err)
		}
		if err := emit(svc, d, acme, webhooks.CustomerCreated, nil); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, "webhook_deliveries", acme); n != 1 {
			t.Fatalf("a disabled endpoint got a delivery (%d)", n)
		}
	})
}

// TestEndpointRules: production endpoints must be https and name a host;
// bad input names the field.
func TestEndpointRules(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	acme := mustTenant(t, d, "acme")
	prod := newService(t, d, http.DefaultClient, false)
	for _, c := range []struct {
		name, url, field string
		events           []string
	}{
		{"http in production", "http://hooks.example.com/x", "url", []string{webhooks.CustomerCreated}},
		{"no host", "https:///x", "url", []string{webhooks.CustomerCreated}},
		{"credentials", "https://u:p@hooks.example.com/x", "url", []string{webhooks.CustomerCreated}},
		{"no events", "https://hooks.example.com/x", "events", nil},
		{"unknown event", "https://hooks.example.com/x", "events", []string{"customer.exploded"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := prod.Create(ctx, acme, webhooks.New{URL: c.url, Events: c.events})
			if e, ok := apperr.As(err); !ok || e.Field != c.field {
				t.Fatalf("%v, want an error on %s", err, c.field)
			}
		})
	}
	e, secret, err := prod.Create(ctx, acme, webhooks.New{URL: "https://hooks.example.com/x", Events: []string{webhooks.CustomerCreated, webhooks.CustomerCreated}})
	if err != nil || !strings.HasPrefix(secret, "whsec_") || len(e.Events) != 1 {
		t.Fatalf("https endpoint: %v %q %v", err, secret, e.Events)
	}
	if _, err := prod.Rotate(ctx, acme, e.ID, -1); err == nil {
		t.Fatal("a negative overlap was accepted")
	}
}

// TestDeliveryRefusesLoopbackInProduction: with the production outbound
// client, an endpoint whose address is loopback is refused when the
// connection is dialled, and the receiver never hears a thing.
func TestDeliveryRefusesLoopbackInProduction(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	acme := mustTenant(t, d, "acme")
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer recv.Close()
	// Registered while http is allowed (as in --dev), delivered by the
	// production client, as a name that resolves to loopback would be.
	svc := newService(t, d, outbound.New(outbound.Options{}), true)
	if _, _, err := svc.Create(ctx, acme, webhooks.New{URL: recv.URL, Events: []string{webhooks.CustomerCreated}}); err != nil {
		t.Fatal(err)
	}
	if err := emit(svc, d, acme, webhooks.CustomerCreated, nil); err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := d.Gorm.Table("webhook_deliveries").Where("tenant_id = ?", acme).Pluck("id", &ids).Error; err != nil || len(ids) != 1 {
		t.Fatal(err, ids)
	}
	id := uuid.MustParse(ids[0])
	if err := svc.DeliverWebhook(ctx, jobs.WebhookDelivery{TenantID: acme, DeliveryID: id}); err == nil {
		t.Fatal("delivered to loopback")
	}
	var lastError string
	d.Gorm.Table("webhook_deliveries").Where("id = ?", id).Select("last_error").Scan(&lastError)
	if hits.Load() != 0 || lastError == "" {
		t.Fatalf("receiver hit %d times, last error %q", hits.Load(), lastError)
	}
	// Another tenant cannot run acme's delivery.
	bravo := mustTenant(t, d, "bravo")
	if err := svc.DeliverWebhook(ctx, jobs.WebhookDelivery{TenantID: bravo, DeliveryID: id}); err != nil {
		t.Fatalf("bravo's payload naming acme's delivery: %v", err)
	}
	var attempts int
	d.Gorm.Table("webhook_deliveries").Where("id = ?", id).Select("attempts").Scan(&attempts)
	if attempts != 1 {
		t.Fatalf("%d attempts; bravo's task made one", attempts)
	}
}
