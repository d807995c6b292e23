package oidc

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apps"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// AccessToken is a live access token of one tenant, as the JSON API (a
// resource server on the same host) sees it.
type AccessToken struct {
	ID         uuid.UUID
	ClientID   string
	AppType    apps.Type
	FirstParty bool
	CustomerID uuid.UUID // uuid.Nil for a machine app's own token
	// Customer is the token's customer, active when the token was
	// checked, so the route need not read them again; nil for a machine
	// app's token.
	Customer  *accounts.Customer
	AppID     uuid.UUID
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// errBadToken is the one answer for any token that is not a live token of
// this tenant: forged, expired, revoked, another tenant's, or a disabled
// customer's. Callers cannot tell which, and neither can an attacker.
var errBadToken = &apperr.Error{Code: apperr.Unauthorized, Message: "The access token is invalid or has expired."}

// accessClaims are the RFC 9068 claims we read from our own JWTs.
type accessClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expiry   int64           `json:"exp"`
	JTI      string          `json:"jti"`
	ClientID string          `json:"client_id"`
}

func (c accessClaims) audience() []string {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Audience, &many)
	return many
}

// VerifyAccessToken checks a bearer token presented on t's host, whose
// issuer is issuer. The JWT must be typed at+jwt (so an id_token is not
// an access token), be signed by one of t's keys, name this
// issuer, be unexpired, and its jti must be a live row of t's
// oidc_access_tokens (not revoked, not expired) issued to an app of t whose
// client id is the audience. A customer's token also needs the customer to
// be active. Every failure is the same Unauthorized error.
func (s *Storage) VerifyAccessToken(ctx context.Context, t *tenants.Tenant, issuer, raw string) (AccessToken, error) {
	if t == nil || t.ID == uuid.Nil {
		return AccessToken{}, apperr.New(apperr.Internal, "oidc: no tenant")
	}
	now := s.now()
	cl, err := s.verifiedClaims(ctx, t, raw, now)
	if err != nil {
		return AccessToken{}, err
	}
	if cl.Issuer != issuer || cl.Expiry <= now.Unix() {
		return AccessToken{}, errBadToken
	}
	id, err := uuid.Parse(cl.JTI)
	if err != nil {
		return AccessToken{}, errBadToken
	}
	row, err := s.liveToken(ctx, t, id, now)
	if err != nil {
		return AccessToken{}, err
	}
	if row.Subject != cl.Subject || !slices.Contains(cl.audience(), row.ClientID) {
		return AccessToken{}, errBadToken
	}
	tok := AccessToken{
		ID: row.ID, ClientID: row.ClientID, AppType: apps.Type(row.Type), FirstParty: row.FirstParty,
		AppID: row.AppID, Scopes: unjsonList(row.Scopes), CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt,
	}
	if row.CustomerID.Valid {
		c, err := s.joinedCustomer(ctx, t, row.Customer)
		if apperr.Is(err, apperr.NotFound) || (err == nil && (c.ID != row.CustomerID.UUID || c.Status != accounts.StatusActive)) {
			return AccessToken{}, errBadToken
		}
		if err != nil {
			return AccessToken{}, apperr.Wrap(err, "oidc: load the token's customer")
		}
		tok.CustomerID, tok.Customer = c.ID, c
	}
	return tok, nil
}

// KnownClient is the client id of a token of t whose signature this node
// verified before and which has not expired. It says nothing about
// whether the token is still live: VerifyAccessToken decides that.
func (s *Storage) KnownClient(t *tenants.Tenant, raw string) (string, bool) {
	if t == nil {
		return "", false
	}
	cl, ok := s.verified.get(verifiedKeyOf(t.ID, raw), s.now())
	if !ok || cl.ClientID == "" || !slices.Contains(cl.audience(), cl.ClientID) {
		return "", false
	}
	return cl.ClientID, true
}

// verifiedClaims checks the JWT's signature against t's keys, or finds
// that it was checked before (verifiedTokens), and returns its claims.
func (s *Storage) verifiedClaims(ctx context.Context, t *tenants.Tenant, raw string, now time.Time) (accessClaims, error) {
	key := verifiedKeyOf(t.ID, raw)
	if cl, ok := s.verified.get(key, now); ok {
		return cl, nil
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return accessClaims{}, errBadToken
	}
	hdr := jws.Signatures[0].Header
	if !accessTokenTyped(hdr) {
		return accessClaims{}, errBadToken // an id_token, a logout token, or anything else signed by t
	}
	keys, err := s.keys.keys(ctx, t.ID, hdr.Algorithm)
	if err != nil {
		return accessClaims{}, err
	}
	var payload []byte
	for _, k := range keys {
		if k.KID == hdr.KeyID {
			payload, err = jws.Verify(k.Private.Public())
			break
		}
	}
	if payload == nil || err != nil {
		return accessClaims{}, errBadToken
	}
	var cl accessClaims
	if err := json.Unmarshal(payload, &cl); err != nil || cl.Expiry <= now.Unix() {
		return accessClaims{}, errBadToken
	}
	s.verified.put(key, cl, now)
	return cl, nil
}

// accessTokenTyped is RFC 9068 §4's check of the JOSE typ: "at+jwt", or
// its full media type (typ is case-insensitive, RFC 7515 §4.1.9).
func accessTokenTyped(hdr jose.Header) bool {
	typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string)
	return strings.EqualFold(typ, AccessTokenType) || strings.EqualFold(typ, "application/"+AccessTokenType)
}

type liveTokenRow struct {
	ID         uuid.UUID
	AppID      uuid.UUID
	Subject    string
	CustomerID uuid.NullUUID
	Scopes     []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ClientID   string
	Type       string
	FirstParty bool
	Customer   accounts.JoinedCustomer
}

// tokenColumns is the select list of a token (tok), its app (ta) and its
// customer (c), in the order liveTokenRow.dest expects.
var tokenColumns = `tok.id, tok.app_id, tok.subject, tok.customer_id, tok.scopes, tok.created_at, tok.expires_at,
	ta.client_id, ta.type, ta.first_party, ` + accounts.JoinedColumns("c")

// liveTokenQuery reads the token, its app and its customer (whole,
// because every caller of a customer's token needs them). A machine app's
// token names no customer: the customer's columns are then NULL.
var liveTokenQuery = `SELECT ` + tokenColumns + `
FROM oidc_access_tokens tok
JOIN apps ta ON ta.id = tok.app_id AND ta.tenant_id = tok.tenant_id
LEFT JOIN customers c ON c.id = tok.customer_id AND c.tenant_id = tok.tenant_id
WHERE tok.tenant_id = ? AND tok.id = ? AND tok.revoked_at IS NULL AND tok.expires_at > ?`

// liveToken runs liveTokenQuery, unless this request's introspection
// pre-read (prefetchIntrospection) has already looked the token up. It is
// the one read of every API request and userinfo, so it is written out and
// scanned by hand: gorm's SQL building and reflective scan cost as much
// as the query.
func (s *Storage) liveToken(ctx context.Context, t *tenants.Tenant, id uuid.UUID, now time.Time) (liveTokenRow, error) {
	if st := stateOf(ctx); st != nil && st.token != nil && st.token.id == id {
		if !st.token.live {
			return liveTokenRow{}, errBadToken
		}
		return st.token.row, nil
	}
	var row liveTokenRow
	rows, err := s.db.WithContext(ctx).Raw(liveTokenQuery, t.ID.String(), id.String(), now).Rows()
	if err != nil {
		return row, apperr.Wrap(err, "oidc: look up access token")
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return row, apperr.Wrap(err, "oidc: look up access token")
		}
		return row, errBadToken
	}
	if err := rows.Scan(row.dest()...); err != nil {
		return row, apperr.Wrap(err, "oidc: scan access token")
	}
	return row, nil
}

// dest is where rows.Scan puts the columns tokenColumns selects. A
// LEFT JOIN that found no token leaves every column NULL, and the row
// zero: its ID is uuid.Nil.
func (r *liveTokenRow) dest() []any {
	return append([]any{orZero[uuid.UUID]{&r.ID}, orZero[uuid.UUID]{&r.AppID}, orZero[string]{&r.Subject},
		&r.CustomerID, &r.Scopes, orZero[time.Time]{&r.CreatedAt}, orZero[time.Time]{&r.ExpiresAt},
		orZero[string]{&r.ClientID}, orZero[string]{&r.Type}, orZero[bool]{&r.FirstParty}}, r.Customer.Dest()...)
}

// orZero scans a column into *p, and NULL as the zero value. A value the
// driver already gives as a T is stored as it is; any other goes through
// database/sql's conversions (sql.Null), which cost an allocation.
type orZero[T any] struct{ p *T }

func (o orZero[T]) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		var zero T
		*o.p = zero
		return nil
	case T:
		*o.p = v
		return nil
	}
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return err
	}
	*o.p = n.V
	return nil
}

// prefetchedToken is what prefetchIntrospection found for the token with
// id: its row, when it is live.
type prefetchedToken struct {
	id   uuid.UUID
	row  liveTokenRow
	live bool
}

// introspectQuery is the one read of an introspection request: the
// calling app with its secrets, one row per secret (apps.Credentials),
// and beside each the token asked about with its app and customer, or
// NULLs when it is not a live token of the caller's tenant. The token's
// conditions are liveTokenQuery's.
var introspectQuery = `SELECT ` + apps.CredentialColumns("a", "s") + `, ` + tokenColumns + `
FROM apps a
LEFT JOIN app_secrets s ON s.app_id = a.id AND s.tenant_id = a.tenant_id
LEFT JOIN oidc_access_tokens tok ON tok.tenant_id = a.tenant_id AND tok.id = ? AND tok.revoked_at IS NULL AND tok.expires_at > ?
LEFT JOIN apps ta ON ta.id = tok.app_id AND ta.tenant_id = tok.tenant_id
LEFT JOIN customers c ON c.id = tok.customer_id AND c.tenant_id = tok.tenant_id
WHERE a.tenant_id = ? AND a.client_id = ?`

// prefetchIntrospection reads, before op parses an introspection request,
// what the request will need: the client named by its credentials (the
// request state's), and the token raw. Both come in one statement,
// introspectQuery. When the secret matches, the client counts as
// authenticated for this request and the token's row is kept for
// liveToken. Anything else (no secret, a forged token, a wrong secret, a
// failed read) leaves the state as it was, and the ordinary reads then
// decide and report.
func (s *Storage) prefetchIntrospection(ctx context.Context, t *tenants.Tenant, raw string) {
	st := stateOf(ctx)
	if st == nil || st.clientSecret == "" || raw == "" || t == nil || t.ID == uuid.Nil {
		return
	}
	now := s.now()
	cl, err := s.verifiedClaims(ctx, t, raw, now)
	if err != nil {
		return
	}
	id, err := uuid.Parse(cl.JTI)
	if err != nil {
		return
	}
	rows, err := s.db.WithContext(ctx).Raw(introspectQuery, id.String(), now, t.ID.String(), st.clientID).Rows()
	if err != nil {
		return
	}
	defer rows.Close()
	var (
		creds apps.Credentials
		tok   liveTokenRow
	)
	for rows.Next() {
		if err := rows.Scan(append(creds.Dest(), tok.dest()...)...); err != nil {
			return
		}
		creds.Scanned()
	}
	if rows.Err() != nil {
		return
	}
	a, err := s.apps.For(t.ID).Check(&creds, st.clientSecret)
	if err != nil {
		return
	}
	st.authenticated = true
	st.remember(a)
	st.token = &prefetchedToken{id: id, row: tok, live: tok.ID == id && tok.ClientID != ""}
}

// HasScope reports whether the token was granted scope.
func (a AccessToken) HasScope(scope string) bool {
	return slices.Contains(a.Scopes, scope)
}
