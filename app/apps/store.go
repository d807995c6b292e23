package apps

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

type appRow struct {
	ID                   uuid.UUID
	TenantID             uuid.UUID
	ClientID             string
	Name                 string
	Type                 string
	RedirectURIs         datatypes.JSON `gorm:"column:redirect_uris"`
	PostLogoutURIs       datatypes.JSON `gorm:"column:post_logout_uris"`
	CORSOrigins          datatypes.JSON `gorm:"column:cors_origins"`
	Scopes               datatypes.JSON
	FirstParty           bool
	BackchannelLogoutURI string `gorm:"column:backchannel_logout_uri"`
	SigningAlg           string
	AccessTokenSeconds   int
	RefreshTokenSeconds  int
	IDTokenSeconds       int `gorm:"column:id_token_seconds"`
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

func (appRow) TableName() string { return "apps" }

type secretRow struct {
	ID         uuid.UUID
	TenantID   uuid.UUID
	AppID      uuid.UUID
	SecretHash string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
}

func (secretRow) TableName() string { return "app_secrets" }

// Store keeps apps. Bind it to one tenant with For.
type Store struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStore returns a store on db.
func NewStore(db *gorm.DB) *Store {
	return &Store{db: db, now: func() time.Time { return time.Now().UTC() }}
}

// TenantStore is the store bound to one tenant: every query carries its id,
// so a client id of another tenant finds nothing.
type TenantStore struct {
	s        *Store
	tenantID uuid.UUID
}

// For binds the store to tenantID. A nil id matches nothing.
func (s *Store) For(tenantID uuid.UUID) TenantStore { return TenantStore{s: s, tenantID: tenantID} }

var errNotFound = apperr.New(apperr.NotFound, "no such app")

// ErrBadSecret is a client secret that is wrong, expired or absent. The
// message is the same for an unknown client, so neither is told apart.
var ErrBadSecret = apperr.New(apperr.Unauthorized, "client authentication failed")

func (ts TenantStore) q(ctx context.Context) *gorm.DB {
	if ts.tenantID == uuid.Nil {
		return ts.s.db.WithContext(ctx).Where("1 = 0")
	}
	return ts.s.db.WithContext(ctx).Where("tenant_id = ?", ts.tenantID)
}

// New is what an admin gives to register an app.
type New struct {
	Name           string
	Type           Type
	RedirectURIs   []string
	PostLogoutURIs []string
	CORSOrigins    []string
	Scopes         []string
	FirstParty     bool
	// BackchannelLogoutURI receives logout tokens; empty for none.
	BackchannelLogoutURI string
	SigningAlg           string        // ES256 (default) or RS256
	AccessTokenTTL       time.Duration // 0 is the default
	RefreshTokenTTL      time.Duration
	IDTokenTTL           time.Duration
}

// validate checks the registration as a whole and fills in defaults. Its
// errors name the field and the offending value.
func (n *New) validate() error {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" {
		return apperr.Field("name", "is required")
	}
	if utf8.RuneCountInString(n.Name) > 100 {
		return apperr.Field("name", "must be at most 100 characters")
	}
	if _, err := ParseType(string(n.Type)); err != nil {
		return err
	}
	n.RedirectURIs = dedupe(n.RedirectURIs)
	n.PostLogoutURIs = dedupe(n.PostLogoutURIs)
	n.CORSOrigins = dedupe(n.CORSOrigins)
	n.Scopes = dedupe(n.Scopes)
	if n.Type == Machine {
		if len(n.RedirectURIs) > 0 || len(n.PostLogoutURIs) > 0 {
			return apperr.Field("redirect-uri", "a machine app signs no one in, so it has no redirect URIs")
		}
		if len(n.CORSOrigins) > 0 {
			return apperr.Field("cors-origin", "a machine app is not called from a browser")
		}
	} else if len(n.RedirectURIs) == 0 {
		return apperr.Field("redirect-uri", "a %s app needs at least one redirect URI", n.Type)
	}
	if n.Type != SPA && len(n.CORSOrigins) > 0 {
		return apperr.Field("cors-origin", "only spa apps call the token endpoint from a browser")
	}
	for _, u := range n.RedirectURIs {
		if err := checkRedirect(n.Type, "redirect-uri", u); err != nil {
			return err
		}
	}
	for _, u := range n.PostLogoutURIs {
		if err := checkRedirect(n.Type, "post-logout-uri", u); err != nil {
			return err
		}
	}
	for _, o := range n.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			return err
		}
	}
	for _, s := range n.Scopes {
		if err := checkScope(s); err != nil {
			return err
		}
	}
	n.BackchannelLogoutURI = strings.TrimSpace(n.BackchannelLogoutURI)
	if n.BackchannelLogoutURI != "" && n.Type == Machine {
		return apperr.Field(BackchannelField, "a machine app signs no one in, so it has no sessions to end")
	}
	if err := checkBackchannelURI(n.BackchannelLogoutURI); err != nil {
		return err
	}
	switch n.SigningAlg {
	case "":
		n.SigningAlg = ES256
	case ES256, RS256:
	default:
		return apperr.Field("signing-alg", "must be ES256 or RS256")
	}
	var err error
	if n.AccessTokenTTL, err = ttl("access-token-ttl", n.AccessTokenTTL, DefaultAccessTokenTTL, MaxTokenLifetime); err != nil {
		return err
	}
	if n.IDTokenTTL, err = ttl("id-token-ttl", n.IDTokenTTL, DefaultIDTokenTTL, MaxTokenLifetime); err != nil {
		return err
	}
	if n.RefreshTokenTTL, err = ttl("refresh-token-ttl", n.RefreshTokenTTL, DefaultRefreshTokenTTL, MaxRefreshTokenTTL); err != nil {
		return err
	}
	return nil
}

func ttl(field string, d, def, max time.Duration) (time.Duration, error) {
	if d == 0 {
		return def, nil
	}
	if d < time.Minute || d > max {
		return 0, apperr.Field(field, "must be between 1 minute and %s", max)
	}
	return d.Truncate(time.Second), nil
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Create registers an app and returns it with its secret in plain text,
// the only time the secret is ever seen; public apps get no secret.
func (ts TenantStore) Create(ctx context.Context, n New) (App, string, error) {
	if ts.tenantID == uuid.Nil {
		return App{}, "", apperr.New(apperr.Internal, "apps: no tenant")
	}
	if err := n.validate(); err != nil {
		return App{}, "", err
	}
	now := ts.s.now()
	clientID, err := randomToken(16)
	if err != nil {
		return App{}, "", err
	}
	r := appRow{
		ID: uuid.Must(uuid.NewV7()), TenantID: ts.tenantID, ClientID: clientID, Name: n.Name, Type: string(n.Type),
		RedirectURIs: list(n.RedirectURIs), PostLogoutURIs: list(n.PostLogoutURIs), CORSOrigins: list(n.CORSOrigins), Scopes: list(n.Scopes),
		FirstParty: n.FirstParty, BackchannelLogoutURI: n.BackchannelLogoutURI, SigningAlg: n.SigningAlg,
		AccessTokenSeconds: int(n.AccessTokenTTL / time.Second), RefreshTokenSeconds: int(n.RefreshTokenTTL / time.Second), IDTokenSeconds: int(n.IDTokenTTL / time.Second),
		CreatedAt: now, UpdatedAt: now,
	}
	var secret string
	err = ts.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		if !n.Type.Confidential() {
			return nil
		}
		var err error
		secret, err = addSecret(tx, r, now)
		return err
	})
	if err != nil {
		return App{}, "", apperr.Wrap(err, "apps: create")
	}
	return fromRow(r), secret, nil
}

// addSecret stores a new secret's hash for the app and returns the secret.
func addSecret(tx *gorm.DB, a appRow, now time.Time) (string, error) {
	raw, err := randomToken(32) // 256 bits
	if err != nil {
		return "", err
	}
	secret := "ghs_" + raw
	s := secretRow{ID: uuid.Must(uuid.NewV7()), TenantID: a.TenantID, AppID: a.ID, SecretHash: hashSecret(secret), CreatedAt: now}
	return secret, tx.Create(&s).Error
}

// List returns the tenant's apps by name.
func (ts TenantStore) List(ctx context.Context) ([]App, error) {
	var rows []appRow
	if err := ts.q(ctx).Order("name, created_at").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "apps: list")
	}
	out := make([]App, 0, len(rows))
	for _, r := range rows {
		out = append(out, fromRow(r))
	}
	return out, nil
}

// ByClientID returns the tenant's app with that client id, or NotFound;
// another tenant's client id is NotFound too.
func (ts TenantStore) ByClientID(ctx context.Context, clientID string) (App, error) {
	r, err := ts.row(ctx, clientID)
	if err != nil {
		return App{}, err
	}
	return fromRow(r), nil
}

func (ts TenantStore) row(ctx context.Context, clientID string) (appRow, error) {
	var r appRow
	if clientID == "" || len(clientID) > 100 {
		return r, errNotFound
	}
	err := ts.q(ctx).Where("client_id = ?", clientID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, errNotFound
	}
	if err != nil {
		return r, apperr.Wrap(err, "apps: find")
	}
	return r, nil
}

// Authenticate checks a confidential app's client secret against every
// secret still valid, in constant time, and returns the app. An unknown
// client, a public one, or a wrong or expired secret are all ErrBadSecret.
func (ts TenantStore) Authenticate(ctx context.Context, clientID, secret string) (App, error) {
	var c Credentials
	if clientID != "" && len(clientID) <= 100 && ts.tenantID != uuid.Nil {
		if err := ts.readCredentials(ctx, clientID, &c); err != nil {
			return App{}, err
		}
	}
	return ts.Check(&c, secret)
}

// appWithSecrets selects an app and its secrets, one row per secret (a
// row with NULL secret columns for an app that has none). It is written
// out and scanned by hand because it runs on every token and
// introspection request, where gorm's SQL building and reflective scan
// cost as much as the query itself.
var appWithSecrets = `SELECT ` + CredentialColumns("a", "s") + `
FROM apps a LEFT JOIN app_secrets s ON s.app_id = a.id AND s.tenant_id = a.tenant_id
WHERE a.tenant_id = ? AND a.client_id = ?`

func (ts TenantStore) readCredentials(ctx context.Context, clientID string, c *Credentials) error {
	rows, err := ts.s.db.WithContext(ctx).Raw(appWithSecrets, ts.tenantID.String(), clientID).Rows()
	if err != nil {
		return apperr.Wrap(err, "apps: find")
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(c.Dest()...); err != nil {
			return apperr.Wrap(err, "apps: scan")
		}
		c.Scanned()
	}
	if err := rows.Err(); err != nil {
		return apperr.Wrap(err, "apps: find")
	}
	return nil
}

// Credentials gathers an app and its secrets from the rows of a statement
// whose select list begins with CredentialColumns, one row per secret (as
// a LEFT JOIN of app_secrets gives). It lets a caller check a client's
// secret and read something else in the same statement, as introspection
// does with the token it is asked about. Check decides.
type Credentials struct {
	row     appRow
	hash    sql.NullString
	expires sql.NullTime
	found   bool
	secrets []secretRow
}

// CredentialColumns is the select list of an app under alias app and one
// of its secrets under alias secret, in the order Dest expects.
func CredentialColumns(app, secret string) string {
	cols := []string{"id", "tenant_id", "client_id", "name", "type", "redirect_uris", "post_logout_uris",
		"cors_origins", "scopes", "first_party", "backchannel_logout_uri", "signing_alg", "access_token_seconds",
		"refresh_token_seconds", "id_token_seconds", "created_at", "updated_at"}
	for i, c := range cols {
		cols[i] = app + "." + c
	}
	return strings.Join(cols, ", ") + ", " + secret + ".secret_hash, " + secret + ".expires_at"
}

// Dest is where rows.Scan puts the columns CredentialColumns selects.
func (c *Credentials) Dest() []any {
	r := &c.row
	return []any{&r.ID, &r.TenantID, &r.ClientID, &r.Name, &r.Type, &r.RedirectURIs, &r.PostLogoutURIs,
		&r.CORSOrigins, &r.Scopes, &r.FirstParty, &r.BackchannelLogoutURI, &r.SigningAlg, &r.AccessTokenSeconds,
		&r.RefreshTokenSeconds, &r.IDTokenSeconds, &r.CreatedAt, &r.UpdatedAt, &c.hash, &c.expires}
}

// Scanned takes in the row just scanned into Dest.
func (c *Credentials) Scanned() {
	c.found = true
	if !c.hash.Valid {
		return
	}
	sec := secretRow{SecretHash: c.hash.String}
	if c.expires.Valid {
		at := c.expires.Time // expires is scanned into again on the next row
		sec.ExpiresAt = &at
	}
	c.secrets = append(c.secrets, sec)
}

// Check is the app the credentials hold if secret is one of its valid
// secrets and the app is a confidential one of this tenant's, else
// ErrBadSecret. No app at all costs the same hashing as a wrong secret.
func (ts TenantStore) Check(c *Credentials, secret string) (App, error) {
	if !c.found {
		subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(hashSecret("")))
		return App{}, ErrBadSecret
	}
	a := fromRow(c.row)
	if err := ts.matchSecret(a, c.secrets, secret); err != nil {
		return App{}, err
	}
	return a, nil
}

// CheckSecret is Authenticate for an app the caller has just loaded from
// this tenant store, so the token endpoint reads the app row once. The
// secrets are always read afresh: a rotation or deletion counts at once.
func (ts TenantStore) CheckSecret(ctx context.Context, a App, secret string) error {
	if !a.Type.Confidential() || secret == "" || a.TenantID != ts.tenantID {
		return ErrBadSecret
	}
	var secrets []secretRow
	if err := ts.q(ctx).Where("app_id = ?", a.ID).Find(&secrets).Error; err != nil {
		return apperr.Wrap(err, "apps: secrets")
	}
	return ts.matchSecret(a, secrets, secret)
}

// matchSecret compares secret with every one of a's secrets that is
// still valid, in constant time.
func (ts TenantStore) matchSecret(a App, secrets []secretRow, secret string) error {
	if !a.Type.Confidential() || secret == "" || a.TenantID != ts.tenantID {
		return ErrBadSecret
	}
	// SHA-256 is enough: secrets are 256 random bits, nothing to stretch.
	got := []byte(hashSecret(secret))
	now := ts.s.now()
	ok := 0
	for _, s := range secrets {
		live := s.ExpiresAt == nil || now.Before(*s.ExpiresAt)
		if subtle.ConstantTimeCompare(got, []byte(s.SecretHash)) == 1 && live {
			ok = 1
		}
	}
	if ok != 1 {
		return ErrBadSecret
	}
	return nil
}

// RotateSecret issues a new secret and lets the ones in use now work for
// grace more (zero ends them at once), so a deployment can switch over
// without downtime. It returns the new secret, shown only this once.
func (ts TenantStore) RotateSecret(ctx context.Context, clientID string, grace time.Duration) (string, error) {
	if grace < 0 || grace > 30*24*time.Hour {
		return "", apperr.Field("grace", "must be between 0 and 30 days")
	}
	r, err := ts.row(ctx, clientID)
	if err != nil {
		return "", err
	}
	if !Type(r.Type).Confidential() {
		return "", apperr.Field("client-id", "a %s app is public and has no secret", r.Type)
	}
	now := ts.s.now()
	until := now.Add(grace)
	var secret string
	err = ts.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Shorten, never lengthen, what the older secrets have left.
		if err := tx.Model(&secretRow{}).Where("tenant_id = ? AND app_id = ? AND (expires_at IS NULL OR expires_at > ?)", ts.tenantID, r.ID, until).
			Update("expires_at", until).Error; err != nil {
			return err
		}
		if err := tx.Where("tenant_id = ? AND app_id = ? AND expires_at <= ?", ts.tenantID, r.ID, now).Delete(&secretRow{}).Error; err != nil {
			return err
		}
		var err error
		secret, err = addSecret(tx, r, now)
		if err != nil {
			return err
		}
		return tx.Model(&appRow{}).Where("tenant_id = ? AND id = ?", ts.tenantID, r.ID).Update("updated_at", now).Error
	})
	if err != nil {
		return "", apperr.Wrap(err, "apps: rotate secret")
	}
	return secret, nil
}

// SetBackchannelLogoutURI changes (or, with "", clears) where the app takes
// logout tokens, and returns the app as it was before.
func (ts TenantStore) SetBackchannelLogoutURI(ctx context.Context, clientID, uri string) (App, error) {
	r, err := ts.row(ctx, clientID)
	if err != nil {
		return App{}, err
	}
	uri = strings.TrimSpace(uri)
	if uri != "" && Type(r.Type) == Machine {
		return App{}, apperr.Field(BackchannelField, "a machine app signs no one in, so it has no sessions to end")
	}
	if err := checkBackchannelURI(uri); err != nil {
		return App{}, err
	}
	if err := ts.q(ctx).Model(&appRow{}).Where("id = ?", r.ID).
		Updates(map[string]any{"backchannel_logout_uri": uri, "updated_at": ts.s.now()}).Error; err != nil {
		return App{}, apperr.Wrap(err, "apps: set back-channel logout URI")
	}
	return fromRow(r), nil
}

// Delete removes the app, its secrets and (through the foreign keys) every
// token issued to it.
func (ts TenantStore) Delete(ctx context.Context, clientID string) error {
	r, err := ts.row(ctx, clientID)
	if err != nil {
		return err
	}
	if err := ts.q(ctx).Where("id = ?", r.ID).Delete(&appRow{}).Error; err != nil {
		return apperr.Wrap(err, "apps: delete")
	}
	return nil
}

func fromRow(r appRow) App {
	return App{
		ID: r.ID, TenantID: r.TenantID, ClientID: r.ClientID, Name: r.Name, Type: Type(r.Type),
		RedirectURIs: unlist(r.RedirectURIs), PostLogoutURIs: unlist(r.PostLogoutURIs), CORSOrigins: unlist(r.CORSOrigins), Scopes: unlist(r.Scopes),
		FirstParty: r.FirstParty, BackchannelLogoutURI: r.BackchannelLogoutURI, SigningAlg: r.SigningAlg,
		AccessTokenTTL:  time.Duration(r.AccessTokenSeconds) * time.Second,
		RefreshTokenTTL: time.Duration(r.RefreshTokenSeconds) * time.Second,
		IDTokenTTL:      time.Duration(r.IDTokenSeconds) * time.Second,
		CreatedAt:       r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func list(s []string) datatypes.JSON {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return b
}

func unlist(b datatypes.JSON) []string {
	var s []string
	_ = json.Unmarshal(b, &s)
	return s
}

// hashSecret is SHA-256: the secrets are 256 random bits, so a slow hash
// would add nothing but cost on every token request.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", apperr.Wrap(err, "apps: random")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
