package oidc_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"gatehouse/app/accounts"
	"gatehouse/app/apps"
	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/db"
	"gatehouse/app/oidc"
	"gatehouse/tenants"
)

// issueWorld is two tenants, each with a web app and a customer, and a
// storage whose audit events are kept for the test to read.
type issueWorld struct {
	d       *db.DB
	storage *oidc.Storage
	audit   *keptEvents
	tenant  map[string]*tenants.Tenant
	app     map[string]apps.App
	cust    map[string]uuid.UUID
}

func newIssueWorld(t *testing.T) *issueWorld {
	t.Helper()
	d := apptest.MigratedDB(t)
	store := apps.NewStore(d.Gorm)
	w := &issueWorld{d: d, audit: &keptEvents{}, tenant: map[string]*tenants.Tenant{}, app: map[string]apps.App{}, cust: map[string]uuid.UUID{}}
	w.storage = oidc.NewStorage(oidc.StorageDeps{
		DB: d.Gorm, Apps: store, Keys: oidc.NewKeys(d.Gorm, mustBox(t)), Customers: activeCustomers{}, Audit: w.audit,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	now := time.Now().UTC()
	for _, slug := range []string{"acme", "bravo"} {
		id := mustTenant(t, d, slug)
		w.tenant[slug] = &tenants.Tenant{ID: id, Slug: slug}
		a, _, err := store.For(id).Create(context.Background(), apps.New{Name: "Shop", Type: apps.Web, RedirectURIs: []string{"https://shop.example/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		w.app[slug] = a
		w.cust[slug] = uuid.Must(uuid.NewV7())
		mustInsert(t, d, "customers", map[string]any{"id": w.cust[slug], "tenant_id": id, "email": slug + "@example.com", "created_at": now, "updated_at": now})
	}
	return w
}

func (w *issueWorld) ctx(slug string) context.Context {
	return tenants.WithTenant(context.Background(), w.tenant[slug])
}

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// refreshToken stores a live refresh token of slug's customer and returns
// it with its row id and family.
func (w *issueWorld) refreshToken(t *testing.T, slug string) (token string, id, family uuid.UUID) {
	t.Helper()
	now := time.Now().UTC()
	token, id, family = "ghr_"+uuid.NewString(), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	mustInsert(t, w.d, "oidc_refresh_tokens", map[string]any{"id": id, "tenant_id": w.tenant[slug].ID, "app_id": w.app[slug].ID,
		"customer_id": w.cust[slug], "family_id": family, "token_hash": tokenHash(token), "scopes": []byte(`["openid","offline_access"]`),
		"amr": "pwd", "auth_time": now, "created_at": now, "expires_at": now.Add(time.Hour)})
	return token, id, family
}

// code stores a signed-in authorization request of slug's customer with a
// live code and returns the code and the request's id.
func (w *issueWorld) code(t *testing.T, slug string) (code, requestID string) {
	t.Helper()
	now := time.Now().UTC()
	code, requestID = uuid.NewString(), uuid.NewString()
	req := `{"client_id":"` + w.app[slug].ClientID + `","redirect_uri":"https://shop.example/cb","scopes":["openid","offline_access"],"response_type":"code"}`
	mustInsert(t, w.d, "oidc_auth_requests", map[string]any{"id": requestID, "tenant_id": w.tenant[slug].ID, "app_id": w.app[slug].ID,
		"request": []byte(req), "customer_id": w.cust[slug], "auth_time": now, "amr": "pwd", "done": true,
		"code_hash": tokenHash(code), "code_expires_at": now.Add(time.Minute), "created_at": now, "expires_at": now.Add(10 * time.Minute)})
	return code, requestID
}

func (w *issueWorld) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := w.d.Gorm.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func invalidGrant(err error) bool {
	var oe *zoidc.Error
	return errors.As(err, &oe) && oe.ErrorType == zoidc.InvalidGrant
}

// TestIssueSpendsOnce: the write that issues a grant's tokens spends the
// code or rotates the refresh token they come from, once, on both
// databases. A request that loses the race (it looked the token or code up
// while it was still unspent) writes nothing and revokes what the winner
// got, as a replay does, and the event is audited. The write never spends
// another tenant's code or token.
func TestIssueSpendsOnce(t *testing.T) {
	t.Parallel()
	w := newIssueWorld(t)
	acme := w.ctx("acme")

	t.Run("refresh rotates", func(t *testing.T) {
		tok, id, family := w.refreshToken(t, "acme")
		req, err := w.storage.TokenRequestByRefreshToken(acme, tok)
		if err != nil {
			t.Fatal(err)
		}
		accessID, fresh, _, err := w.storage.CreateAccessAndRefreshTokens(acme, req, tok)
		if err != nil || fresh == "" || fresh == tok {
			t.Fatalf("rotation: %q %v", fresh, err)
		}
		if w.count(t, "oidc_refresh_tokens", "id = ? AND used_at IS NOT NULL", id) != 1 {
			t.Fatal("the old token was not marked used")
		}
		if w.count(t, "oidc_refresh_tokens", "tenant_id = ? AND family_id = ? AND token_hash = ? AND used_at IS NULL AND revoked_at IS NULL",
			w.tenant["acme"].ID, family, tokenHash(fresh)) != 1 {
			t.Fatal("the new token is not a live member of the family in acme")
		}
		if w.count(t, "oidc_access_tokens", "tenant_id = ? AND id = ? AND family_id = ? AND revoked_at IS NULL", w.tenant["acme"].ID, accessID, family) != 1 {
			t.Fatal("the access token is not in the family")
		}
	})

	t.Run("refresh race: the loser writes nothing and revokes the family", func(t *testing.T) {
		tok, _, family := w.refreshToken(t, "acme")
		first, err1 := w.storage.TokenRequestByRefreshToken(acme, tok)
		second, err2 := w.storage.TokenRequestByRefreshToken(acme, tok)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if _, _, _, err := w.storage.CreateAccessAndRefreshTokens(acme, first, tok); err != nil {
			t.Fatal(err)
		}
		events := w.audit.count("oidc.refresh_token.reused")
		if _, _, _, err := w.storage.CreateAccessAndRefreshTokens(acme, second, tok); !invalidGrant(err) {
			t.Fatalf("second rotation: %v", err)
		}
		if n := w.count(t, "oidc_refresh_tokens", "family_id = ?", family); n != 2 {
			t.Fatalf("%d refresh tokens in the family, want the old one and the winner's", n)
		}
		if n := w.count(t, "oidc_access_tokens", "family_id = ?", family); n != 1 {
			t.Fatalf("%d access tokens in the family, want the winner's", n)
		}
		if n := w.count(t, "oidc_refresh_tokens", "family_id = ? AND revoked_at IS NULL", family) + w.count(t, "oidc_access_tokens", "family_id = ? AND revoked_at IS NULL", family); n != 0 {
			t.Fatalf("%d tokens of the family survived", n)
		}
		if w.audit.count("oidc.refresh_token.reused") != events+1 {
			t.Fatal("the reuse was not audited")
		}
	})

	t.Run("refresh under concurrent rotations: one wins", func(t *testing.T) {
		tok, _, family := w.refreshToken(t, "acme")
		const n = 6
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		start := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				req, err := w.storage.TokenRequestByRefreshToken(acme, tok)
				if err != nil {
					return
				}
				if _, _, _, err := w.storage.CreateAccessAndRefreshTokens(acme, req, tok); err == nil {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d of %d rotations of one token succeeded, want 1", won, n)
		}
		if n := w.count(t, "oidc_refresh_tokens", "family_id = ?", family); n != 2 {
			t.Fatalf("%d refresh tokens in the family, want 2", n)
		}
		if w.count(t, "oidc_refresh_tokens", "family_id = ? AND revoked_at IS NULL", family) != 0 {
			t.Fatal("the family survived the reuse")
		}
	})

	t.Run("code race: the loser writes nothing and revokes what the code issued", func(t *testing.T) {
		code, reqID := w.code(t, "acme")
		first, err1 := w.storage.AuthRequestByCode(acme, code)
		second, err2 := w.storage.AuthRequestByCode(acme, code)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if _, _, _, err := w.storage.CreateAccessAndRefreshTokens(acme, first, ""); err != nil {
			t.Fatal(err)
		}
		if w.count(t, "oidc_auth_requests", "id = ? AND code_used_at IS NOT NULL", reqID) != 1 {
			t.Fatal("the code was not spent")
		}
		events := w.audit.count("oidc.code.replayed")
		if _, _, _, err := w.storage.CreateAccessAndRefreshTokens(acme, second, ""); !invalidGrant(err) {
			t.Fatalf("second exchange: %v", err)
		}
		if n := w.count(t, "oidc_refresh_tokens", "auth_request_id = ?", reqID) + w.count(t, "oidc_access_tokens", "auth_request_id = ?", reqID); n != 2 {
			t.Fatalf("%d tokens for the code, want the winner's two", n)
		}
		if n := w.count(t, "oidc_refresh_tokens", "auth_request_id = ? AND revoked_at IS NULL", reqID) + w.count(t, "oidc_access_tokens", "auth_request_id = ? AND revoked_at IS NULL", reqID); n != 0 {
			t.Fatalf("%d tokens of the code survived", n)
		}
		if w.audit.count("oidc.code.replayed") != events+1 {
			t.Fatal("the replay was not audited")
		}
	})

	t.Run("code without a refresh token", func(t *testing.T) {
		code, reqID := w.code(t, "acme")
		req, err := w.storage.AuthRequestByCode(acme, code)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.storage.CreateAccessToken(acme, req); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.storage.CreateAccessToken(acme, req); !invalidGrant(err) {
			t.Fatalf("second exchange: %v", err)
		}
		if w.count(t, "oidc_access_tokens", "auth_request_id = ?", reqID) != 1 || w.count(t, "oidc_access_tokens", "auth_request_id = ? AND revoked_at IS NULL", reqID) != 0 {
			t.Fatal("want the one access token of the code, revoked by the replay")
		}
	})

	t.Run("other tenant's refresh token is not rotated", func(t *testing.T) {
		tok, id, _ := w.refreshToken(t, "acme")
		bravo := w.ctx("bravo")
		if _, err := w.storage.TokenRequestByRefreshToken(bravo, tok); err == nil {
			t.Fatal("bravo found acme's refresh token")
		}
		before := w.count(t, "oidc_refresh_tokens", "tenant_id = ?", w.tenant["bravo"].ID)
		err := w.storage.WriteGrant(bravo, w.tenant["bravo"], "refresh", id.String(), w.app["bravo"].ID, w.cust["bravo"])
		if !errors.Is(err, oidc.ErrRefreshSpent) {
			t.Fatalf("bravo's write with acme's token: %v", err)
		}
		if w.count(t, "oidc_refresh_tokens", "id = ? AND used_at IS NULL", id) != 1 {
			t.Fatal("bravo's write spent acme's token")
		}
		if w.count(t, "oidc_refresh_tokens", "tenant_id = ?", w.tenant["bravo"].ID) != before {
			t.Fatal("bravo's write inserted tokens")
		}
		if _, err := w.storage.TokenRequestByRefreshToken(acme, tok); err != nil {
			t.Fatalf("acme's token after bravo's attempt: %v", err)
		}
	})

	t.Run("other tenant's code is not spent", func(t *testing.T) {
		code, reqID := w.code(t, "acme")
		bravo := w.ctx("bravo")
		if _, err := w.storage.AuthRequestByCode(bravo, code); err == nil {
			t.Fatal("bravo found acme's code")
		}
		before := w.count(t, "oidc_access_tokens", "tenant_id = ?", w.tenant["bravo"].ID)
		err := w.storage.WriteGrant(bravo, w.tenant["bravo"], "code", reqID, w.app["bravo"].ID, w.cust["bravo"])
		if !errors.Is(err, oidc.ErrCodeSpent) {
			t.Fatalf("bravo's write with acme's code: %v", err)
		}
		if w.count(t, "oidc_auth_requests", "id = ? AND code_used_at IS NULL", reqID) != 1 {
			t.Fatal("bravo's write spent acme's code")
		}
		if w.count(t, "oidc_access_tokens", "tenant_id = ?", w.tenant["bravo"].ID) != before {
			t.Fatal("bravo's write inserted tokens")
		}
	})
}

// activeCustomers answers that every customer is active, as the accounts
// service would for the customers these tests insert.
type activeCustomers struct{}

func (activeCustomers) Customer(_ context.Context, t *tenants.Tenant, id uuid.UUID) (*accounts.Customer, error) {
	return &accounts.Customer{ID: id, TenantID: t.ID, Status: accounts.StatusActive}, nil
}

// keptEvents is an Auditor that keeps what it is given.
type keptEvents struct {
	mu     sync.Mutex
	events []audit.Event
}

func (k *keptEvents) Record(_ context.Context, e audit.Event) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.events = append(k.events, e)
	return nil
}

func (k *keptEvents) count(action string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, e := range k.events {
		if e.Action == action {
			n++
		}
	}
	return n
}
