package accounts

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/audit"
	"gatehouse/app/passwords"
	"gatehouse/app/ratelimit"
	"gatehouse/app/sessions"
	"gatehouse/app/tokens"
	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

// Queue is what the service needs from the job queue.
type Queue interface {
	EnqueueMail(ctx context.Context, m jobs.SendMail) error
	EnqueueForgotPassword(ctx context.Context, p jobs.ForgotPassword) error
}

// TenantLookup loads a tenant by id, for work that runs in the worker.
type TenantLookup interface {
	ByID(ctx context.Context, id uuid.UUID) (*tenants.Tenant, error)
}

// Links builds absolute URLs on a tenant's configured host, never from a
// request's Host header.
type Links func(t *tenants.Tenant, pathAndQuery string) string

// Service holds the customer-account rules.
type Service struct {
	store    *Store
	tokens   *tokens.Store
	sessions *sessions.Store
	hasher   *passwords.Hasher
	policy   *passwords.Policy
	limiter  *ratelimit.Limiter
	audit    *audit.Recorder
	queue    Queue
	tenants  TenantLookup
	links    Links
	mailFrom string
	devices  devices
	log      *slog.Logger
	now      func() time.Time

	setPassword SetPasswordLinks
	grants      AppGrants
	sessionEnds SessionEnds
}

// SessionEnds is told when a customer's sessions end, one by a sign-out or
// all at once, so that the apps those sessions signed in to hear of it
// (OpenID Connect Back-Channel Logout, in app/oidc).
type SessionEnds interface {
	SessionEnded(ctx context.Context, t *tenants.Tenant, sessionToken string)
	// CustomerSessionsEnded: every session of the customer but keep's.
	CustomerSessionsEnded(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID, keep string)
}

// Deps are the service's collaborators.
type Deps struct {
	Store    *Store
	Tokens   *tokens.Store
	Sessions *sessions.Store
	Hasher   *passwords.Hasher
	Policy   *passwords.Policy
	Limiter  *ratelimit.Limiter
	Audit    *audit.Recorder
	Queue    Queue
	Tenants  TenantLookup
	Links    Links
	MailFrom string
	// DeviceKey signs device cookies; derive it from the master key so
	// every node accepts every node's cookies.
	DeviceKey []byte
	Log       *slog.Logger

	// SetPasswordLinks answers "Forgot password" for a customer with no
	// way to sign in (recovery.go).
	SetPasswordLinks SetPasswordLinks

	// Grants lists and revokes the OpenID Provider's grants of a customer
	// (/account, disabling and deleting); nil without a provider.
	Grants AppGrants
	// SessionEnds hears of every POST /logout; nil for nobody.
	SessionEnds SessionEnds
}

// NewService returns the accounts service.
func NewService(d Deps) *Service {
	return &Service{
		store: d.Store, tokens: d.Tokens, sessions: d.Sessions, hasher: d.Hasher, policy: d.Policy,
		limiter: d.Limiter, audit: d.Audit, queue: d.Queue, tenants: d.Tenants, links: d.Links,
		mailFrom: d.MailFrom, devices: devices{key: d.DeviceKey}, log: d.Log, now: func() time.Time { return time.Now().UTC() },
		setPassword: d.SetPasswordLinks, grants: d.Grants, sessionEnds: d.SessionEnds,
	}
}

// Lifetimes of one-time links.
const (
	ResetTTL  = 30 * time.Minute
	VerifyTTL = 48 * time.Hour
)

// Request is who is asking: the host, address and browser of the request.
type Request struct {
	Host      string
	IP        string
	UserAgent string
	// Device is the browser's device cookie, if it has one: proof that a
	// customer signed in from it before (see DeviceToken).
	Device string
}

// errBadLogin is the one message for a wrong password, an unknown email and
// an account with no password, so none of them can be told apart.
var errBadLogin = &apperr.Error{Code: apperr.Unauthorized, Message: "Email or password is incorrect."}

// ErrVerifyFirst is returned for a correct password on a tenant that
// requires a verified email, when the address is not verified yet.
var ErrVerifyFirst = &apperr.Error{Code: apperr.Forbidden, Message: "Please confirm your email address first: we sent you a link."}

var errBrandOnly = &apperr.Error{Code: apperr.Forbidden, Message: "Please use the button above: this brand signs you in through its own account."}

// errNoPasswords refuses a password change while the tenant signs
// customers in only through its own provider: the password could not be
// used, and adding one would only invite an unlink of the brand identity.
var errNoPasswords = &apperr.Error{Code: apperr.Forbidden, Message: "This brand signs you in through its own account, so a password cannot be set here."}

var errDisabled = &apperr.Error{Code: apperr.Forbidden, Message: "This account has been disabled. Please contact support."}

// Registration is a sign-up form.
type Registration struct {
	Email    string
	Password string
	Values   map[string]string // registration field key → submitted text
	// ReturnTo is where the customer was going (an app's authorization,
	// say). Where the tenant requires verification, the mailed link
	// carries on there, signed in, when it is opened in the browser that
	// signed up: the one whose nonce hashes to Browser.
	ReturnTo string
	Browser  string // SHA-256 (hex) of a random value in that browser's cookie
}

// Register creates a customer from a sign-up form, queues the verification
// mail, and says where the form leads (see Signup). Every problem with the
// form comes back at once as tenants.FieldErrors, keyed by form field.
// Sign-ups are throttled per address and per tenant. Where the tenant
// requires verification, an address that already has an account gets the
// same answer as a new one, and its owner a mail instead (see
// signupExisting); where verification is optional the customer is signed
// in at once, so the answer cannot hide that the address is taken.
func (s *Service) Register(ctx context.Context, t *tenants.Tenant, in Registration, r Request) (Signup, error) {
	if t.Settings.BrandLoginOnly {
		return Signup{}, errBrandOnly
	}
	if err := s.throttleSignup(ctx, t, r); err != nil {
		return Signup{}, err
	}
	errs := tenants.FieldErrors{}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		errs["email"] = apperrMessage(err)
	}
	if err := s.policy.Check("password", in.Password, t.Settings.MinPasswordLength, email); err != nil {
		errs["password"] = apperrMessage(err)
	}
	profile := map[string]any{}
	for _, f := range t.Fields {
		if f.Capture == tenants.CaptureLater {
			continue
		}
		v, err := f.Parse(in.Values[f.Key])
		switch {
		case err != nil:
			errs[f.Key] = f.Label + " " + err.Error() + "."
		case v == nil && f.Capture == tenants.CaptureRequired:
			errs[f.Key] = f.Label + " is required."
		case v != nil:
			profile[f.Key] = v
		}
	}
	if len(errs) > 0 {
		return Signup{}, errs
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return Signup{}, err
	}
	now := s.now()
	// The sign-up form just showed the optional fields, so the optional
	// prompt waits for the tenant's interval before it asks again.
	c := &Customer{
		ID: uuid.Must(uuid.NewV7()), Email: email, Status: StatusActive, Profile: profile,
		CreatedAt: now, UpdatedAt: now, ProfilePromptedAt: &now, passwordHash: hash,
	}
	var flow map[string]string
	if verificationRequired(t) && in.ReturnTo != "" && in.Browser != "" {
		flow = map[string]string{"return_to": in.ReturnTo, "browser": in.Browser}
	}
	// The account, its verification token and the mail's outbox row commit
	// together: no account without its mail, no mail for a rolled-back one.
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.For(t.ID).Create(ctx, c); err != nil {
			return err
		}
		return s.sendVerification(ctx, t, c, flow)
	})
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Code == apperr.Conflict && e.Field == "email" && verificationRequired(t) {
			return s.signupExisting(ctx, t, email, r), nil
		}
		if e, ok := apperr.As(err); ok && e.Field != "" {
			return Signup{}, tenants.FieldErrors{e.Field: e.Message}
		}
		return Signup{}, err
	}
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.signup", c.Email, r, nil)
	if verificationRequired(t) {
		return Signup{Pending: c}, nil
	}
	return Signup{Customer: c}, nil
}

// Login checks an email and password. Failures are throttled through
// Redis, so every node counts the same tries, by the rules in throttle.go:
// a stranger's guesses slow down the stranger, not the owner's browser.
func (s *Service) Login(ctx context.Context, t *tenants.Tenant, rawEmail, password string, r Request) (*Customer, error) {
	c, _, err := s.login(ctx, t, rawEmail, password, r, nil)
	return c, err
}

// SignIn is Login for a browser: the same checks, and the new session
// (replacing the browser's old one, if any) in the same transaction as the
// login stamp and the audit event. One password login is therefore one
// commit, and a failure anywhere in it writes nothing at all; a wrong
// password commits its audit event alone. It returns the session token.
func (s *Service) SignIn(ctx context.Context, t *tenants.Tenant, rawEmail, password string, r Request, replaces string) (*Customer, string, error) {
	return s.login(ctx, t, rawEmail, password, r, &sessionStart{replaces: replaces, amr: []string{AMRPassword}})
}

// sessionStart asks login to start a session too.
type sessionStart struct {
	replaces string // the browser's current session token, ended in the same transaction
	amr      []string
}

// login checks a password and records the outcome in one transaction (see
// TenantStore.loginTx). The hashing slot is taken before the transaction
// opens, so a login queueing for the CPU holds no database connection,
// and given back once the hash is checked; on SQLite the hash runs before
// the transaction takes the write lock.
func (s *Service) login(ctx context.Context, t *tenants.Tenant, rawEmail, password string, r Request, start *sessionStart) (*Customer, string, error) {
	if t.Settings.BrandLoginOnly {
		return nil, "", errBrandOnly
	}
	email, emailErr := NormalizeEmail(rawEmail)
	if emailErr != nil {
		email = strings.ToLower(strings.TrimSpace(rawEmail))
	}
	ctx, release, err := s.hasher.Hold(ctx)
	if err != nil {
		return nil, "", err
	}
	defer release()
	var (
		cust  *Customer
		token string
		v     verdict
	)
	err = s.store.For(t.ID).loginTx(ctx, email, emailErr == nil,
		func(ctx context.Context, c *Customer) error {
			var err error
			v, err = s.loginCheck(ctx, t, c, email, password, r, release)
			return err
		},
		func(ctx context.Context, inner TenantStore, tx *gorm.DB, c *Customer) error {
			cust = c
			var err error
			token, err = s.loginWrite(ctx, t, inner, tx, c, email, r, start, v)
			return err
		})
	if err != nil {
		return nil, "", err
	}
	if v.outcome != nil {
		if errors.Is(v.outcome, ErrVerifyFirst) {
			return cust, "", v.outcome
		}
		return nil, "", v.outcome
	}
	return cust, token, nil
}

// verdict is what a login's checks decided, before anything is written.
type verdict struct {
	outcome  error  // a refusal the caller hears; what it writes still commits
	wrong    bool   // a wrong password: counted already, its audit event to write
	failures int    // a wrong password's account-wide count, for the owner's notice
	newHash  string // a legacy hash's argon2id replacement, after a success
}

// loginCheck is the part of a login that writes nothing to the database:
// the throttle (its counts are in Redis) and the hash. It gives the hashing
// slot back once the hash is checked.
func (s *Service) loginCheck(ctx context.Context, t *tenants.Tenant, c *Customer, email, password string, r Request, release func()) (verdict, error) {
	g := s.guardFor(t, email, c, r)
	if err := s.checkThrottle(ctx, g); err != nil {
		return verdict{outcome: err}, nil
	}
	hash := ""
	if c != nil {
		hash = c.passwordHash
	}
	// An unknown email or a social-only account still pays for one hash.
	// Imported legacy hashes (bcrypt, PBKDF2, scrypt, argon2i) verify too,
	// and come back with rehash set, so the first success moves them to
	// argon2id.
	ok, rehash, err := s.hasher.VerifyAny(ctx, hash, password)
	if err != nil {
		return verdict{}, err
	}
	if !ok {
		release()
		return verdict{outcome: errBadLogin, wrong: true, failures: s.countFailure(ctx, t, g)}, nil
	}
	s.passwordSucceeded(ctx, g)
	if c.Status != StatusActive {
		return verdict{outcome: errDisabled}, nil
	}
	if t.Settings.EmailVerification == "required" && !c.EmailVerified {
		return verdict{outcome: ErrVerifyFirst}, nil
	}
	v := verdict{}
	if rehash {
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			v.newHash = h
		}
	}
	release()
	return v, nil
}

// loginWrite records a login's verdict inside its transaction: a wrong
// password's count and audit event, or a success's login stamp, audit
// event and session. An error rolls everything back.
func (s *Service) loginWrite(ctx context.Context, t *tenants.Tenant, store TenantStore, tx *gorm.DB, c *Customer, email string, r Request, start *sessionStart, v verdict) (string, error) {
	audit := s.audit.In(tx)
	if v.wrong {
		s.failureCounted(ctx, t, c, v.failures, r)
		// Whoever typed the wrong password has not shown they are the
		// customer: the actor is an unknown visitor (with the IP), and the
		// account is only the target.
		return "", s.recordIn(ctx, audit, t, "anonymous", "customer.login.failed", email, r, nil)
	}
	if v.outcome != nil {
		return "", nil
	}
	if err := store.RecordLogin(ctx, c.ID, s.now(), v.newHash); err != nil {
		return "", err
	}
	if err := s.recordIn(ctx, audit, t, "customer:"+c.ID.String(), "customer.login", c.Email, r, map[string]any{"method": "password"}); err != nil {
		return "", err
	}
	if start == nil {
		return "", nil
	}
	sessions := s.sessions.In(tx)
	if start.replaces != "" {
		if err := sessions.Revoke(ctx, start.replaces); err != nil {
			return "", err
		}
	}
	return s.startSessionIn(ctx, sessions, t, c, r, start.amr)
}

// DeviceToken returns a device cookie value for a browser customer c has
// just proved they own the account from (a sign-in, or a reset link). It
// exempts that browser from the throttles strangers trip; it is not a
// session and signs nobody in. Empty when device cookies are not set up.
func (s *Service) DeviceToken(t *tenants.Tenant, c *Customer) string {
	return s.devices.issue(t.ID, c.ID, s.now())
}

// Authentication method references (RFC 8176 §2) a session records, and
// the OpenID Provider reports as the id_token's amr.
const (
	// AMRPassword: the customer typed their password (log-in, sign-up,
	// confirming a link with it).
	AMRPassword = "pwd"
	// AMRFederated: a social or brand provider vouched for the customer.
	// RFC 8176 has no finer value for "another identity provider said so";
	// what that provider checked is its own business.
	AMRFederated = "fed"
)

// StartSession signs c in on the request's host with a fresh session id,
// using the tenant's idle and absolute lifetimes. amr says how the customer
// proved who they are (AMRPassword, AMRFederated).
func (s *Service) StartSession(ctx context.Context, t *tenants.Tenant, c *Customer, r Request, amr []string) (string, error) {
	return s.startSessionIn(ctx, s.sessions, t, c, r, amr)
}

func (s *Service) startSessionIn(ctx context.Context, store *sessions.Store, t *tenants.Tenant, c *Customer, r Request, amr []string) (string, error) {
	token, _, err := store.Create(ctx, sessions.New{
		Kind: sessions.Customer, TenantID: t.ID, SubjectID: c.ID, Host: r.Host, IP: r.IP, UserAgent: r.UserAgent, AMR: amr,
		Idle: time.Duration(t.Settings.SessionIdleMinutes) * time.Minute,
		Max:  time.Duration(t.Settings.SessionMaxHours) * time.Hour,
	})
	return token, err
}

// Current returns the customer signed in with token on this tenant and host,
// or sessions.ErrNoSession.
func (s *Service) Current(ctx context.Context, t *tenants.Tenant, token, host string) (*Customer, error) {
	sess, err := s.sessions.Lookup(ctx, token, sessions.Customer, t.ID, host)
	if err != nil {
		return nil, err
	}
	c, err := s.store.For(t.ID).ByID(ctx, sess.SubjectID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, sessions.ErrNoSession
		}
		return nil, err
	}
	if c.Status != StatusActive {
		_ = s.endSessions(ctx, t, c.ID, "")
		return nil, sessions.ErrNoSession
	}
	return c, nil
}

// endSessions ends every hosted-page session of the customer but keep's
// (none when empty), and tells the apps they signed in to.
func (s *Service) endSessions(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID, keep string) error {
	if err := s.sessions.RevokeAll(ctx, sessions.Customer, t.ID, customerID, keep); err != nil {
		return err
	}
	if s.sessionEnds != nil {
		s.sessionEnds.CustomerSessionsEnded(ctx, t, customerID, keep)
	}
	return nil
}

// Logout ends the session of token on the server.
func (s *Service) Logout(ctx context.Context, t *tenants.Tenant, c *Customer, token string, r Request) error {
	if err := s.sessions.Revoke(ctx, token); err != nil {
		return err
	}
	if s.sessionEnds != nil {
		s.sessionEnds.SessionEnded(ctx, t, token)
	}
	if c != nil {
		s.record(ctx, t, "customer:"+c.ID.String(), "customer.logout", c.Email, r, nil)
	}
	return nil
}

// Methods lists how the customer signs in: a password and linked providers.
func (s *Service) Methods(ctx context.Context, t *tenants.Tenant, c *Customer) ([]Identity, error) {
	return s.store.For(t.ID).Identities(ctx, c.ID)
}

func (s *Service) record(ctx context.Context, t *tenants.Tenant, actor, action, target string, r Request, detail map[string]any) {
	_ = s.recordIn(ctx, s.audit, t, actor, action, target, r, detail)
}

// recordIn writes an audit event through rec (one bound to a transaction,
// when the event must commit with the change) and returns its error.
func (s *Service) recordIn(ctx context.Context, rec *audit.Recorder, t *tenants.Tenant, actor, action, target string, r Request, detail map[string]any) error {
	return rec.Record(ctx, audit.Event{TenantID: t.ID, Actor: actor, Action: action, Target: target, IP: r.IP, UserAgent: r.UserAgent, Detail: detail})
}

// apperrMessage is the message of a domain error, for a field.
func apperrMessage(err error) string {
	var fe tenants.FieldErrors
	if errors.As(err, &fe) {
		return fe.Error()
	}
	if e, ok := apperr.As(err); ok {
		m := e.Message
		if e.Field == "password" || e.Field == "new_password" {
			return "Password " + m + "."
		}
		return m
	}
	// Anything else is not for a customer's eyes.
	return "Something went wrong on our side. Please try again."
}
