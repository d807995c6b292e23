package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/app/accounts"
	"gatehouse/app/api"
	"gatehouse/app/apps"
	"gatehouse/app/audit"
	"gatehouse/app/db"
	"gatehouse/app/devshop"
	"gatehouse/app/imports"
	"gatehouse/app/mail"
	"gatehouse/app/oidc"
	"gatehouse/app/outbound"
	"gatehouse/app/passwords"
	"gatehouse/app/ratelimit"
	"gatehouse/app/secrets"
	"gatehouse/app/sessions"
	"gatehouse/app/social"
	"gatehouse/app/socialapps"
	"gatehouse/app/stats"
	"gatehouse/app/tokens"
	"gatehouse/app/web"
	"gatehouse/app/webhooks"
	"gatehouse/app/yield"
	"gatehouse/config"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// services are the long-lived dependencies `serve` builds once, by
// constructor, and hands to the routes. Nothing here is global: a test can
// run two servers in one process.
type services struct {
	cfg         *config.Config
	log         *slog.Logger
	db          *db.DB
	redis       *redisConn
	tenantStore *tenants.Store
	tenants     *tenants.Service
	resolver    *tenants.Resolver
	bus         *tenants.Bus
	queue       *jobs.Client
	relayer     *jobs.Relay // moves queue's outbox rows to asynq; serve and worker run it
	sessions    *sessions.Store
	audit       *audit.Recorder
	limiter     *ratelimit.Limiter
	hasher      *passwords.Hasher
	policy      *passwords.Policy
	box         *secrets.Box
	outbox      *mail.Outbox // the dev outbox; nil when mail goes over SMTP
	metrics     prometheus.Registerer
	tokens      *tokens.Store
	accounts    *accounts.Service
	socialApps  *socialapps.Store
	social      *social.Service
	outbound    *http.Client // every call made on a tenant's behalf
	imports     *imports.Service
	campaigns   *imports.Campaigns
	apps        *apps.Store
	oidc        *oidc.Storage // the OpenID Provider's storage; nil in the bench wiring
	keys        *oidc.Keys    // the tenants' signing keys, which the provider and the console share
	masterKey   []byte
	webhooks    *webhooks.Service
	stats       *stats.Store  // the console overview's counters, rolled up from audit events
	apiLimits   api.Limits    // from GATEHOUSE_API_*_LIMIT
	shop        *devshop.Shop // Demo Coffee Shop on shop.<base-domain>; only with --dev
}

func newServices(cfg *config.Config, log *slog.Logger, database *db.DB, rc *redisConn, metrics prometheus.Registerer) (*services, error) {
	return newServicesWith(cfg, log, database, rc, metrics, Options{})
}

// newServicesWith is newServices with the embedding program's options.
func newServicesWith(cfg *config.Config, log *slog.Logger, database *db.DB, rc *redisConn, metrics prometheus.Registerer, opts Options) (*services, error) {
	key, err := config.ParseSecretKey(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		return nil, err
	}
	s := &services{
		cfg: cfg, log: log, db: database, redis: rc, metrics: metrics,
		tenantStore: tenants.NewStore(database.Gorm),
		sessions:    sessions.NewStore(database.Gorm),
		audit:       audit.NewRecorder(database.Gorm, log),
		hasher:      passwords.NewHasher(passwords.Default, 0, 2*time.Second),
		policy:      passwords.NewPolicy(),
		box:         box,
		limiter:     ratelimit.New(rc.client, rc.prefix, log),
	}
	// Every job a request starts is written to the outbox in the request's
	// transaction; the relay queues it (see docs/architecture.md).
	s.relayer = jobs.NewRelay(database.Gorm, rc.asynq, jobs.RelayOptions{}, log)
	s.queue = jobs.NewClient(rc.asynq).WithOutbox(database.Gorm, s.relayer.Kick)
	s.bus = tenants.NewBus(rc.client, rc.tenantChannel(), log)
	s.tenants = tenants.NewService(s.tenantStore, s.bus, cfg.BaseDomain, log)
	s.resolver = tenants.NewResolver(s.tenantStore, cfg.BaseDomain, tenants.ResolverOptions{})
	s.bus.Local(s.resolver)
	if cfg.SMTPURL == "" {
		s.outbox = mail.NewOutbox(outboxDir(cfg))
	}
	s.tokens = tokens.NewStore(database.Gorm)
	s.outbound = outbound.New(outbound.Options{AllowLoopback: cfg.AllowLoopback(), Resolve: opts.OutboundResolve})
	// Customer and import writes report their webhook events in their own
	// transactions (the outbox); see app/webhooks.
	s.webhooks = webhooks.NewService(webhooks.Deps{
		DB: database.Gorm, Box: box, Client: s.outbound, Notify: &webhookNotices{s: s}, Audit: s.audit, Log: log,
		AllowHTTP: cfg.Dev || cfg.AllowLoopback(),
	})
	customers := accounts.NewStore(database.Gorm).WithEvents(s.webhooks)
	// Campaigns come first: accounts' "Forgot password" hands a customer
	// without any way to sign in the campaigns' set-password link.
	s.campaigns = imports.NewCampaigns(imports.CampaignDeps{
		DB: database.Gorm, Tokens: s.tokens, Accounts: customers, Hasher: s.hasher, Policy: s.policy,
		Queue: s.queue, Tenants: s.tenantStore, Links: imports.Links(s.link), MailFrom: cfg.MailFrom, Audit: s.audit,
	})
	// Device cookies get their own key, derived from the master key, so
	// every node accepts every node's cookies.
	deviceMAC := hmac.New(sha256.New, key)
	deviceMAC.Write([]byte("gatehouse device cookies"))
	grants := &providerGrants{}
	s.accounts = accounts.NewService(accounts.Deps{
		Store: customers, Tokens: s.tokens, Sessions: s.sessions,
		Hasher: s.hasher, Policy: s.policy, Limiter: s.limiter, Audit: s.audit, Queue: s.queue,
		Tenants: s.tenantStore, Links: s.link, MailFrom: cfg.MailFrom, DeviceKey: deviceMAC.Sum(nil), Log: log,
		SetPasswordLinks: s.campaigns, Grants: grants, SessionEnds: sessionEnds{s},
	})
	s.socialApps = socialapps.NewStore(database.Gorm, box)
	s.social = social.NewService(s.socialApps, s.outbound, rc.client, rc.prefix, s.accounts, s.link, s.audit, log)
	importStore, err := imports.NewStore(database.Gorm)
	if err != nil {
		return nil, err
	}
	s.imports = imports.NewService(imports.Deps{Store: importStore.WithEvents(s.webhooks), Tenants: s.tenantStore, Queue: s.queue, Audit: s.audit, Log: log,
		Pacer: yield.NewPacer(rc.client, yield.Key(rc.prefix), yield.Default, log)})
	s.masterKey = key
	s.apiLimits.PerIP, _ = strconv.Atoi(cfg.APIIPLimit)
	s.apiLimits.PerClient, _ = strconv.Atoi(cfg.APIClientLimit)
	s.apps = apps.NewStore(database.Gorm)
	s.keys = oidc.NewKeys(database.Gorm, box)
	s.oidc = oidc.NewStorage(oidc.StorageDeps{
		DB: database.Gorm, Apps: s.apps, Keys: s.keys,
		Customers: s.accounts, Sessions: s.sessions, Audit: s.audit, Log: log,
		Queue: s.queue, Outbound: s.outbound,
	})
	grants.Storage = s.oidc
	s.stats = stats.New(database.Gorm, log)
	return s, nil
}

// providerGrants hands accounts the provider's grants (the apps on
// /account, revocation when a customer is disabled). The provider reads
// customers through accounts, so it is built after it and set here.
type providerGrants struct{ *oidc.Storage }

// sessionEnds hands accounts' logouts to the provider, which is built
// after accounts (it reads customers through it).
type sessionEnds struct{ s *services }

func (e sessionEnds) SessionEnded(ctx context.Context, t *tenants.Tenant, token string) {
	if e.s.oidc != nil {
		e.s.oidc.SessionEnded(ctx, t, token)
	}
}

func (e sessionEnds) CustomerSessionsEnded(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID, keep string) {
	if e.s.oidc != nil {
		e.s.oidc.CustomerSessionsEnded(ctx, t, customerID, keep)
	}
}

// link is an absolute URL on a tenant's configured host. Mail links are
// built here, never from a request's Host header.
func (s *services) link(t *tenants.Tenant, pathAndQuery string) string {
	return s.cfg.PublicURL(t.Host(s.cfg.BaseDomain)) + pathAndQuery
}

func (s *services) close() {
	s.queue.Close()
}

// readyChecks are what /readyz asks after.
func (s *services) readyChecks() []web.Check {
	var checks []web.Check
	if s.db != nil {
		checks = append(checks, web.Check{Name: "database", Ping: s.db.Ping})
	}
	if s.redis != nil {
		checks = append(checks, web.Check{Name: "redis", Soft: true, Ping: func(ctx context.Context) error { return s.redis.client.Ping(ctx).Err() }})
	}
	return checks
}
