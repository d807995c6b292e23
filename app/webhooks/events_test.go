package webhooks_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/app/webhooks"
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
