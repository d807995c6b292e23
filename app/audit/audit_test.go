package audit_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

func TestRecordTakesTheClientFromTheContext(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := apptest.MigratedDB(t)
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "A"})
	r := audit.NewRecorder(d.Gorm, quiet)
	cctx := audit.WithClient(ctx, audit.Client{IP: "203.0.113.7", UserAgent: macChrome})
	if err := r.Record(cctx, audit.Event{TenantID: a.ID, Actor: "staff:a@example.com", Action: "theme.updated"}); err != nil {
		t.Fatal(err)
	}
	// A call site that knows better keeps its own values.
	if err := r.Record(cctx, audit.Event{TenantID: a.ID, Actor: "system", Action: "campaign.finished", IP: "198.51.100.1", UserAgent: "curl/8.5.0"}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 300)
	if err := r.Record(audit.WithClient(ctx, audit.Client{UserAgent: long}), audit.Event{TenantID: a.ID, Actor: "system", Action: "x.y"}); err != nil {
		t.Fatal(err)
	}
	events, _, err := r.List(ctx, a.ID, audit.Filter{})
	if err != nil || len(events) != 3 {
		t.Fatalf("List = %+v, %v", events, err)
	}
	if got := events[0].UserAgent; len(got) > 256 || !utf8.ValidString(got) || got == "" {
		t.Errorf("long user agent kept as %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if e := events[1]; e.IP != "198.51.100.1" || e.UserAgent != "curl/8.5.0" {
		t.Errorf("explicit client overridden: %+v", e)
	}
	if e := events[2]; e.IP != "203.0.113.7" || e.UserAgent != macChrome {
		t.Errorf("context client not recorded: %+v", e)
	}
}

const macChrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func TestDeviceName(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{macChrome, "Chrome on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36 EdgA/131.0.2903.48", "Edge on Android"},
		{"curl/8.5.0", "curl"},
		{"Go-http-client/1.1", "Go-http-client"},
		{"", ""},
		{"   ", ""},
	} {
		if got := audit.DeviceName(c.ua); got != c.want {
			t.Errorf("DeviceName(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
}
