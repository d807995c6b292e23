package oidc

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/apps"
	"gatehouse/tenants"
)

// issue is what one grant writes: the tokens, and the one-time credential
// they were issued for (the authorization code, or the refresh token that
// rotates), which must be spent in the same write. At most one of code and
// rotated is set; neither is for client_credentials.
type issue struct {
	code    *Request    // the request whose code is redeemed
	rotated *refreshRow // the refresh token being rotated
	refresh *refreshRow // the new refresh token, if the grant gets one
	access  accessRow
}

// errRefreshSpent is a refresh token that another request rotated (or
// revoked) first: the caller treats it as a reuse.
var errRefreshSpent = errors.New("refresh token already used")

// The conditions under which a code or a refresh token may be spent, the
// same in both ways of writing a grant.
const (
	codeUnspent   = "tenant_id = ? AND id = ? AND code_used_at IS NULL AND code_expires_at > ?"
	refreshUnused = "tenant_id = ? AND id = ? AND used_at IS NULL AND revoked_at IS NULL"
)

// writeIssue records a grant, all or nothing. When the code was spent or the
// refresh token used by another request first, nothing is written and the
// error is errCodeSpent or errRefreshSpent; a code is spent only here, when
// its tokens are written, so an exchange that fails earlier (a wrong PKCE
// verifier, which clients retry) does not burn it.
//
// On PostgreSQL the whole write is one statement (issueStatement), which is
// its own transaction: one round trip where BEGIN, the UPDATE, two INSERTs
// and COMMIT took five, on the writes every code exchange and every refresh
// makes. SQLite cannot put an UPDATE or an INSERT inside WITH, so there the
// same steps run in a transaction. A client_credentials token spends nothing
// and is one row, which one INSERT writes atomically on either.
func (s *Storage) writeIssue(ctx context.Context, t *tenants.Tenant, w issue, now time.Time) error {
	db := s.db.WithContext(ctx)
	switch {
	case w.code == nil && w.rotated == nil && w.refresh == nil:
		return db.Create(&w.access).Error
	case w.code == nil && w.rotated == nil:
		return errors.New("oidc: a refresh token is issued only for a code or a refresh token")
	case db.Dialector.Name() == "postgres":
		return issueStatement(db, t, w, now)
	}
	return db.Transaction(func(tx *gorm.DB) error {
		if err := spend(tx, t, w, now); err != nil {
			return err
		}
		if w.refresh != nil {
			if err := tx.Create(w.refresh).Error; err != nil {
				return err
			}
		}
		return tx.Create(&w.access).Error
	})
}

// spend marks the code or the rotated refresh token used, inside the
// transaction that writes the tokens (SQLite). The code's row is then kept
// as long as any of its tokens may live, to recognise a replay.
func spend(tx *gorm.DB, t *tenants.Tenant, w issue, now time.Time) error {
	var res *gorm.DB
	spent := errCodeSpent
	switch {
	case w.code != nil:
		res = tx.Model(&authRequestRow{}).Where(codeUnspent, t.ID, w.code.ID, now).
			Updates(map[string]any{"code_used_at": now, "expires_at": now.Add(apps.MaxRefreshTokenTTL)})
	case w.rotated != nil:
		res = tx.Model(&refreshRow{}).Where(refreshUnused, t.ID, w.rotated.ID).Update("used_at", now)
		spent = errRefreshSpent
	default:
		return nil
	}
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return spent
	}
	return nil
}

// The parts of issueStatement. The first spends the code or rotates the
// refresh token, under the same conditions as spend, and returns the one
// row it changed; each INSERT takes its row FROM that one, so when it
// changed none (another request got there first) nothing is inserted. The
// inserted values are cast, since an INSERT … SELECT gives its parameters
// no type.
const (
	spendCodeSQL     = `spent AS (UPDATE oidc_auth_requests SET code_used_at = ?, expires_at = ? WHERE ` + codeUnspent + ` RETURNING id)`
	rotateSQL        = `spent AS (UPDATE oidc_refresh_tokens SET used_at = ? WHERE ` + refreshUnused + ` RETURNING id)`
	insertRefreshSQL = `new_refresh AS (INSERT INTO oidc_refresh_tokens ` +
		`(id, tenant_id, app_id, customer_id, family_id, token_hash, auth_request_id, scopes, amr, auth_time, created_at, expires_at) ` +
		`SELECT ?::uuid, ?::uuid, ?::uuid, ?::uuid, ?::uuid, ?::text, ?::text, ?::jsonb, ?::text, ?::timestamptz, ?::timestamptz, ?::timestamptz ` +
		`FROM spent RETURNING id)`
	insertAccessSQL = `new_access AS (INSERT INTO oidc_access_tokens ` +
		`(id, tenant_id, app_id, customer_id, subject, family_id, auth_request_id, scopes, created_at, expires_at) ` +
		`SELECT ?::uuid, ?::uuid, ?::uuid, ?::uuid, ?::text, ?::uuid, ?::text, ?::jsonb, ?::timestamptz, ?::timestamptz ` +
		`FROM spent RETURNING id)`
	issueCountSQL = ` SELECT (SELECT count(*) FROM spent), (SELECT count(*) FROM new_access)`
)

// issueStatementSQL is the PostgreSQL statement writing w, and its
// arguments. Every row it touches or inserts carries t's id.
func issueStatementSQL(t *tenants.Tenant, w issue, now time.Time) (string, []any) {
	parts := make([]string, 0, 3)
	var args []any
	tenant := t.ID.String()
	switch {
	case w.code != nil:
		parts = append(parts, spendCodeSQL)
		args = append(args, now, now.Add(apps.MaxRefreshTokenTTL), tenant, w.code.ID, now)
	case w.rotated != nil:
		parts = append(parts, rotateSQL)
		args = append(args, now, tenant, w.rotated.ID.String())
	}
	if r := w.refresh; r != nil {
		parts = append(parts, insertRefreshSQL)
		args = append(args, r.ID.String(), tenant, r.AppID.String(), r.CustomerID.String(), r.FamilyID.String(), r.TokenHash,
			r.AuthRequestID, r.Scopes, r.AMR, r.AuthTime, r.CreatedAt, r.ExpiresAt)
	}
	a := w.access
	parts = append(parts, insertAccessSQL)
	args = append(args, a.ID.String(), tenant, a.AppID.String(), optionalText(a.CustomerID), a.Subject, optionalText(a.FamilyID),
		a.AuthRequestID, a.Scopes, a.CreatedAt, a.ExpiresAt)
	return "WITH " + strings.Join(parts, ", ") + issueCountSQL, args
}

// optionalText is an optional id as the statement's text parameter, or
// NULL. The ids of issueStatementSQL go as text: pgx tries a uuid.UUID (a
// driver.Valuer that gives a string) in binary first, and builds an error
// for each one before it falls back to text.
func optionalText(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}

// issueStatement writes w on PostgreSQL in one statement (see writeIssue).
// Two requests spending the same code or refresh token at once are kept
// apart by the row lock of the UPDATE: the second waits for the first to
// commit, finds the row spent, and inserts nothing.
func issueStatement(db *gorm.DB, t *tenants.Tenant, w issue, now time.Time) error {
	q, args := issueStatementSQL(t, w, now)
	var spent, inserted int64
	if err := db.Raw(q, args...).Row().Scan(&spent, &inserted); err != nil {
		return err
	}
	if spent != 1 || inserted != 1 {
		if w.code != nil {
			return errCodeSpent
		}
		return errRefreshSpent
	}
	return nil
}

// newAccessRow is the row of an access token issued now from g, in family
// (nil outside a refresh token family).
func newAccessRow(t *tenants.Tenant, g grant, family *uuid.UUID, now time.Time) accessRow {
	return accessRow{
		ID: uuid.Must(uuid.NewV7()), TenantID: t.ID, AppID: g.app.ID, CustomerID: g.customerID, Subject: g.subject,
		FamilyID: family, AuthRequestID: g.authReqID, Scopes: jsonList(g.scopes), CreatedAt: now, ExpiresAt: now.Add(g.app.AccessTokenTTL),
	}
}
