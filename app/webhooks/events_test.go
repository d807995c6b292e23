package webhooks_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/imports"
	"gatehouse/app/webhooks"
	"gatehouse/tenants"
)

// TestCustomerWritesReportEvents: each write of the accounts store, wired
// with the webhooks service as app wires it, leaves its event for the
// tenant's endpoint in the same transaction; a write that fails leaves none.
func TestCustomerWritesReportEvents(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	acme, bravo := mustTenant(t, d, "acme"), mustTenant(t, d, "bravo")
	svc := newService(t, d, http.DefaultClient, false)
	if _, _, err := svc.Create(ctx, acme, webhooks.New{URL: "https://hooks.example.com/a", Events: webhooks.EventTypes}); err != nil {
		t.Fatal(err)
	}
	store := accounts.NewStore(d.Gorm).WithEvents(svc)
	now := time.Now().UTC()
	c := &accounts.Customer{ID: uuid.Must(uuid.NewV7()), Email: "ana@example.com", Status: accounts.StatusActive, Profile: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	s := store.For(acme)
	steps := []struct {
		want string
		do   func() error
	}{
		{webhooks.CustomerCreated, func() error { return s.Create(ctx, c) }},
		{webhooks.CustomerUpdated, func() error { return s.SetProfile(ctx, c.ID, map[string]any{"first_name": "Ana"}) }},
		{webhooks.CustomerPasswordChanged, func() error { return s.SetPasswordHash(ctx, c.ID, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA") }},
		{webhooks.CustomerLogin, func() error { return s.RecordLogin(ctx, c.ID, now, "") }},
		{webhooks.IdentityLinked, func() error {
			return s.AddIdentity(ctx, c.ID, accounts.Claims{Provider: "github", Subject: "42", Email: "ana@example.com"})
		}},
		{webhooks.CustomerDisabled, func() error { return s.SetStatus(ctx, c.ID, accounts.StatusDisabled) }},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.want, err)
		}
		var types []string
		d.Gorm.Table("webhook_events").Where("tenant_id = ?", acme).Order("id").Pluck("type", &types)
		if len(types) != i+1 || types[i] != st.want {
			t.Fatalf("after the write for %s, events are %v", st.want, types)
		}
	}
	var body []byte
	d.Gorm.Table("webhook_events").Where("tenant_id = ? AND type = ?", acme, webhooks.CustomerUpdated).Select("body").Row().Scan(&body)
	var p struct {
		Type string                `json:"type"`
		Data accounts.CustomerData `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Data.ID != c.ID || p.Data.Profile["first_name"] != "Ana" {
		t.Fatalf("customer.updated body %s (%v)", body, err)
	}

	t.Run("failed write", func(t *testing.T) {
		dup := *c
		dup.ID = uuid.Must(uuid.NewV7())
		if err := s.Create(ctx, &dup); err == nil {
			t.Fatal("a second account with the same email")
		}
		var n int64
		d.Gorm.Table("webhook_events").Where("tenant_id = ? AND type = ?", acme, webhooks.CustomerCreated).Count(&n)
		if n != 1 {
			t.Fatalf("%d customer.created events; the failed create made one", n)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		if err := store.For(bravo).SetProfile(ctx, c.ID, map[string]any{}); err == nil {
			t.Fatal("bravo changed acme's customer")
		}
		var n int64
		d.Gorm.Table("webhook_events").Where("tenant_id = ?", bravo).Count(&n)
		if n != 0 {
			t.Fatalf("bravo has %d events", n)
		}
	})
}

// TestImportCompletedEvent: a real import run reports import.completed
// with its counts, in the transaction that marks it done; a dry run
// reports nothing.
func TestImportCompletedEvent(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	ts := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	acme, err := ts.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(t, d, http.DefaultClient, false)
	if _, _, err := svc.Create(ctx, acme.ID, webhooks.New{URL: "https://hooks.example.com/a", Events: []string{webhooks.ImportCompleted}}); err != nil {
		t.Fatal(err)
	}
	store, err := imports.NewStore(d.Gorm)
	if err != nil {
		t.Fatal(err)
	}
	imp := imports.NewService(imports.Deps{Store: store.WithEvents(svc), Tenants: ts, Audit: audit.NewRecorder(d.Gorm, quiet), Log: quiet})
	qctx, cancel := context.WithCancel(ctx)
	q := imports.NewLocalQueue(qctx, imp, 1)
	defer func() { cancel(); q.Wait() }()
	imp.SetQueue(q)
	actor := imports.Actor{Name: "test"}
	j, err := imp.Stage(ctx, acme, actor, "c.csv", "", strings.NewReader("email\na@example.com\nb@example.com\nnot-an-email\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := imports.Mapping{Mode: imports.ModeUpsert, Columns: imports.AutoMap(j.Dialect.Columns, nil, false)}
	events := func() []string {
		var bodies []string
		d.Gorm.Table("webhook_events").Where("tenant_id = ? AND type = ?", acme.ID, webhooks.ImportCompleted).Pluck("body", &bodies)
		return bodies
	}
	for _, dry := range []bool{true, false} {
		if _, err := imp.Start(ctx, acme, actor, j.ID, m, dry); err != nil {
			t.Fatal(err)
		}
		q.Wait()
		p, err := imp.Progress(ctx, acme.ID, j.ID)
		if err != nil || p.Job.Status != imports.StatusDone {
			t.Fatalf("pass (dry %v): %v %s", dry, err, p.Job.Status)
		}
		if got := events(); dry && len(got) != 0 {
			t.Fatalf("a dry run reported %v", got)
		}
	}
	got := events()
	var p struct {
		Data imports.CompletedData `json:"data"`
	}
	if len(got) != 1 || json.Unmarshal([]byte(got[0]), &p) != nil || p.Data.JobID != j.ID || p.Data.Created != 2 || p.Data.Rejected != 1 {
		t.Fatalf("import.completed events %v", got)
	}
}
