// Package socialapps keeps each tenant's social login apps: which
// providers are enabled, their client ids and endpoints, and the client
// secret, sealed at rest with the master key and opened only through
// Store.ClientSecret. It knows nothing of the console or of casbin; the
// console writes through it and the social login flow reads through it.
package socialapps

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/app/secrets"
	"gatehouse/apperr"
)

// Kind is a provider type.
type Kind string

// The provider kinds. OIDC is any OpenID Connect provider found through its
// discovery document (a brand's own CIAM); OAuth2 is a plain OAuth 2.0
// provider with explicit endpoints and a userinfo URL.
const (
	Google   Kind = "google"
	Facebook Kind = "facebook"
	Apple    Kind = "apple"
	GitHub   Kind = "github"
	OIDC     Kind = "oidc"
	OAuth2   Kind = "oauth2"
)

// Kinds lists the providers in the order the console shows them.
var Kinds = []Kind{Google, Facebook, Apple, GitHub, OIDC, OAuth2}

// ParseKind returns the kind named s, or NotFound (an unknown provider in a
// URL is a page that does not exist).
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", apperr.New(apperr.NotFound, "no such provider")
}

// Label is the provider's name as people know it.
func (k Kind) Label() string {
	switch k {
	case Google:
		return "Google"
	case Facebook:
		return "Facebook"
	case Apple:
		return "Apple"
	case GitHub:
		return "GitHub"
	case OIDC:
		return "OpenID Connect"
	case OAuth2:
		return "OAuth 2.0"
	}
	return string(k)
}

// DefaultScopes are what a new app of kind k asks for.
func (k Kind) DefaultScopes() []string {
	switch k {
	case Google, OIDC:
		return []string{"openid", "email", "profile"}
	case Facebook:
		return []string{"email", "public_profile"}
	case Apple:
		return []string{"name", "email"}
	case GitHub:
		return []string{"read:user", "user:email"}
	}
	return nil
}

// NeedsDiscovery reports whether the kind is configured by a discovery URL.
func (k Kind) NeedsDiscovery() bool { return k == OIDC }

// NeedsEndpoints reports whether the kind is configured by explicit URLs.
func (k Kind) NeedsEndpoints() bool { return k == OAuth2 }

// App is one provider's settings as other packages see them. The sealed
// secret is unexported: read it with Store.ClientSecret.
type App struct {
	Kind         Kind
	Configured   bool // a row exists
	Enabled      bool
	ClientID     string
	HasSecret    bool
	DiscoveryURL string
	AuthURL      string
	TokenURL     string
	UserInfoURL  string
	Scopes       []string
	ClaimMapping map[string]string // our profile key → the provider's claim
	UpdatedAt    time.Time

	sealed string
}

type row struct {
	ID           uuid.UUID
	TenantID     uuid.UUID
	Kind         string
	Enabled      bool
	ClientID     string
	SealedSecret string
	DiscoveryURL string
	AuthURL      string
	TokenURL     string
	UserinfoURL  string
	Scopes       string
	ClaimMapping datatypes.JSON
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (row) TableName() string { return "social_providers" }

// Store keeps social apps. Every method takes the tenant, and every query
// carries it.
type Store struct {
	db  *gorm.DB
	box *secrets.Box
}

// NewStore returns a store on db sealing secrets with box.
func NewStore(db *gorm.DB, box *secrets.Box) *Store { return &Store{db: db, box: box} }

// List returns one App per kind, in Kinds order; kinds never configured
// come back with Configured false and their default scopes.
func (s *Store) List(ctx context.Context, tenantID uuid.UUID) ([]App, error) {
	if tenantID == uuid.Nil {
		return nil, errNoTenant
	}
	var rows []row
	if err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list social apps")
	}
	byKind := map[Kind]row{}
	for _, r := range rows {
		byKind[Kind(r.Kind)] = r
	}
	out := make([]App, 0, len(Kinds))
	for _, k := range Kinds {
		if r, ok := byKind[k]; ok {
			out = append(out, fromRow(r))
		} else {
			out = append(out, App{Kind: k, Scopes: k.DefaultScopes(), ClaimMapping: map[string]string{}})
		}
	}
	return out, nil
}

// Enabled returns the tenant's enabled apps, in Kinds order.
func (s *Store) Enabled(ctx context.Context, tenantID uuid.UUID) ([]App, error) {
	all, err := s.List(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if a.Enabled {
			out = append(out, a)
		}
	}
	return out, nil
}

// Get returns one app of the tenant; an unconfigured kind comes back with
// Configured false.
func (s *Store) Get(ctx context.Context, tenantID uuid.UUID, kind Kind) (App, error) {
	if tenantID == uuid.Nil {
		return App{}, errNoTenant
	}
	r, err := s.row(ctx, s.db, tenantID, kind)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return App{Kind: kind, Scopes: kind.DefaultScopes(), ClaimMapping: map[string]string{}}, nil
	}
	if err != nil {
		return App{}, apperr.Wrap(err, "find social app")
	}
	return fromRow(r), nil
}

func (s *Store) row(ctx context.Context, tx *gorm.DB, tenantID uuid.UUID, kind Kind) (row, error) {
	var r row
	err := tx.WithContext(ctx).Where("tenant_id = ? AND kind = ?", tenantID, string(kind)).Take(&r).Error
	return r, err
}

// ClientSecret opens the tenant's sealed client secret for kind. It is the
// one way to read a secret, for the login flow; the console never calls it.
func (s *Store) ClientSecret(ctx context.Context, tenantID uuid.UUID, kind Kind) (string, error) {
	a, err := s.Get(ctx, tenantID, kind)
	if err != nil {
		return "", err
	}
	if a.sealed == "" {
		return "", apperr.New(apperr.NotFound, "no client secret for %s", kind.Label())
	}
	plain, err := s.box.Open(a.sealed, sealContext(tenantID, kind))
	if err != nil {
		return "", apperr.Wrap(err, "open client secret of %s", kind)
	}
	return plain, nil
}

// Input is a change to one app. An empty ClientSecret keeps the stored
// one: the console never shows a secret, so it can only replace it.
type Input struct {
	Enabled      bool
	ClientID     string
	ClientSecret string
	DiscoveryURL string
	AuthURL      string
	TokenURL     string
	UserInfoURL  string
	Scopes       []string
	ClaimMapping map[string]string
}

// Save validates in and stores it as the tenant's app of kind, in one
// transaction, and returns the app before and after (for the audit trail).
func (s *Store) Save(ctx context.Context, tenantID uuid.UUID, kind Kind, in Input) (before, after App, err error) {
	if tenantID == uuid.Nil {
		return App{}, App{}, errNoTenant
	}
	if !slices.Contains(Kinds, kind) {
		return App{}, App{}, apperr.New(apperr.NotFound, "no such provider")
	}
	if err := in.normalize(kind); err != nil {
		return App{}, App{}, err
	}
	now := time.Now().UTC()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx
		if tx.Dialector.Name() == "postgres" {
			q = tx.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		r, err := s.row(ctx, q, tenantID, kind)
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			before = App{Kind: kind, Scopes: kind.DefaultScopes(), ClaimMapping: map[string]string{}}
			r = row{ID: uuid.Must(uuid.NewV7()), TenantID: tenantID, Kind: string(kind), CreatedAt: now}
		case err != nil:
			return apperr.Wrap(err, "find social app")
		default:
			before = fromRow(r)
		}
		if in.ClientSecret != "" {
			sealed, err := s.box.Seal(in.ClientSecret, sealContext(tenantID, kind))
			if err != nil {
				return apperr.Wrap(err, "seal client secret")
			}
			r.SealedSecret = sealed
		}
		if in.Enabled && (in.ClientID == "" || r.SealedSecret == "") {
			return apperr.Field("enabled", "%s needs a client id and a client secret before it can be enabled", kind.Label())
		}
		mapping, err := json.Marshal(in.ClaimMapping)
		if err != nil {
			return apperr.Wrap(err, "encode claim mapping")
		}
		r.Enabled, r.ClientID, r.DiscoveryURL = in.Enabled, in.ClientID, in.DiscoveryURL
		r.AuthURL, r.TokenURL, r.UserinfoURL = in.AuthURL, in.TokenURL, in.UserInfoURL
		r.Scopes, r.ClaimMapping, r.UpdatedAt = strings.Join(in.Scopes, " "), mapping, now
		if err := tx.Save(&r).Error; err != nil {
			return apperr.Wrap(err, "save social app")
		}
		after = fromRow(r)
		return nil
	})
	if err != nil {
		return App{}, App{}, err
	}
	return before, after, nil
}

var (
	errNoTenant  = apperr.New(apperr.Invalid, "tenant required")
	scopePattern = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]{1,100}$`) // RFC 6749 scope-token
	claimKey     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	claimName    = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,100}$`)
)

// Normalize trims and checks an input for kind; the error names the form
// field. Save runs it too; the console runs it first so that a URL is
// well-formed before anything fetches it.
func (in *Input) Normalize(kind Kind) error { return in.normalize(kind) }

// normalize trims and checks an input; the error names the form field.
func (in *Input) normalize(kind Kind) error {
	in.ClientID = strings.TrimSpace(in.ClientID)
	if len(in.ClientID) > 300 || strings.ContainsAny(in.ClientID, " \t\r\n") || !utf8.ValidString(in.ClientID) {
		return apperr.Field("client_id", "must be at most 300 characters, without spaces")
	}
	if len(in.ClientSecret) > 4096 || strings.ContainsAny(in.ClientSecret, "\r\n") {
		return apperr.Field("client_secret", "must be one line of at most 4096 characters")
	}
	in.ClientSecret = strings.TrimSpace(in.ClientSecret)
	urls := []struct {
		field string
		value *string
		need  bool
	}{
		{"discovery_url", &in.DiscoveryURL, kind.NeedsDiscovery()},
		{"auth_url", &in.AuthURL, kind.NeedsEndpoints()},
		{"token_url", &in.TokenURL, kind.NeedsEndpoints()},
		{"userinfo_url", &in.UserInfoURL, kind.NeedsEndpoints()},
	}
	for _, u := range urls {
		*u.value = strings.TrimSpace(*u.value)
		if !u.need {
			*u.value = ""
			continue
		}
		if *u.value == "" {
			if in.Enabled {
				return apperr.Field(u.field, "is required for %s", kind.Label())
			}
			continue
		}
		if err := checkURL(*u.value); err != nil {
			return apperr.Field(u.field, "%v", err)
		}
	}
	var scopes []string
	for _, sc := range in.Scopes {
		for _, f := range strings.Fields(sc) {
			if !scopePattern.MatchString(f) {
				return apperr.Field("scopes", "%q is not a valid scope", f)
			}
			if !slices.Contains(scopes, f) {
				scopes = append(scopes, f)
			}
		}
	}
	if len(scopes) > 30 {
		return apperr.Field("scopes", "at most 30 scopes")
	}
	in.Scopes = scopes
	if len(in.ClaimMapping) > 40 {
		return apperr.Field("claim_mapping", "at most 40 mappings")
	}
	for k, v := range in.ClaimMapping {
		if !claimKey.MatchString(k) || !claimName.MatchString(v) {
			return apperr.Field("claim_mapping", "%q = %q is not a valid mapping (profile_key = claim)", k, v)
		}
	}
	if in.ClaimMapping == nil {
		in.ClaimMapping = map[string]string{}
	}
	return nil
}

// checkURL accepts https URLs, and http only to loopback (a provider on the
// developer's machine or in a test).
func checkURL(raw string) error {
	if len(raw) > 500 {
		return errors.New("is longer than 500 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("must be a full URL such as https://id.example.com/.well-known/openid-configuration")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("must use https")
	}
	return errors.New("must be an https URL")
}

func sealContext(tenantID uuid.UUID, kind Kind) string {
	return "social:" + tenantID.String() + ":" + string(kind)
}

func fromRow(r row) App {
	a := App{
		Kind: Kind(r.Kind), Configured: true, Enabled: r.Enabled, ClientID: r.ClientID, HasSecret: r.SealedSecret != "",
		DiscoveryURL: r.DiscoveryURL, AuthURL: r.AuthURL, TokenURL: r.TokenURL, UserInfoURL: r.UserinfoURL,
		Scopes: strings.Fields(r.Scopes), ClaimMapping: map[string]string{}, UpdatedAt: r.UpdatedAt.UTC(), sealed: r.SealedSecret,
	}
	if len(r.ClaimMapping) > 0 {
		_ = json.Unmarshal(r.ClaimMapping, &a.ClaimMapping)
	}
	return a
}
