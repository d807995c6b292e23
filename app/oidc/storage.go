package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/app/apps"
	"gatehouse/app/audit"
	"gatehouse/app/sessions"
	"gatehouse/tenants"
)

// Customers is what the provider needs from accounts: the customer a token
// or an auth request names, within the tenant.
type Customers interface {
	Customer(ctx context.Context, t *tenants.Tenant, id uuid.UUID) (*accounts.Customer, error)
}

// Sessions is what the provider needs from the customer sessions: the
// session behind a browser (its sign-in time), and ending it on logout.
type Sessions interface {
	Lookup(ctx context.Context, token string, kind sessions.Kind, tenantID uuid.UUID, host string) (sessions.Session, error)
	Revoke(ctx context.Context, token string) error
}

// Auditor records security events.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Storage implements op.Storage over our own tables. Every method takes the
// tenant from the request context, where the host middleware put it.
type Storage struct {
	db        *gorm.DB
	apps      *apps.Store
	keys      *Keys
	customers Customers
	sessions  Sessions
	audit     Auditor
	queue     LogoutQueue
	outbound  *http.Client
	log       *slog.Logger
	now       func() time.Time
	verified  *verifiedTokens
}

var (
	_ op.Storage                        = (*Storage)(nil)
	_ op.ClientCredentialsStorage       = (*Storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*Storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*Storage)(nil)
)

// StorageDeps are the storage's collaborators.
type StorageDeps struct {
	DB        *gorm.DB
	Apps      *apps.Store
	Keys      *Keys
	Customers Customers
	Sessions  Sessions
	Audit     Auditor
	// Queue takes the back-channel logout tokens to send, and Outbound
	// (the guarded client of app/outbound) sends them.
	Queue    LogoutQueue
	Outbound *http.Client
	Log      *slog.Logger
}

// NewStorage returns the provider's storage.
func NewStorage(d StorageDeps) *Storage {
	return &Storage{
		db: d.DB, apps: d.Apps, keys: d.Keys, customers: d.Customers, sessions: d.Sessions, audit: d.Audit, log: d.Log,
		queue: d.Queue, outbound: d.Outbound,
		now:      func() time.Time { return time.Now().UTC() },
		verified: newVerifiedTokens(),
	}
}

// Health is the provider's readiness probe; /readyz covers the database.
func (s *Storage) Health(context.Context) error { return nil }

// tenantOf is the tenant of the host this request came to. The provider is
// mounted behind the tenant middleware, so a request without one is a bug.
func tenantOf(ctx context.Context) (*tenants.Tenant, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok || t == nil || t.ID == uuid.Nil {
		return nil, oidc.ErrServerError().WithDescription("no tenant")
	}
	return t, nil
}

// requestState is per-request scratch space the handler puts in the
// context: op calls SigningKey without saying for which client, so the
// client lookup notes the app's algorithm here. It also remembers the apps
// and customers this request has loaded: op asks for the same client three
// or four times in one token request, and for the same customer twice.
// Nothing outlives the request, so a change to an app or a customer is
// seen by the next one.
type requestState struct {
	alg          string
	sessionToken string // the browser's session cookie, for end_session
	host         string
	apps         map[string]apps.App
	customers    map[uuid.UUID]*accounts.Customer
	// The client credentials the token request carries, read before op
	// asks for the client, so that the app and its secrets are read in one
	// query; authenticated is set once they matched.
	clientID, clientSecret string
	authenticated          bool
	// token is the introspected token, read with the client's secrets.
	token *prefetchedToken
}

type stateKey struct{}

func withState(ctx context.Context, st *requestState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// customer is the tenant's customer, loaded once per request.
func (s *Storage) customer(ctx context.Context, t *tenants.Tenant, id uuid.UUID) (*accounts.Customer, error) {
	st := stateOf(ctx)
	if st != nil {
		if c, ok := st.customers[id]; ok {
			return c, nil
		}
	}
	c, err := s.customers.Customer(ctx, t, id)
	if err != nil {
		return nil, err
	}
	if st != nil {
		if st.customers == nil {
			st.customers = map[uuid.UUID]*accounts.Customer{}
		}
		st.customers[id] = c
	}
	return c, nil
}

// joinedCustomer is the customer read along with a token or a code
// (accounts.JoinedCustomer), kept for the rest of the request as customer
// keeps the ones it reads.
func (s *Storage) joinedCustomer(ctx context.Context, t *tenants.Tenant, j accounts.JoinedCustomer) (*accounts.Customer, error) {
	c, err := j.Customer(t.ID)
	if err != nil {
		return nil, err
	}
	if st := stateOf(ctx); st != nil {
		if st.customers == nil {
			st.customers = map[uuid.UUID]*accounts.Customer{}
		}
		st.customers[c.ID] = c
	}
	return c, nil
}

func (s *Storage) record(ctx context.Context, t *tenants.Tenant, actor, action, target string, detail map[string]any) {
	if s.audit == nil {
		return
	}
	_ = s.audit.Record(ctx, audit.Event{TenantID: t.ID, Actor: actor, Action: action, Target: target, Detail: detail})
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func jsonList(s []string) []byte {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return b
}

func unjsonList(b []byte) []string {
	var s []string
	_ = json.Unmarshal(b, &s)
	return s
}
