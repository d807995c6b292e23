package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/op"
	"gorm.io/gorm/clause"

	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/tenants"
	"gatehouse/txn"
)

// OpenID Connect Back-Channel Logout 1.0. When a customer's session on a
// tenant host ends (RP-initiated logout at end_session, or POST /logout on
// the hosted pages), every app of the tenant that the session signed in to
// and that registered a back-channel logout URI gets a logout_token, sent
// by a job so that a receiver that is down is retried.

// backchannelEvent is the logout token's one event (§2.4).
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenTTL bounds how long a receiver may accept a logout token.
const logoutTokenTTL = 2 * time.Minute

// LogoutQueue is where the provider hands logout tokens to send.
type LogoutQueue interface {
	EnqueueBackchannelLogout(ctx context.Context, p jobs.BackchannelLogout) error
}

type sessionAppRow struct {
	TenantID   uuid.UUID
	SessionID  string
	AppID      uuid.UUID
	CustomerID uuid.UUID
	SID        string `gorm:"column:sid"`
	Issuer     string
	CreatedAt  time.Time
}

func (sessionAppRow) TableName() string { return "oidc_session_apps" }

// sessionSID is the sid claim of a customer session: stable for the
// session's life, the same in every id_token and logout token issued for
// it, and telling nothing about the session's token (it is a hash of the
// session's id, itself the token's SHA-256).
func sessionSID(tenantID uuid.UUID, sessionID string) string {
	h := sha256.Sum256([]byte("gatehouse sid\x00" + tenantID.String() + "\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(h[:18])
}

// BindSession records that the browser's session (its token) signed in to
// the request's app, and gives the request the session's sid, so that the
// id_tokens carry it and the end of the session reaches the app.
func (s *Storage) BindSession(ctx context.Context, t *tenants.Tenant, req *Request, customerID uuid.UUID, sessionToken, issuer string) error {
	if sessionToken == "" {
		return nil
	}
	sessionID := hashToken(sessionToken)
	sid := sessionSID(t.ID, sessionID)
	db := s.db.WithContext(ctx)
	if err := db.Model(&authRequestRow{}).Where("tenant_id = ? AND id = ?", t.ID, req.ID).Update("sid", sid).Error; err != nil {
		return apperr.Wrap(err, "oidc: bind session")
	}
	req.SID = sid
	row := sessionAppRow{TenantID: t.ID, SessionID: sessionID, AppID: req.AppID, CustomerID: customerID, SID: sid, Issuer: issuer, CreatedAt: s.now()}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return apperr.Wrap(err, "oidc: bind session")
	}
	// Sessions that ended without a logout (expired, or revoked all at
	// once) leave pairs behind; the customer's are swept here, so the
	// table holds about one row per live session and app.
	if err := db.Where("tenant_id = ? AND customer_id = ? AND session_id NOT IN (?)", t.ID, customerID,
		db.Table("sessions").Select("id").Where("tenant_id = ? AND subject_id = ? AND expires_at > ?", t.ID, customerID, s.now())).
		Delete(&sessionAppRow{}).Error; err != nil {
		return apperr.Wrap(err, "oidc: sweep session apps")
	}
	return nil
}

// sidOf is the sid of the session an id_token is issued for: the one the
// authorization request was signed in with, also when a refresh token of
// that request asks.
func (s *Storage) sidOf(ctx context.Context, t *tenants.Tenant, req op.IDTokenRequest) string {
	switch r := req.(type) {
	case *Request:
		return r.SID
	case *refreshRequest:
		return r.sid // read with the refresh token (refreshWithSID)
	}
	return ""
}

// SessionEnded queues a logout token for every app of the tenant that the
// session signed in to and that takes them. The logout has already
// happened; a failure here is logged, not shown to the customer.
func (s *Storage) SessionEnded(ctx context.Context, t *tenants.Tenant, sessionToken string) {
	if t == nil || sessionToken == "" {
		return
	}
	s.sessionsEnded(ctx, t, "session_id = ?", hashToken(sessionToken))
}

// CustomerSessionsEnded is SessionEnded for every session of the customer
// at once but the one of keep (none when empty): staff disabled them,
// signed them out everywhere or deleted them, or they changed their
// password. Each app a session signed in to hears of that session.
func (s *Storage) CustomerSessionsEnded(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID, keep string) {
	if t == nil || customerID == uuid.Nil {
		return
	}
	if keep == "" {
		s.sessionsEnded(ctx, t, "customer_id = ?", customerID)
		return
	}
	s.sessionsEnded(ctx, t, "customer_id = ? AND session_id <> ?", customerID, hashToken(keep))
}

// sessionsEnded queues the logout tokens for the tenant's session-app
// pairs that match where, and removes the pairs.
func (s *Storage) sessionsEnded(ctx context.Context, t *tenants.Tenant, where string, args ...any) {
	db := s.db.WithContext(ctx)
	var rows []sessionAppRow
	if err := db.Where("tenant_id = ?", t.ID).Where(where, args...).Find(&rows).Error; err != nil {
		s.log.ErrorContext(ctx, "oidc_backchannel_lookup_failed", "tenant_id", t.ID.String(), "error", err)
		return
	}
	if len(rows) == 0 {
		return
	}
	list, err := s.apps.For(t.ID).List(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "oidc_backchannel_lookup_failed", "tenant_id", t.ID.String(), "error", err)
		return
	}
	// The logouts' outbox rows and the end of the sessions' app lists
	// commit together: each app hears of each logout once.
	err = txn.Run(ctx, s.db, func(ctx context.Context) error {
		for _, r := range rows {
			for _, a := range list {
				if a.ID != r.AppID || a.BackchannelLogoutURI == "" || s.queue == nil {
					continue
				}
				p := jobs.BackchannelLogout{TenantID: t.ID, ClientID: a.ClientID, Issuer: r.Issuer, Subject: r.CustomerID.String(), SID: r.SID}
				if err := s.queue.EnqueueBackchannelLogout(ctx, p); err != nil {
					return err
				}
			}
		}
		return txn.DB(ctx, s.db).Where("tenant_id = ?", t.ID).Where(where, args...).Delete(&sessionAppRow{}).Error
	})
	if err != nil {
		s.log.ErrorContext(ctx, "oidc_backchannel_enqueue_failed", "tenant_id", t.ID.String(), "error", err)
	}
}

// logoutClaims are a logout token's claims (§2.4). There is no nonce.
type logoutClaims struct {
	Issuer   string                    `json:"iss"`
	Audience []string                  `json:"aud"`
	IssuedAt int64                     `json:"iat"`
	Expiry   int64                     `json:"exp"`
	JWTID    string                    `json:"jti"`
	Events   map[string]map[string]any `json:"events"`
	Subject  string                    `json:"sub,omitempty"`
	SID      string                    `json:"sid,omitempty"`
}

// SendBackchannelLogout is the worker's half: it signs a logout token with
// the tenant's current key for the app's algorithm and POSTs it to the
// app's URI through the guarded outbound client. A receiver's 5xx, 408 or
// 429, or no answer, is retried by the queue; any other refusal is final.
// The app is looked up again within the payload's tenant, so a deleted app
// or a removed URI is not called.
func (s *Storage) SendBackchannelLogout(ctx context.Context, p jobs.BackchannelLogout) error {
	a, err := s.apps.For(p.TenantID).ByClientID(ctx, p.ClientID)
	if apperr.Is(err, apperr.NotFound) {
		return nil // the app was deleted since; nobody to tell
	}
	if err != nil {
		return err
	}
	if a.BackchannelLogoutURI == "" {
		return nil
	}
	token, err := s.logoutToken(ctx, p, a.ClientID, a.SigningAlg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.BackchannelLogoutURI, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return jobs.Permanent(fmt.Errorf("back-channel logout request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := s.outbound
	if client == nil {
		return jobs.Permanent(fmt.Errorf("no outbound client"))
	}
	resp, err := client.Do(req)
	if err != nil {
		s.log.WarnContext(ctx, "oidc_backchannel_failed", "tenant_id", p.TenantID.String(), "client_id", a.ClientID, "error", err)
		return fmt.Errorf("back-channel logout to %s: %w", a.ClientID, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		s.log.InfoContext(ctx, "oidc_backchannel_sent", "tenant_id", p.TenantID.String(), "client_id", a.ClientID)
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests:
		s.log.WarnContext(ctx, "oidc_backchannel_failed", "tenant_id", p.TenantID.String(), "client_id", a.ClientID, "status", resp.StatusCode)
		return fmt.Errorf("back-channel logout to %s: status %d", a.ClientID, resp.StatusCode)
	}
	s.log.WarnContext(ctx, "oidc_backchannel_refused", "tenant_id", p.TenantID.String(), "client_id", a.ClientID, "status", resp.StatusCode)
	return jobs.Permanent(fmt.Errorf("back-channel logout to %s: refused with status %d", a.ClientID, resp.StatusCode))
}

// logoutToken signs the logout token for one app (typ logout+jwt, §2.4).
func (s *Storage) logoutToken(ctx context.Context, p jobs.BackchannelLogout, clientID, alg string) (string, error) {
	key, err := s.keys.Signing(ctx, p.TenantID, alg)
	if err != nil {
		return "", err
	}
	signer, err := key.signer("logout+jwt")
	if err != nil {
		return "", apperr.Wrap(err, "oidc: logout token signer")
	}
	now := s.now()
	body, err := json.Marshal(logoutClaims{
		Issuer: p.Issuer, Audience: []string{clientID}, IssuedAt: now.Unix(), Expiry: now.Add(logoutTokenTTL).Unix(),
		JWTID: randomID(16), Events: map[string]map[string]any{backchannelEvent: {}}, Subject: p.Subject, SID: p.SID,
	})
	if err != nil {
		return "", apperr.Wrap(err, "oidc: logout token")
	}
	sig, err := signer.Sign(body)
	if err != nil {
		return "", apperr.Wrap(err, "oidc: sign logout token")
	}
	return sig.CompactSerialize()
}
