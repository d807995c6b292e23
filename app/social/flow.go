package social

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/accounts"
	"gatehouse/app/audit"
	"gatehouse/app/outbound"
	"gatehouse/app/socialapps"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// FlowTTL is how long a started sign-in may take to come back.
const FlowTTL = 10 * time.Minute

// Service runs social sign-in flows.
type Service struct {
	reg      *registry
	apps     Apps
	client   *http.Client
	audit    Auditor
	rdb      redis.UniversalClient
	prefix   string
	accounts *accounts.Service
	links    accounts.Links
	log      *slog.Logger

	mu      sync.Mutex
	buttons map[uuid.UUID]cachedApps
}

// NewService returns the social sign-in service. client makes every call to
// providers (discovery, JWKS, token, profile): it is the outbound client,
// which refuses private and loopback addresses at dial time. nil means the
// guarded production client.
func NewService(apps Apps, client *http.Client, rdb redis.UniversalClient, prefix string, acct *accounts.Service, links accounts.Links, rec Auditor, log *slog.Logger) *Service {
	if client == nil {
		client = outbound.New(outbound.Options{})
	}
	return &Service{
		reg:  &registry{apps: apps, client: client, now: time.Now, cache: map[string]cached{}},
		apps: apps, client: client, rdb: rdb, prefix: prefix + "social:", accounts: acct, links: links, audit: rec, log: log,
		buttons: map[uuid.UUID]cachedApps{},
	}
}

// Auditor records security events; audit.Recorder is one.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// FailedAction is the audit action of a federated sign-in that failed at
// the provider's end; its detail carries the reason.
const FailedAction = "social.failed"

// failed logs and audits a sign-in that failed at the provider's end, so
// the admin can tell a wrong secret from a provider that is down. Errors
// that are the customer's (a stale state, a refused consent) are not
// federation failures and are not reported here.
func (s *Service) failed(ctx context.Context, t *tenants.Tenant, kind string, err error, ip string) {
	f, ok := failureOf(err)
	if !ok {
		return
	}
	s.log.Warn("social_failed", "tenant_id", t.ID, "provider", kind, "reason", f.Reason, "error", f.Detail)
	if s.audit != nil {
		_ = s.audit.Record(context.WithoutCancel(ctx), audit.Event{TenantID: t.ID, Actor: "anonymous", Action: FailedAction, Target: kind, IP: ip,
			Detail: map[string]any{"reason": f.Reason, "detail": f.Detail}})
	}
}

// pending is a started flow, kept in Redis under its state.
type pending struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	Kind       string    `json:"kind"`
	Nonce      string    `json:"nonce"`
	Verifier   string    `json:"verifier"`
	ReturnTo   string    `json:"return_to"`
	Link       bool      `json:"link"`        // linking to the signed-in customer
	CustomerID uuid.UUID `json:"customer_id"` // who is linking
	Browser    string    `json:"browser"`     // SHA-256 of the browser-binding cookie
}

func random() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Start begins a sign-in (or, with linkTo, a link) with kind on tenant t.
// It returns the provider URL to send the browser to and the value of the
// browser-binding cookie to set, so a state cannot be finished in another
// browser (login CSRF).
func (s *Service) Start(ctx context.Context, t *tenants.Tenant, kind, returnTo string, linkTo *accounts.Customer) (redirect, browser string, formPost bool, err error) {
	k, err := socialapps.ParseKind(kind)
	if err != nil {
		return "", "", false, err
	}
	p, err := s.reg.get(ctx, t.ID, k, s.callback(t, kind))
	if err != nil {
		s.failed(ctx, t, kind, err, "")
		return "", "", false, err
	}
	f := flow{State: random(), Nonce: random(), Verifier: random()}
	browser = random()
	st := pending{TenantID: t.ID, Kind: kind, Nonce: f.Nonce, Verifier: f.Verifier, ReturnTo: returnTo, Browser: hash(browser)}
	if linkTo != nil {
		st.Link, st.CustomerID = true, linkTo.ID
	}
	b, _ := json.Marshal(st)
	if err := s.rdb.Set(ctx, s.prefix+"flow:"+hash(f.State), b, FlowTTL).Err(); err != nil {
		return "", "", false, apperr.Wrap(err, "store social flow")
	}
	return p.authURL(f), browser, p.formPost(), nil
}

func (s *Service) callback(t *tenants.Tenant, kind string) string {
	return s.links(t, "/social/"+kind+"/callback")
}

// errState covers a missing, tampered, replayed, expired or foreign state:
// the flow cannot be trusted, and the customer starts again.
var errState = apperr.New(apperr.Invalid, "That sign-in attempt expired or was not started here. Please try again.")

// Result is how a callback ended.
type Result struct {
	Customer *accounts.Customer
	ReturnTo string
	Linked   bool // a provider was linked to the signed-in customer
	// PendingLink is set when the provider's verified email belongs to an
	// existing account: the customer confirms with its password at
	// /social/link?token=PendingLink.
	PendingLink string
}

// Finish completes a flow: it takes the state (once), checks it belongs to
// this tenant, provider and browser, exchanges the code, verifies what the
// provider says, and signs in, links, or asks for a link confirmation.
func (s *Service) Finish(ctx context.Context, t *tenants.Tenant, kind, state, code, browser string, current *accounts.Customer, r accounts.Request) (Result, error) {
	if state == "" || len(state) > 200 {
		return Result{}, errState
	}
	b, err := s.rdb.GetDel(ctx, s.prefix+"flow:"+hash(state)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Result{}, errState
	}
	if err != nil {
		return Result{}, apperr.Wrap(err, "read social flow")
	}
	var st pending
	if err := json.Unmarshal(b, &st); err != nil {
		return Result{}, errState
	}
	if st.TenantID != t.ID || st.Kind != kind || browser == "" || st.Browser != hash(browser) {
		return Result{}, errState
	}
	k, _ := socialapps.ParseKind(kind)
	p, err := s.reg.get(ctx, t.ID, k, s.callback(t, kind))
	if err != nil {
		s.failed(ctx, t, kind, err, r.IP)
		return Result{}, err
	}
	cl, err := p.exchange(ctx, code, flow{State: state, Nonce: st.Nonce, Verifier: st.Verifier})
	if err != nil {
		s.failed(ctx, t, kind, err, r.IP)
		return Result{}, err
	}
	res := Result{ReturnTo: st.ReturnTo}
	if st.Link {
		if current == nil || current.ID != st.CustomerID {
			return Result{}, errState
		}
		if err := s.accounts.LinkIdentity(ctx, t, current, cl, r); err != nil {
			return Result{}, err
		}
		res.Customer, res.Linked = current, true
		return res, nil
	}
	c, err := s.accounts.SocialSignIn(ctx, t, cl, r)
	var lr *accounts.LinkRequired
	if errors.As(err, &lr) && lr.Verified {
		cl.Email = lr.Email // normalised, as the account has it
		token := random()
		pb, _ := json.Marshal(pendingLink{TenantID: t.ID, Claims: cl, ReturnTo: st.ReturnTo})
		if err := s.rdb.Set(ctx, s.prefix+"link:"+hash(token), pb, FlowTTL).Err(); err != nil {
			return Result{}, apperr.Wrap(err, "store pending link")
		}
		res.PendingLink = token
		return res, nil
	}
	if err != nil {
		return Result{}, err
	}
	res.Customer = c
	return res, nil
}

// pendingLink is a provider identity waiting for the customer to prove the
// existing account with its password.
type pendingLink struct {
	TenantID uuid.UUID       `json:"tenant_id"`
	Claims   accounts.Claims `json:"claims"`
	ReturnTo string          `json:"return_to"`
}

// PendingLink reads a waiting link without using it, for the confirm page.
func (s *Service) PendingLink(ctx context.Context, t *tenants.Tenant, token string) (accounts.Claims, error) {
	pl, err := s.pendingLink(ctx, t, token, false)
	return pl.Claims, err
}

func (s *Service) pendingLink(ctx context.Context, t *tenants.Tenant, token string, take bool) (pendingLink, error) {
	if token == "" || len(token) > 200 {
		return pendingLink{}, errState
	}
	key := s.prefix + "link:" + hash(token)
	var (
		b   []byte
		err error
	)
	if take {
		b, err = s.rdb.GetDel(ctx, key).Bytes()
	} else {
		b, err = s.rdb.Get(ctx, key).Bytes()
	}
	if err != nil {
		return pendingLink{}, errState
	}
	var pl pendingLink
	if json.Unmarshal(b, &pl) != nil || pl.TenantID != t.ID {
		return pendingLink{}, errState
	}
	return pl, nil
}

// ConfirmLink links the waiting identity once the password is right. A
// wrong password leaves the link waiting (and counts as a failed login).
func (s *Service) ConfirmLink(ctx context.Context, t *tenants.Tenant, token, password string, r accounts.Request) (*accounts.Customer, string, error) {
	pl, err := s.pendingLink(ctx, t, token, false)
	if err != nil {
		return nil, "", err
	}
	c, err := s.accounts.ConfirmLink(ctx, t, pl.Claims, password, r)
	if err != nil {
		return nil, "", err
	}
	_, _ = s.pendingLink(ctx, t, token, true)
	return c, pl.ReturnTo, nil
}

// Buttons lists the tenant's enabled providers as sign-in buttons. The
// list is cached per version of the tenant snapshot: the console touches
// the tenant when it saves a social app, so a change shows at once.
func (s *Service) Buttons(ctx context.Context, t *tenants.Tenant, returnTo string) []views.Provider {
	apps, err := s.enabled(ctx, t)
	if err != nil {
		s.log.Warn("social_buttons_failed", "tenant_id", t.ID, "error", err)
		return nil
	}
	out := make([]views.Provider, 0, len(apps))
	for _, a := range apps {
		name := a.Kind.Label()
		if a.Kind == socialapps.OIDC || a.Kind == socialapps.OAuth2 {
			name = accounts.BrandAccount(t)
		}
		u := "/social/" + string(a.Kind)
		if returnTo != "" {
			u += "?return_to=" + url.QueryEscape(returnTo)
		}
		out = append(out, views.Provider{Key: string(a.Kind), Name: name, URL: u})
	}
	return out
}

func (s *Service) enabled(ctx context.Context, t *tenants.Tenant) ([]socialapps.App, error) {
	s.mu.Lock()
	c, ok := s.buttons[t.ID]
	s.mu.Unlock()
	if ok && c.version.Equal(t.UpdatedAt) {
		return c.apps, nil
	}
	apps, err := s.apps.Enabled(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.buttons[t.ID] = cachedApps{version: t.UpdatedAt, apps: apps}
	s.mu.Unlock()
	return apps, nil
}

type cachedApps struct {
	version time.Time
	apps    []socialapps.App
}

// MailLink spends a waiting link's token and mails the account's address
// a link that finishes it: with brand login only there is no password to
// confirm with, and the mailbox is the proof instead. It returns the
// claims, for the "check your inbox" page.
func (s *Service) MailLink(ctx context.Context, t *tenants.Tenant, token string) (accounts.Claims, error) {
	if !t.Settings.BrandLoginOnly {
		return accounts.Claims{}, apperr.New(apperr.Forbidden, "Please confirm with your password.")
	}
	pl, err := s.pendingLink(ctx, t, token, true)
	if err != nil {
		return accounts.Claims{}, err
	}
	mt := random()
	b, _ := json.Marshal(pl)
	if err := s.rdb.Set(ctx, s.prefix+"linkmail:"+hash(mt), b, accounts.LinkMailTTL).Err(); err != nil {
		return accounts.Claims{}, apperr.Wrap(err, "store mailed link")
	}
	link := s.links(t, "/social/link/mail?token="+url.QueryEscape(mt))
	if err := s.accounts.SendLinkMail(ctx, t, pl.Claims.Email, accounts.MethodName(t, pl.Claims.Provider), link); err != nil {
		return accounts.Claims{}, err
	}
	return pl.Claims, nil
}

// mailedLink reads (or, with take, spends) a mailed link's token.
func (s *Service) mailedLink(ctx context.Context, t *tenants.Tenant, token string, take bool) (pendingLink, error) {
	if token == "" || len(token) > 200 {
		return pendingLink{}, errState
	}
	key := s.prefix + "linkmail:" + hash(token)
	var (
		b   []byte
		err error
	)
	if take {
		b, err = s.rdb.GetDel(ctx, key).Bytes()
	} else {
		b, err = s.rdb.Get(ctx, key).Bytes()
	}
	if err != nil {
		return pendingLink{}, errState
	}
	var pl pendingLink
	if json.Unmarshal(b, &pl) != nil || pl.TenantID != t.ID {
		return pendingLink{}, errState
	}
	return pl, nil
}

// MailedLink reads a mailed link without using it, for its confirm page:
// a mail scanner that follows the link changes nothing.
func (s *Service) MailedLink(ctx context.Context, t *tenants.Tenant, token string) (accounts.Claims, error) {
	pl, err := s.mailedLink(ctx, t, token, false)
	return pl.Claims, err
}

// ConfirmMailedLink spends a mailed link and attaches its identity to the
// account with its address, returning the customer to sign in.
func (s *Service) ConfirmMailedLink(ctx context.Context, t *tenants.Tenant, token string, r accounts.Request) (*accounts.Customer, string, error) {
	pl, err := s.mailedLink(ctx, t, token, true)
	if err != nil {
		return nil, "", err
	}
	c, err := s.accounts.LinkByMail(ctx, t, pl.Claims, r)
	if err != nil {
		return nil, "", err
	}
	return c, pl.ReturnTo, nil
}
