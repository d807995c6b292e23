// Package headless is sign-in and sign-up for a brand's own (first-party)
// browser and mobile apps that draw their own screens, following OAuth 2.0
// for First-Party Applications (draft-ietf-oauth-first-party-apps). The
// app posts the customer's email and password with a PKCE challenge to
// the authorization challenge endpoint and gets an authorization code for
// the ordinary token endpoint, or is told what is needed first (a verified
// address, missing profile fields) with an auth_session to continue.
//
// It holds no rules of its own about customers: every check (throttles,
// the common-password list, the same message for a wrong password and an
// unknown address, verification) is accounts.Service's, as on the hosted
// pages. What it adds is the client check and the multi-step state.
package headless

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apps"
	"gatehouse/app/oidc"
	"gatehouse/app/tokens"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// Accounts is what headless needs from the customer accounts.
type Accounts interface {
	Login(ctx context.Context, t *tenants.Tenant, email, password string, r accounts.Request) (*accounts.Customer, error)
	Register(ctx context.Context, t *tenants.Tenant, in accounts.Registration, r accounts.Request) (accounts.Signup, error)
	Customer(ctx context.Context, t *tenants.Tenant, id uuid.UUID) (*accounts.Customer, error)
	CompleteRequired(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, values map[string]string, r accounts.Request) error
	DeviceToken(t *tenants.Tenant, c *accounts.Customer) string
}

// Codes issues authorization codes for finished sign-ins (oidc.Storage).
type Codes interface {
	IssueHeadlessCode(ctx context.Context, t *tenants.Tenant, g oidc.HeadlessGrant) (string, error)
}

// Apps finds the tenant's apps.
type Apps interface {
	For(tenantID uuid.UUID) apps.TenantStore
}

// Sessions keeps auth_session state (tokens.Store).
type Sessions interface {
	Issue(ctx context.Context, tenantID, subjectID uuid.UUID, purpose tokens.Purpose, ttl time.Duration, data map[string]string) (string, error)
	Peek(ctx context.Context, tenantID uuid.UUID, purpose tokens.Purpose, token string) (tokens.Redeemed, error)
	Redeem(ctx context.Context, tenantID uuid.UUID, purpose tokens.Purpose, token string) (tokens.Redeemed, error)
}

// Service runs headless sign-in and sign-up.
type Service struct {
	accounts Accounts
	codes    Codes
	apps     Apps
	sessions Sessions
	now      func() time.Time
}

// New returns the service.
func New(a Accounts, codes Codes, appStore Apps, sessions Sessions) *Service {
	return &Service{accounts: a, codes: codes, apps: appStore, sessions: sessions, now: func() time.Time { return time.Now().UTC() }}
}

// authSessionPurpose keeps auth_session tokens apart from reset and
// verification links in the one-time token table.
const authSessionPurpose tokens.Purpose = "auth_session"

// AuthSessionTTL is how long a customer has to verify their address or fill
// in missing fields before the app must ask for the password again.
const AuthSessionTTL = 30 * time.Minute

// Scopes a headless sign-in may ask for: the provider's OpenID scopes.
var Scopes = []string{"openid", "profile", "email", "phone", "offline_access"}

// Challenge is an authorization challenge request.
type Challenge struct {
	ClientID            string
	Email               string
	Password            string
	AuthSession         string
	Scope               string
	CodeChallenge       string
	CodeChallengeMethod string
	Device              string            // a device_token from an earlier sign-in
	Profile             map[string]string // values for missing required fields
}

// Signup is a headless sign-up: the registration form plus the challenge.
type Signup struct {
	ClientID            string
	Email               string
	Password            string
	Profile             map[string]string
	Scope               string
	CodeChallenge       string
	CodeChallengeMethod string
}

// Granted is a finished sign-in: the code for the token endpoint, and a
// device token the app sends with later sign-ins, which exempts it from the
// throttles strangers' guesses trip, as the hosted pages' device cookie
// does for a browser.
type Granted struct {
	Code        string
	DeviceToken string
}

// Refusal is an OAuth error of the challenge endpoint (invalid_client,
// unauthorized_client, invalid_request, invalid_scope, invalid_session).
type Refusal struct {
	OAuth   string
	Status  int
	Message string
}

func (e *Refusal) Error() string { return e.OAuth + ": " + e.Message }

// ErrorCode maps a refusal for code that knows only apperr.
func (e *Refusal) ErrorCode() apperr.Code {
	if e.Status == 401 {
		return apperr.Unauthorized
	}
	return apperr.Invalid
}

// The reasons of an insufficient_authorization answer.
const (
	ReasonVerifyEmail     = "email_verification_required"
	ReasonProfileRequired = "profile_incomplete"
)

// Needed is the draft's insufficient_authorization: the password was right
// (or the sign-up accepted), but something must happen before a code is
// issued. The app continues with AuthSession.
type Needed struct {
	Reason      string
	Message     string
	AuthSession string
	Missing     []tenants.Field // for ReasonProfileRequired
	// Errors are problems with profile values the app sent to fill the
	// missing fields, by field key.
	Errors tenants.FieldErrors
}

func (e *Needed) Error() string { return "insufficient_authorization: " + e.Reason }

// ErrorCode maps Needed for code that knows only apperr.
func (e *Needed) ErrorCode() apperr.Code { return apperr.Forbidden }

// Client returns the tenant's app clientID if it may use the headless
// endpoints: a first-party spa or native app. Anyone else is refused, so a
// third party cannot collect customers' passwords.
func (s *Service) Client(ctx context.Context, t *tenants.Tenant, clientID string) (apps.App, error) {
	if clientID == "" {
		return apps.App{}, &Refusal{OAuth: "invalid_request", Status: 400, Message: "client_id is required."}
	}
	a, err := s.apps.For(t.ID).ByClientID(ctx, clientID)
	if apperr.Is(err, apperr.NotFound) {
		return apps.App{}, &Refusal{OAuth: "invalid_client", Status: 401, Message: "This app is not registered here."}
	}
	if err != nil {
		return apps.App{}, err
	}
	if !a.FirstParty || (a.Type != apps.SPA && a.Type != apps.Native) {
		return apps.App{}, &Refusal{OAuth: "unauthorized_client", Status: 400,
			Message: "Only the brand's own browser and mobile apps may sign customers in with their password; use the authorization code flow."}
	}
	return a, nil
}

var challengePattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// request are the validated PKCE challenge and scopes.
type request struct {
	challenge string
	scopes    []string
}

func parseRequest(scope, challenge, method string, required bool) (request, error) {
	var r request
	if method != "" && method != "S256" {
		return r, &Refusal{OAuth: "invalid_request", Status: 400, Message: "code_challenge_method must be S256."}
	}
	if challenge == "" && required {
		return r, &Refusal{OAuth: "invalid_request", Status: 400, Message: "code_challenge is required (PKCE with S256)."}
	}
	if challenge != "" && !challengePattern.MatchString(challenge) {
		return r, &Refusal{OAuth: "invalid_request", Status: 400, Message: "code_challenge must be a base64url S256 challenge (43 to 128 characters)."}
	}
	r.challenge = challenge
	for _, sc := range strings.Fields(scope) {
		if !slices.Contains(Scopes, sc) {
			return r, &Refusal{OAuth: "invalid_scope", Status: 400, Message: "Unknown scope " + sc + "; allowed: " + strings.Join(Scopes, ", ") + "."}
		}
		if !slices.Contains(r.scopes, sc) {
			r.scopes = append(r.scopes, sc)
		}
	}
	if len(r.scopes) == 0 {
		r.scopes = []string{"openid"}
	}
	return r, nil
}

// state is what an auth_session remembers between steps.
type state struct {
	customerID uuid.UUID // uuid.Nil: a sign-up with an address that had an account
	clientID   string
	req        request
	authTime   time.Time
}

// Authorize answers an authorization challenge request.
func (s *Service) Authorize(ctx context.Context, t *tenants.Tenant, in Challenge, r accounts.Request) (Granted, error) {
	a, err := s.Client(ctx, t, in.ClientID)
	if err != nil {
		return Granted{}, err
	}
	r.Device = in.Device
	if in.AuthSession != "" {
		st, err := s.resume(ctx, t, a, in.AuthSession)
		if err != nil {
			return Granted{}, err
		}
		if in.CodeChallenge != "" || in.Scope != "" {
			req, err := parseRequest(in.Scope, in.CodeChallenge, in.CodeChallengeMethod, false)
			if err != nil {
				return Granted{}, err
			}
			if in.CodeChallenge != "" {
				st.req.challenge = req.challenge
			}
			if in.Scope != "" {
				st.req.scopes = req.scopes
			}
		}
		return s.proceed(ctx, t, st, in.AuthSession, in.Profile, r)
	}
	req, err := parseRequest(in.Scope, in.CodeChallenge, in.CodeChallengeMethod, true)
	if err != nil {
		return Granted{}, err
	}
	if strings.TrimSpace(in.Email) == "" || in.Password == "" {
		return Granted{}, &Refusal{OAuth: "invalid_request", Status: 400, Message: "Send email and password, or the auth_session of an earlier answer."}
	}
	c, err := s.accounts.Login(ctx, t, in.Email, in.Password, r)
	if err != nil && !(c != nil && err == accounts.ErrVerifyFirst) {
		return Granted{}, err
	}
	return s.proceed(ctx, t, state{customerID: c.ID, clientID: a.ClientID, req: req, authTime: s.now()}, "", in.Profile, r)
}

// SignUp registers a customer and ends as Authorize does: a code when the
// account may sign in at once, or Needed (verify the address) otherwise.
// Where the tenant requires verification, a known address gets the same
// answer and an auth_session that never leads anywhere, so the answer
// does not tell whether the address had an account.
func (s *Service) SignUp(ctx context.Context, t *tenants.Tenant, in Signup, r accounts.Request) (Granted, error) {
	a, err := s.Client(ctx, t, in.ClientID)
	if err != nil {
		return Granted{}, err
	}
	req, err := parseRequest(in.Scope, in.CodeChallenge, in.CodeChallengeMethod, true)
	if err != nil {
		return Granted{}, err
	}
	su, err := s.accounts.Register(ctx, t, accounts.Registration{Email: in.Email, Password: in.Password, Values: in.Profile}, r)
	if err != nil {
		return Granted{}, err
	}
	st := state{clientID: a.ClientID, req: req, authTime: s.now()}
	switch {
	case su.Customer != nil:
		st.customerID = su.Customer.ID
	case su.Pending != nil:
		st.customerID = su.Pending.ID
	}
	return s.proceed(ctx, t, st, "", nil, r)
}

// resume reads an auth_session of this app.
func (s *Service) resume(ctx context.Context, t *tenants.Tenant, a apps.App, token string) (state, error) {
	bad := &Refusal{OAuth: "invalid_session", Status: 400, Message: "The auth_session has expired or is not known here; ask for the password again."}
	red, err := s.sessions.Peek(ctx, t.ID, authSessionPurpose, token)
	if err != nil {
		if apperr.Is(err, apperr.Internal) {
			return state{}, err
		}
		return state{}, bad
	}
	if red.Data["client_id"] != a.ClientID {
		return state{}, bad
	}
	at, err := time.Parse(time.RFC3339Nano, red.Data["auth_time"])
	if err != nil {
		return state{}, bad
	}
	return state{
		customerID: red.SubjectID, clientID: a.ClientID, authTime: at,
		req: request{challenge: red.Data["code_challenge"], scopes: strings.Fields(red.Data["scope"])},
	}, nil
}

// proceed issues the code when nothing more is needed, or answers Needed
// with an auth_session (the current one, token, when there is one).
func (s *Service) proceed(ctx context.Context, t *tenants.Tenant, st state, token string, profile map[string]string, r accounts.Request) (Granted, error) {
	if st.customerID == uuid.Nil {
		return Granted{}, s.needed(ctx, t, st, token, &Needed{Reason: ReasonVerifyEmail, Message: accounts.ErrVerifyFirst.Message})
	}
	c, err := s.accounts.Customer(ctx, t, st.customerID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Granted{}, &Refusal{OAuth: "invalid_session", Status: 400, Message: "The auth_session has expired or is not known here; ask for the password again."}
		}
		return Granted{}, err
	}
	if c.Status != accounts.StatusActive {
		return Granted{}, apperr.New(apperr.Forbidden, "This account has been disabled. Please contact support.")
	}
	if t.Settings.EmailVerification == "required" && !c.EmailVerified {
		return Granted{}, s.needed(ctx, t, st, token, &Needed{Reason: ReasonVerifyEmail, Message: accounts.ErrVerifyFirst.Message})
	}
	if len(profile) > 0 {
		if err := s.accounts.CompleteRequired(ctx, t, c, profile, r); err != nil {
			fe, ok := err.(tenants.FieldErrors)
			if !ok {
				return Granted{}, err
			}
			return Granted{}, s.needed(ctx, t, st, token, &Needed{
				Reason: ReasonProfileRequired, Message: "Please fill in the required fields to continue.",
				Missing: tenants.Missing(t.Fields, c.Profile, tenants.CaptureRequired), Errors: fe,
			})
		}
	}
	if missing := tenants.Missing(t.Fields, c.Profile, tenants.CaptureRequired); len(missing) > 0 {
		return Granted{}, s.needed(ctx, t, st, token, &Needed{
			Reason: ReasonProfileRequired, Message: "Please fill in the required fields to continue.", Missing: missing,
		})
	}
	if token != "" {
		// Of two requests racing with one auth_session, one gets the code.
		if _, err := s.sessions.Redeem(ctx, t.ID, authSessionPurpose, token); err != nil {
			if apperr.Is(err, apperr.Internal) {
				return Granted{}, err
			}
			return Granted{}, &Refusal{OAuth: "invalid_session", Status: 400, Message: "The auth_session has expired or is not known here; ask for the password again."}
		}
	}
	code, err := s.codes.IssueHeadlessCode(ctx, t, oidc.HeadlessGrant{
		ClientID: st.clientID, CustomerID: c.ID, Scopes: st.req.scopes, CodeChallenge: st.req.challenge,
		AuthTime: st.authTime, AMR: []string{"pwd"},
	})
	if err != nil {
		return Granted{}, err
	}
	return Granted{Code: code, DeviceToken: s.accounts.DeviceToken(t, c)}, nil
}

// needed fills in the auth_session of n, issuing one when the request
// had none, and returns n.
func (s *Service) needed(ctx context.Context, t *tenants.Tenant, st state, token string, n *Needed) error {
	if token == "" {
		var err error
		token, err = s.sessions.Issue(ctx, t.ID, st.customerID, authSessionPurpose, AuthSessionTTL, map[string]string{
			"client_id": st.clientID, "code_challenge": st.req.challenge, "scope": strings.Join(st.req.scopes, " "),
			"auth_time": st.authTime.Format(time.RFC3339Nano),
		})
		if err != nil {
			return err
		}
	}
	n.AuthSession = token
	return n
}
