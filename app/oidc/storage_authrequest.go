package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// Lifetimes of the authorization step. A customer has ten minutes to sign
// in; the code then lives a minute (RFC 9700 asks for short-lived codes).
const (
	authRequestTTL = 10 * time.Minute
	codeTTL        = 60 * time.Second
)

// params are the validated authorization request parameters we keep.
type params struct {
	ClientID            string   `json:"client_id"`
	RedirectURI         string   `json:"redirect_uri"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *uint    `json:"max_age,omitempty"`
	LoginHint           string   `json:"login_hint,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
}

type authRequestRow struct {
	ID            string
	TenantID      uuid.UUID
	AppID         uuid.UUID
	Request       []byte
	CustomerID    *uuid.UUID
	AuthTime      *time.Time
	AMR           string `gorm:"column:amr"`
	SID           string `gorm:"column:sid"`
	Done          bool
	CodeHash      *string
	CodeExpiresAt *time.Time
	CodeUsedAt    *time.Time
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

func (authRequestRow) TableName() string { return "oidc_auth_requests" }

// Request is an authorization request in flight, as the login UI sees it
// and as op sees it (it implements op.AuthRequest).
type Request struct {
	ID         string
	TenantID   uuid.UUID
	AppID      uuid.UUID
	CustomerID uuid.UUID // uuid.Nil until the customer has signed in
	AuthTime   time.Time
	AMR        []string
	SID        string // the sid claim: the session that signed in (backchannel.go)
	Complete   bool
	CreatedAt  time.Time
	p          params
}

var _ op.AuthRequest = (*Request)(nil)

// Prompts is the request's prompt values (none, login, create, consent).
func (r *Request) Prompts() []string { return r.p.Prompt }

// MaxAge is the request's max_age in seconds, nil when absent; prompt=login
// sets it to 0.
func (r *Request) MaxAge() *uint { return r.p.MaxAge }

// LoginHint is the address the app suggests, to prefill the form.
func (r *Request) LoginHint() string { return r.p.LoginHint }

func (r *Request) GetID() string       { return r.ID }
func (r *Request) GetACR() string      { return "" }
func (r *Request) GetAMR() []string    { return r.AMR }
func (r *Request) GetClientID() string { return r.p.ClientID }
func (r *Request) GetAudience() []string {
	return []string{r.p.ClientID}
}
func (r *Request) GetAuthTime() time.Time             { return r.AuthTime }
func (r *Request) GetNonce() string                   { return r.p.Nonce }
func (r *Request) GetRedirectURI() string             { return r.p.RedirectURI }
func (r *Request) GetResponseType() oidc.ResponseType { return oidc.ResponseType(r.p.ResponseType) }
func (r *Request) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(r.p.ResponseMode) }
func (r *Request) GetScopes() []string                { return r.p.Scopes }
func (r *Request) GetState() string                   { return r.p.State }
func (r *Request) Done() bool                         { return r.Complete }
func (r *Request) GetSubject() string {
	if r.CustomerID == uuid.Nil {
		return ""
	}
	return r.CustomerID.String()
}
func (r *Request) GetCodeChallenge() *oidc.CodeChallenge {
	if r.p.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: r.p.CodeChallenge, Method: oidc.CodeChallengeMethod(r.p.CodeChallengeMethod)}
}

func requestFromRow(r authRequestRow) (*Request, error) {
	out := &Request{ID: r.ID, TenantID: r.TenantID, AppID: r.AppID, Complete: r.Done, CreatedAt: r.CreatedAt, SID: r.SID}
	if err := json.Unmarshal(r.Request, &out.p); err != nil {
		return nil, apperr.Wrap(err, "oidc: decode auth request")
	}
	if r.CustomerID != nil {
		out.CustomerID = *r.CustomerID
	}
	if r.AuthTime != nil {
		out.AuthTime = *r.AuthTime
	}
	if r.AMR != "" {
		out.AMR = strings.Fields(r.AMR)
	}
	return out, nil
}

var errNoAuthRequest = oidc.ErrInvalidRequest().WithDescription("the sign-in request expired or is not known here")

// CreateAuthRequest stores a request op has validated, for the app of this
// tenant it names.
func (s *Storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.app(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p := params{
		ClientID: a.ClientID, RedirectURI: req.RedirectURI, Scopes: req.Scopes, State: req.State, Nonce: req.Nonce,
		ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode), Prompt: req.Prompt, MaxAge: req.MaxAge,
		LoginHint: req.LoginHint, CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod),
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	row := authRequestRow{ID: randomID(16), TenantID: t.ID, AppID: a.ID, Request: body, CreatedAt: now, ExpiresAt: now.Add(authRequestTTL)}
	// Requests nobody finished are left to the sweep (SweepExpired):
	// every read checks expires_at, and deleting them here cost each
	// authorization an unbounded DELETE.
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return requestFromRow(row)
}

// AuthRequestByID returns a live request of this tenant.
func (s *Storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	return s.Request(ctx, t, id)
}

// Request returns a live authorization request of the tenant, for the
// login UI.
func (s *Storage) Request(ctx context.Context, t *tenants.Tenant, id string) (*Request, error) {
	var row authRequestRow
	if id == "" || len(id) > 64 {
		return nil, errNoAuthRequest
	}
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ? AND expires_at > ? AND code_hash IS NULL", t.ID, id, s.now()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNoAuthRequest
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return requestFromRow(row)
}

// Finish marks the request as signed in by the customer at authTime, so
// the provider's callback may issue a code. It works once.
func (s *Storage) Finish(ctx context.Context, t *tenants.Tenant, id string, customerID uuid.UUID, authTime time.Time, amr []string) error {
	res := s.db.WithContext(ctx).Model(&authRequestRow{}).
		Where("tenant_id = ? AND id = ? AND done = ? AND expires_at > ?", t.ID, id, false, s.now()).
		Updates(map[string]any{"customer_id": customerID, "auth_time": authTime.UTC(), "amr": strings.Join(amr, " "), "done": true})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "oidc: finish auth request")
	}
	if res.RowsAffected != 1 {
		return apperr.New(apperr.NotFound, "the sign-in request expired or was already used")
	}
	return nil
}

// SaveAuthCode binds the one code of a finished request to it, by hash.
func (s *Storage) SaveAuthCode(ctx context.Context, id, code string) error {
	t, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	res := s.db.WithContext(ctx).Model(&authRequestRow{}).
		Where("tenant_id = ? AND id = ? AND done = ? AND code_hash IS NULL", t.ID, id, true).
		Updates(map[string]any{"code_hash": hashToken(code), "code_expires_at": s.now().Add(codeTTL)})
	if res.Error != nil {
		return oidc.ErrServerError().WithParent(res.Error)
	}
	if res.RowsAffected != 1 {
		return errNoAuthRequest
	}
	return nil
}

// AuthRequestByCode redeems a code, once. A code presented a second time
// is an attack or a broken client: the tokens the first exchange issued are
// revoked (RFC 6749 §4.1.2) and the event is audited.
func (s *Storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	// The request's customer comes with it, for the id_token's claims.
	var found struct {
		Row      authRequestRow          `gorm:"embedded"`
		Customer accounts.JoinedCustomer `gorm:"embedded"`
	}
	err = s.db.WithContext(ctx).Table("oidc_auth_requests AS ar").Select("ar.*, "+accounts.JoinedColumns("c")).
		Joins("LEFT JOIN customers c ON c.id = ar.customer_id AND c.tenant_id = ar.tenant_id").
		Where("ar.tenant_id = ? AND ar.code_hash = ?", t.ID, hashToken(code)).Take(&found).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errors.New("unknown code")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	row := found.Row
	if row.CustomerID != nil {
		// Kept for the id_token's claims. Should the join have found
		// none, they read the customer themselves, and fail there.
		_, _ = s.joinedCustomer(ctx, t, found.Customer)
	}
	if row.CodeUsedAt != nil {
		s.codeReplayed(ctx, t, row)
		return nil, errors.New("code already used")
	}
	if row.CodeExpiresAt == nil || !s.now().Before(*row.CodeExpiresAt) {
		return nil, errors.New("code expired")
	}
	// The code is spent when tokens are issued for it (writeIssue), in
	// the same write, so a request that fails its PKCE or client
	// check, which clients retry, does not burn it.
	return requestFromRow(row)
}

// errCodeSpent is a code that another exchange redeemed first.
var errCodeSpent = errors.New("code already used")

func (s *Storage) codeReplayed(ctx context.Context, t *tenants.Tenant, row authRequestRow) {
	if err := s.revokeWhere(ctx, t, "auth_request_id = ?", row.ID); err != nil {
		s.log.ErrorContext(ctx, "oidc_code_replay_revoke_failed", "tenant_id", t.ID.String(), "error", err)
	}
	actor := "anonymous"
	if row.CustomerID != nil {
		actor = "customer:" + row.CustomerID.String()
	}
	s.log.WarnContext(ctx, "oidc_code_replayed", "tenant_id", t.ID.String(), "auth_request", row.ID)
	s.record(ctx, t, actor, "oidc.code.replayed", row.AppID.String(), map[string]any{"revoked": "tokens issued for the code"})
}

// DeleteAuthRequest is called once tokens are issued. The row stays (with
// its code marked used) so that a replayed code is recognised; it is
// removed when it expires.
func (s *Storage) DeleteAuthRequest(context.Context, string) error { return nil }
