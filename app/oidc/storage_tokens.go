package oidc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/app/apps"
	"gatehouse/tenants"
)

type accessRow struct {
	ID            uuid.UUID
	TenantID      uuid.UUID
	AppID         uuid.UUID
	CustomerID    *uuid.UUID
	Subject       string
	FamilyID      *uuid.UUID
	AuthRequestID *string
	Scopes        []byte
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RevokedAt     *time.Time
}

func (accessRow) TableName() string { return "oidc_access_tokens" }

type refreshRow struct {
	ID            uuid.UUID
	TenantID      uuid.UUID
	AppID         uuid.UUID
	CustomerID    uuid.UUID
	FamilyID      uuid.UUID
	TokenHash     string
	AuthRequestID *string
	Scopes        []byte
	AMR           string `gorm:"column:amr"`
	AuthTime      time.Time
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
	RevokedAt     *time.Time
}

func (refreshRow) TableName() string { return "oidc_refresh_tokens" }

// refreshRequest is a refresh token being redeemed (op.RefreshTokenRequest).
type refreshRequest struct {
	row      refreshRow
	clientID string
	scopes   []string
	sid      string // of the sign-in the family began with (backchannel.go)
}

func (r *refreshRequest) GetAMR() []string       { return strings.Fields(r.row.AMR) }
func (r *refreshRequest) GetAudience() []string  { return []string{r.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time { return r.row.AuthTime }
func (r *refreshRequest) GetClientID() string    { return r.clientID }
func (r *refreshRequest) GetScopes() []string    { return r.scopes }
func (r *refreshRequest) GetSubject() string     { return r.row.CustomerID.String() }
func (r *refreshRequest) SetCurrentScopes(s []string) {
	r.scopes = s
}

// machineRequest is a client_credentials grant: the app acts for itself.
type machineRequest struct {
	app    apps.App
	scopes []string
}

func (m *machineRequest) GetSubject() string    { return m.app.ClientID }
func (m *machineRequest) GetAudience() []string { return []string{m.app.ClientID} }
func (m *machineRequest) GetScopes() []string   { return m.scopes }

var errTokenInactive = errors.New("token is not active")

// grant is what a token is issued from, whatever the flow.
type grant struct {
	app        apps.App
	customerID *uuid.UUID
	subject    string
	scopes     []string
	authReqID  *string
	authTime   time.Time
	amr        []string
}

func (s *Storage) grantOf(ctx context.Context, t *tenants.Tenant, req op.TokenRequest) (grant, error) {
	switch r := req.(type) {
	case *Request:
		a, err := s.app(ctx, r.GetClientID())
		if err != nil {
			return grant{}, err
		}
		id, cust := r.ID, r.CustomerID
		return grant{app: a, customerID: &cust, subject: cust.String(), scopes: r.GetScopes(), authReqID: &id, authTime: r.AuthTime, amr: r.AMR}, nil
	case *refreshRequest:
		a, err := s.app(ctx, r.clientID)
		if err != nil {
			return grant{}, err
		}
		cust := r.row.CustomerID
		return grant{app: a, customerID: &cust, subject: cust.String(), scopes: r.scopes, authReqID: r.row.AuthRequestID, authTime: r.row.AuthTime, amr: r.GetAMR()}, nil
	case *machineRequest:
		return grant{app: r.app, subject: r.app.ClientID, scopes: r.scopes}, nil
	}
	return grant{}, oidc.ErrUnsupportedGrantType()
}

// CreateAccessToken records an access token (tokenGrants signs its JWT)
// with the app's lifetime, spending the code it was issued for.
func (s *Storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	g, err := s.grantOf(ctx, t, req)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	w := issue{access: newAccessRow(t, g, nil, now)}
	if r, ok := req.(*Request); ok {
		w.code = r
	}
	err = s.writeIssue(ctx, t, w, now)
	if errors.Is(err, errCodeSpent) {
		return "", time.Time{}, s.spentCode(ctx, t, w.code)
	}
	if err != nil {
		return "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	return w.access.ID.String(), w.access.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens issues an access token and a refresh token.
// Redeeming a refresh token rotates it: the old one is marked used in the
// same write (writeIssue), and if it was used already (two requests raced
// with the same token) the whole family is revoked instead.
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, _ string) (string, string, time.Time, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return "", "", time.Time{}, err
	}
	g, err := s.grantOf(ctx, t, req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if g.customerID == nil {
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	now := s.now()
	family := uuid.Must(uuid.NewV7())
	var w issue
	switch r := req.(type) {
	case *Request:
		w.code = r
	case *refreshRequest:
		family = r.row.FamilyID
		w.rotated = &r.row
	}
	token := "ghr_" + randomID(32)
	w.refresh = &refreshRow{
		ID: uuid.Must(uuid.NewV7()), TenantID: t.ID, AppID: g.app.ID, CustomerID: *g.customerID, FamilyID: family,
		TokenHash: hashToken(token), AuthRequestID: g.authReqID, Scopes: jsonList(g.scopes), AMR: strings.Join(g.amr, " "),
		AuthTime: g.authTime, CreatedAt: now, ExpiresAt: now.Add(g.app.RefreshTokenTTL),
	}
	w.access = newAccessRow(t, g, &family, now)
	err = s.writeIssue(ctx, t, w, now)
	switch {
	case errors.Is(err, errRefreshSpent):
		s.refreshReused(ctx, t, *w.rotated)
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used")
	case errors.Is(err, errCodeSpent):
		return "", "", time.Time{}, s.spentCode(ctx, t, w.code)
	case err != nil:
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	return w.access.ID.String(), token, w.access.ExpiresAt, nil
}

// TokenRequestByRefreshToken looks a refresh token up for redemption. A
// token that was already rotated away is being replayed: the whole family
// is revoked and the event audited. A disabled or deleted customer's token
// is dead too.
func (s *Storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	found, err := s.refreshWithSID(ctx, t, token)
	if err != nil {
		return nil, err
	}
	row := found.Row
	now := s.now()
	if row.UsedAt != nil {
		s.refreshReused(ctx, t, row)
		return nil, errTokenInactive
	}
	if row.RevokedAt != nil || !now.Before(row.ExpiresAt) {
		return nil, errTokenInactive
	}
	if c, err := s.joinedCustomer(ctx, t, found.Customer); err != nil || c.ID != row.CustomerID || c.Status != accounts.StatusActive {
		_ = s.revokeWhere(ctx, t, "family_id = ?", row.FamilyID)
		return nil, errTokenInactive
	}
	clientID, ok := stateOf(ctx).clientIDOf(row.AppID)
	if !ok {
		if err := s.db.WithContext(ctx).Table("apps").Where("tenant_id = ? AND id = ?", t.ID, row.AppID).Pluck("client_id", &clientID).Error; err != nil || clientID == "" {
			return nil, errTokenInactive
		}
	}
	req := &refreshRequest{row: row, clientID: clientID, scopes: unjsonList(row.Scopes)}
	if found.SID != nil {
		req.sid = *found.SID
	}
	return req, nil
}

// refreshWithSID is a refresh token of t with the sid of the sign-in its
// family began with and with its customer, in one query: the new id_token
// carries that sid and the customer's claims.
type refreshWithSID struct {
	Row      refreshRow              `gorm:"embedded"`
	SID      *string                 `gorm:"column:sid"`
	Customer accounts.JoinedCustomer `gorm:"embedded"`
}

func (s *Storage) refreshWithSID(ctx context.Context, t *tenants.Tenant, token string) (refreshWithSID, error) {
	var row refreshWithSID
	err := s.db.WithContext(ctx).Table("oidc_refresh_tokens AS r").
		Select("r.*, ar.sid, "+accounts.JoinedColumns("c")).
		Joins("LEFT JOIN oidc_auth_requests ar ON ar.id = r.auth_request_id AND ar.tenant_id = r.tenant_id").
		Joins("LEFT JOIN customers c ON c.id = r.customer_id AND c.tenant_id = r.tenant_id").
		Where("r.tenant_id = ? AND r.token_hash = ?", t.ID, hashToken(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, op.ErrInvalidRefreshToken
	}
	if err != nil {
		return row, oidc.ErrServerError().WithParent(err)
	}
	return row, nil
}

// spentCode answers an exchange that lost the race for its code: the
// winner's tokens are revoked, as for any replay.
func (s *Storage) spentCode(ctx context.Context, t *tenants.Tenant, r *Request) error {
	var row authRequestRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", t.ID, r.ID).Take(&row).Error; err == nil {
		s.codeReplayed(ctx, t, row)
	}
	return oidc.ErrInvalidGrant().WithDescription("code already used")
}

func (s *Storage) refreshByToken(ctx context.Context, t *tenants.Tenant, token string) (refreshRow, error) {
	var row refreshRow
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND token_hash = ?", t.ID, hashToken(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, op.ErrInvalidRefreshToken
	}
	if err != nil {
		return row, oidc.ErrServerError().WithParent(err)
	}
	return row, nil
}

func (s *Storage) refreshReused(ctx context.Context, t *tenants.Tenant, row refreshRow) {
	if err := s.revokeWhere(ctx, t, "family_id = ?", row.FamilyID); err != nil {
		s.log.ErrorContext(ctx, "oidc_refresh_family_revoke_failed", "tenant_id", t.ID.String(), "error", err)
	}
	s.log.WarnContext(ctx, "oidc_refresh_token_reused", "tenant_id", t.ID.String(), "family_id", row.FamilyID.String())
	s.record(ctx, t, "customer:"+row.CustomerID.String(), "oidc.refresh_token.reused", row.AppID.String(),
		map[string]any{"family_id": row.FamilyID.String(), "revoked": "the whole token family"})
}

// revokeWhere revokes the tenant's refresh and access tokens matching one
// condition (a family, or the code they came from), in one transaction.
func (s *Storage) revokeWhere(ctx context.Context, t *tenants.Tenant, cond string, arg any) error {
	now := s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&refreshRow{}).Where("tenant_id = ? AND revoked_at IS NULL", t.ID).Where(cond, arg).Update("revoked_at", now).Error; err != nil {
			return err
		}
		return tx.Model(&accessRow{}).Where("tenant_id = ? AND revoked_at IS NULL", t.ID).Where(cond, arg).Update("revoked_at", now).Error
	})
}

func (s *Storage) customerActive(ctx context.Context, t *tenants.Tenant, id uuid.UUID) bool {
	c, err := s.customer(ctx, t, id)
	return err == nil && c.Status == accounts.StatusActive
}

// activeAccess returns a live access token of the tenant by its jti.
func (s *Storage) activeAccess(ctx context.Context, t *tenants.Tenant, tokenID string) (accessRow, error) {
	var row accessRow
	id, err := uuid.Parse(tokenID)
	if err != nil {
		return row, errTokenInactive
	}
	err = s.db.WithContext(ctx).Where("tenant_id = ? AND id = ? AND revoked_at IS NULL AND expires_at > ?", t.ID, id, s.now()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, errTokenInactive
	}
	if err != nil {
		return row, oidc.ErrServerError().WithParent(err)
	}
	if row.CustomerID != nil && !s.customerActive(ctx, t, *row.CustomerID) {
		_ = s.revokeWhere(ctx, t, "customer_id = ?", *row.CustomerID)
		return row, errTokenInactive
	}
	return row, nil
}

// GetRefreshTokenInfo names a refresh token of this client, for revocation.
func (s *Storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return "", "", err
	}
	a, err := s.app(ctx, clientID)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	row, err := s.refreshByToken(ctx, t, token)
	if err != nil || row.AppID != a.ID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return row.CustomerID.String(), row.ID.String(), nil
}

// RevokeToken revokes a refresh token (and the access tokens of its
// family, RFC 7009 §2.1) or one access token, only when it belongs to the
// calling client of this tenant. Unknown tokens are not an error (§2.2).
func (s *Storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	t, err := tenantOf(ctx)
	if err != nil {
		return oidc.ErrServerError()
	}
	a, err := s.app(ctx, clientID)
	if err != nil {
		return oidc.ErrInvalidClient()
	}
	db := s.db.WithContext(ctx)
	if id, err := uuid.Parse(tokenOrID); err == nil {
		var r refreshRow
		if db.Where("tenant_id = ? AND app_id = ? AND id = ?", t.ID, a.ID, id).Take(&r).Error == nil {
			if err := s.revokeWhere(ctx, t, "family_id = ?", r.FamilyID); err != nil {
				return oidc.ErrServerError()
			}
			return nil
		}
		if err := db.Model(&accessRow{}).Where("tenant_id = ? AND app_id = ? AND id = ? AND revoked_at IS NULL", t.ID, a.ID, id).Update("revoked_at", s.now()).Error; err != nil {
			return oidc.ErrServerError()
		}
		return nil
	}
	if r, err := s.refreshByToken(ctx, t, tokenOrID); err == nil && r.AppID == a.ID {
		if err := s.revokeWhere(ctx, t, "family_id = ?", r.FamilyID); err != nil {
			return oidc.ErrServerError()
		}
	}
	return nil
}

// TerminateSession is not used: TerminateSessionFromRequest replaces it.
func (s *Storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the browser's session on this host for
// RP-initiated logout. It ends it only when the id_token_hint names the
// customer signed in here: a bare GET link from anywhere must not sign
// people out. Without one the customer lands on /account, where logging out
// is a POST.
func (s *Storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return "", err
	}
	st := stateOf(ctx)
	if st == nil || st.sessionToken == "" {
		return req.RedirectURI, nil
	}
	sess, err := s.sessions.Lookup(ctx, st.sessionToken, "customer", t.ID, st.host)
	if err != nil {
		return req.RedirectURI, nil
	}
	if req.IDTokenHintClaims == nil || req.UserID != sess.SubjectID.String() {
		return "/account", nil
	}
	if err := s.sessions.Revoke(ctx, st.sessionToken); err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	s.SessionEnded(ctx, t, st.sessionToken)
	s.record(ctx, t, "customer:"+sess.SubjectID.String(), "customer.logout", req.ClientID, map[string]any{"via": "end_session"})
	return req.RedirectURI, nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does
// the work.
func (s *Storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the id_token's claims by scope.
func (s *Storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	t, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	id, err := uuid.Parse(req.GetSubject())
	if err != nil {
		return oidc.ErrServerError().WithDescription("no customer")
	}
	c, err := s.customer(ctx, t, id)
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	setClaims(info, t, c, scopes)
	if sid := s.sidOf(ctx, t, req); sid != "" {
		info.AppendClaims("sid", sid)
	}
	return nil
}

// SetUserinfoFromToken answers userinfo for a live access token of this
// tenant. A machine app's token names no customer and gets nothing.
func (s *Storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	row, err := s.activeAccess(ctx, t, tokenID)
	if err != nil {
		return err
	}
	if row.CustomerID == nil || row.Subject != subject {
		return errTokenInactive
	}
	c, err := s.customer(ctx, t, *row.CustomerID)
	if err != nil {
		return errTokenInactive
	}
	setClaims(info, t, c, unjsonList(row.Scopes))
	return nil
}

// SetIntrospectionFromToken answers RFC 7662 for a confidential client of
// this tenant (op has checked its secret) about a live token of the same
// tenant. Anything else is "active": false.
func (s *Storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	caller, err := s.app(ctx, clientID)
	if err != nil || !caller.Confidential() {
		return errTokenInactive
	}
	row, err := s.activeAccess(ctx, t, tokenID)
	if err != nil || row.Subject != subject {
		return errTokenInactive
	}
	owner := caller.ClientID
	if row.AppID != caller.ID {
		owner = ""
		s.db.WithContext(ctx).Table("apps").Where("tenant_id = ? AND id = ?", t.ID, row.AppID).Pluck("client_id", &owner)
	}
	scopes := unjsonList(row.Scopes)
	resp.Scope = scopes
	resp.ClientID = owner
	resp.TokenType = oidc.BearerToken
	resp.Subject = row.Subject
	resp.Audience = []string{owner}
	resp.Issuer = op.IssuerFromContext(ctx)
	resp.JWTID = row.ID.String()
	resp.IssuedAt = oidc.FromTime(row.CreatedAt)
	resp.Expiration = oidc.FromTime(row.ExpiresAt)
	if row.CustomerID != nil {
		if c, err := s.customer(ctx, t, *row.CustomerID); err == nil {
			info := new(oidc.UserInfo)
			setClaims(info, t, c, scopes)
			resp.SetUserInfo(info)
		}
	}
	return nil
}

// GetPrivateClaimsFromScopes adds RFC 9068's scope claim to access tokens.
func (s *Storage) GetPrivateClaimsFromScopes(_ context.Context, _, _ string, scopes []string) (map[string]any, error) {
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

// GetKeyByIDAndClientID is for private_key_jwt clients, which we do not
// offer.
func (s *Storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("private_key_jwt is not supported")
}

// ValidateJWTProfileScopes is for the JWT bearer grant, which we do not
// offer.
func (s *Storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// ClientCredentials authenticates a machine app for client_credentials.
func (s *Storage) ClientCredentials(ctx context.Context, clientID, secret string) (op.Client, error) {
	a, err := s.authenticate(ctx, clientID, secret)
	if err != nil {
		return nil, err
	}
	if a.Type != apps.Machine {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("only machine apps may use client_credentials")
	}
	return &client{app: a}, nil
}

// ClientCredentialsTokenRequest grants a machine app the API scopes it
// asked for, all of which must be registered for it; none asked is all.
func (s *Storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	a, err := s.app(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		scopes = a.Scopes
	}
	for _, sc := range scopes {
		if !slices.Contains(a.Scopes, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not registered for this app", sc)
		}
	}
	return &machineRequest{app: a, scopes: scopes}, nil
}

// setClaims maps a customer to the standard claims their scopes allow, and
// to the tenant's own claims whose scope was granted. sub is the customer
// id.
func setClaims(info *oidc.UserInfo, t *tenants.Tenant, c *accounts.Customer, scopes []string) {
	setFieldClaims(info, t, c, scopes)
	info.Subject = c.ID.String()
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := c.Profile[k].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeEmail:
			info.Email = c.Email
			info.EmailVerified = oidc.Bool(c.EmailVerified)
		case oidc.ScopeProfile:
			info.GivenName = str("given_name", "first_name")
			info.FamilyName = str("family_name", "last_name")
			info.Name = str("name", "full_name")
			if info.Name == "" {
				info.Name = strings.TrimSpace(info.GivenName + " " + info.FamilyName)
			}
			info.Birthdate = str("birthdate", "birthday", "date_of_birth")
			info.UpdatedAt = oidc.FromTime(c.UpdatedAt)
		case oidc.ScopePhone:
			info.PhoneNumber = str("phone_number", "phone", "mobile")
		}
	}
}
