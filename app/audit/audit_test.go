package audit_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/tenants"
)

func TestAuditIsTenantScoped(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := apptest.MigratedDB(t)
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "A"})
	b, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "B"})
	r := audit.NewRecorder(d.Gorm, quiet)
	for i, action := range []string{"customer.login", "customer.login.failed", "customer.login"} {
		if err := r.Record(ctx, audit.Event{TenantID: a.ID, Actor: "customer:1", Action: action, Target: "ann@example.com", Detail: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	_ = r.Record(ctx, audit.Event{TenantID: b.ID, Actor: "customer:2", Action: "customer.login", Target: "bob@example.com"})

	t.Run("filter and order", func(t *testing.T) {
		events, ids, err := r.List(ctx, a.ID, audit.Filter{Action: "customer.login"})
		if err != nil || len(events) != 2 || len(ids) != 2 || events[0].Detail["n"] != float64(2) {
			t.Fatalf("List = %+v, %v", events, err)
		}
		older, _, _ := r.List(ctx, a.ID, audit.Filter{Before: ids[0]})
		if len(older) != 2 {
			t.Fatalf("keyset page: %d events", len(older))
		}
		if none, _, _ := r.List(ctx, a.ID, audit.Filter{From: time.Now().Add(time.Hour)}); len(none) != 0 {
			t.Fatal("date filter ignored")
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		events, _, _ := r.List(ctx, b.ID, audit.Filter{})
		if len(events) != 1 || events[0].Target != "bob@example.com" {
			t.Fatalf("bravo sees %+v", events)
		}
	})
}
