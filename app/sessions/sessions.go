// Package sessions keeps customer and staff sessions server-side, so they
// can be listed and revoked. The cookie holds a random token; the database
// holds only its SHA-256, so a leaked table opens no session. Every session
// is bound to a tenant (none for staff) and to the host it was made on.
package sessions

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/apperr"
	"gatehouse/txn"
)

// Kind says whose session it is.
type Kind string

// The kinds of session.
const (
	Customer Kind = "customer"
	Staff    Kind = "staff"
)

// Session is one signed-in browser.
type Session struct {
	ID         string // SHA-256 of the token, hex; safe to show and to revoke by
	Kind       Kind
	TenantID   uuid.UUID // uuid.Nil for staff
	SubjectID  uuid.UUID // the customer or staff member
	Host       string
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	Idle       time.Duration
	// AMR is how the subject authenticated when the session began, as
	// RFC 8176 method references ("pwd", "fed"); empty for sessions made
	// before it was recorded.
	AMR []string
}

type row struct {
	ID          string
	Kind        string
	TenantID    *uuid.UUID
	SubjectID   uuid.UUID
	Host        string
	IP          string
	UserAgent   string
	CreatedAt   time.Time
	LastSeenAt  time.Time
	IdleSeconds int
	ExpiresAt   time.Time
	AMR         string `gorm:"column:amr"`
}

func (row) TableName() string { return "sessions" }

// Store keeps sessions.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStore returns a store on db.
func NewStore(db *gorm.DB) *Store {
	return &Store{db: db, now: func() time.Time { return time.Now().UTC() }}
}

// New describes a session to create.
type New struct {
	Kind      Kind
	TenantID  uuid.UUID
	SubjectID uuid.UUID
	Host      string
	IP        string
	UserAgent string
	Idle      time.Duration // ends after this much inactivity
	Max       time.Duration // ends this long after creation, however active
	AMR       []string      // how the subject authenticated (RFC 8176)
}

// ErrNoSession is what every failed lookup returns, whatever the reason, so
// a caller learns nothing about other tenants' sessions.
var ErrNoSession = apperr.New(apperr.Unauthorized, "please sign in")

// Create starts a session and returns the token for the cookie. The token
// has 256 bits from crypto/rand.
func (s *Store) Create(ctx context.Context, n New) (string, Session, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Session{}, apperr.Wrap(err, "session token")
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	r := row{
		ID: hashToken(token), Kind: string(n.Kind), SubjectID: n.SubjectID, Host: n.Host,
		IP: truncate(n.IP, 64), UserAgent: truncate(n.UserAgent, 256),
		CreatedAt: now, LastSeenAt: now, IdleSeconds: int(n.Idle / time.Second), ExpiresAt: now.Add(n.Max),
		AMR: strings.Join(n.AMR, " "),
	}
	if n.TenantID != uuid.Nil {
		id := n.TenantID
		r.TenantID = &id
	}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return "", Session{}, apperr.Wrap(err, "create session")
	}
	return token, fromRow(r), nil
}

// Lookup returns the live session of token, of kind, on tenantID and host.
// A session from another tenant or host, an expired or idle one, or an
// unknown token are all ErrNoSession. A hit refreshes the idle clock at most
// once a minute, so reading pages does not write on every request.
func (s *Store) Lookup(ctx context.Context, token string, kind Kind, tenantID uuid.UUID, host string) (Session, error) {
	if token == "" || len(token) > 100 {
		return Session{}, ErrNoSession
	}
	var r row
	err := scope(s.db.WithContext(ctx), kind, tenantID).Where("id = ? AND host = ?", hashToken(token), host).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, apperr.Wrap(err, "find session")
	}
	now := s.now()
	sess := fromRow(r)
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(sess.Idle)) {
		s.db.WithContext(ctx).Where("id = ?", r.ID).Delete(&row{})
		return Session{}, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		s.db.WithContext(ctx).Model(&row{}).Where("id = ?", r.ID).Update("last_seen_at", now)
		sess.LastSeenAt = now
	}
	return sess, nil
}

// Revoke ends the session of token.
func (s *Store) Revoke(ctx context.Context, token string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", hashToken(token)).Delete(&row{}).Error; err != nil {
		return apperr.Wrap(err, "revoke session")
	}
	return nil
}

// RevokeID ends one session of a subject, by its id as List shows it.
func (s *Store) RevokeID(ctx context.Context, kind Kind, tenantID, subjectID uuid.UUID, id string) error {
	res := scope(s.db.WithContext(ctx), kind, tenantID).Where("subject_id = ? AND id = ?", subjectID, id).Delete(&row{})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "revoke session")
	}
	if res.RowsAffected == 0 {
		return apperr.New(apperr.NotFound, "no such session")
	}
	return nil
}

// RevokeAll ends every session of a subject except the one whose token is
// keep (empty keeps none): after a password change, a reset, or disabling
// an account.
func (s *Store) RevokeAll(ctx context.Context, kind Kind, tenantID, subjectID uuid.UUID, keep string) error {
	q := scope(txn.DB(ctx, s.db), kind, tenantID).Where("subject_id = ?", subjectID)
	if keep != "" {
		q = q.Where("id <> ?", hashToken(keep))
	}
	if err := q.Delete(&row{}).Error; err != nil {
		return apperr.Wrap(err, "revoke sessions")
	}
	return nil
}

// List returns a subject's live sessions, newest first.
func (s *Store) List(ctx context.Context, kind Kind, tenantID, subjectID uuid.UUID) ([]Session, error) {
	var rows []row
	err := scope(s.db.WithContext(ctx), kind, tenantID).
		Where("subject_id = ? AND expires_at > ?", subjectID, s.now()).
		Order("created_at DESC").Find(&rows).Error
	if err != nil {
		return nil, apperr.Wrap(err, "list sessions")
	}
	out := make([]Session, 0, len(rows))
	now := s.now()
	for _, r := range rows {
		if sess := fromRow(r); now.Before(sess.LastSeenAt.Add(sess.Idle)) {
			out = append(out, sess)
		}
	}
	return out, nil
}

// IDOf returns the id (hash) of token, to compare with Session.ID.
func IDOf(token string) string { return hashToken(token) }

// scope is the tenant predicate every query carries: customer sessions are
// matched on their tenant, staff sessions on having none.
func scope(q *gorm.DB, kind Kind, tenantID uuid.UUID) *gorm.DB {
	q = q.Model(&row{}).Where("kind = ?", string(kind))
	if kind == Staff {
		return q.Where("tenant_id IS NULL")
	}
	if tenantID == uuid.Nil {
		// A customer query without a tenant must match nothing, never everything.
		return q.Where("1 = 0")
	}
	return q.Where("tenant_id = ?", tenantID)
}

func fromRow(r row) Session {
	s := Session{
		ID: r.ID, Kind: Kind(r.Kind), SubjectID: r.SubjectID, Host: r.Host, IP: r.IP, UserAgent: r.UserAgent,
		CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		Idle: time.Duration(r.IdleSeconds) * time.Second, AMR: strings.Fields(r.AMR),
	}
	if r.TenantID != nil {
		s.TenantID = *r.TenantID
	}
	return s
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
