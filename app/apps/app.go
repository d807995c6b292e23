// Package apps keeps each tenant's OAuth clients: the brand's web sites,
// single-page apps, mobile apps and back-end services that sign customers
// in through the tenant's OpenID Provider. It owns the registration rules
// (which redirect URIs a type may have, which grants it gets) and the client
// secrets, stored only as a hash. The provider (app/oidc) and the CLI read
// and write through it; it knows nothing of either.
package apps

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/apperr"
)

// Type is what kind of software the client is, which decides how it
// authenticates and which grants it may use.
type Type string

// The app types.
const (
	// Web is a server-side web app: confidential (it keeps a secret),
	// authorization code with PKCE.
	Web Type = "web"
	// SPA is a browser app: public, PKCE with S256 required, and the
	// origins allowed to call the token endpoint from JavaScript.
	SPA Type = "spa"
	// Native is a mobile or desktop app: public, PKCE, redirects to a
	// custom scheme or to a loopback address on any port (RFC 8252).
	Native Type = "native"
	// Machine is a back-end service: client_credentials only, with the API
	// scopes it may ask for.
	Machine Type = "machine"
)

// Types lists the app types in the order people meet them.
var Types = []Type{Web, SPA, Native, Machine}

// ParseType returns the type named s, or an Invalid error naming the field.
func ParseType(s string) (Type, error) {
	if t := Type(s); slices.Contains(Types, t) {
		return t, nil
	}
	return "", apperr.Field("type", "must be one of web, spa, native or machine")
}

// Confidential reports whether apps of this type hold a client secret.
func (t Type) Confidential() bool { return t == Web || t == Machine }

// Signing algorithms an app's tokens may be signed with. ES256 is the
// default; RS256 is there for clients that only verify RSA.
const (
	ES256 = "ES256"
	RS256 = "RS256"
)

// Lifetime bounds. Signing keys are kept until every token they signed has
// expired, so no token may outlive MaxTokenLifetime.
const (
	DefaultAccessTokenTTL  = 15 * time.Minute
	DefaultIDTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	MaxTokenLifetime       = 24 * time.Hour
	MaxRefreshTokenTTL     = 365 * 24 * time.Hour
)

// App is one OAuth client as other packages see it. The secret hashes stay
// in the store.
type App struct {
	ID             uuid.UUID
	TenantID       uuid.UUID
	ClientID       string
	Name           string
	Type           Type
	RedirectURIs   []string
	PostLogoutURIs []string
	CORSOrigins    []string
	Scopes         []string // extra scopes the app may ask for (a machine app's API scopes)
	FirstParty     bool     // the brand's own app: no consent screen
	// BackchannelLogoutURI is where the app takes logout tokens when a
	// customer's session ends (OpenID Connect Back-Channel Logout); empty
	// for none.
	BackchannelLogoutURI string
	SigningAlg           string
	AccessTokenTTL       time.Duration
	RefreshTokenTTL      time.Duration
	IDTokenTTL           time.Duration
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Confidential reports whether the app authenticates with a secret.
func (a *App) Confidential() bool { return a.Type.Confidential() }

// RedirectAllowed reports whether uri is one of the app's redirect URIs.
// The match is exact, except that a native app's loopback redirect
// (127.0.0.1 or [::1]) may use any port, as RFC 8252 §7.3 asks: the app
// picks a free port when it runs.
func (a *App) RedirectAllowed(uri string) bool {
	return matchURI(a.Type, a.RedirectURIs, uri)
}

// PostLogoutAllowed reports whether uri is one of the app's post-logout
// redirect URIs, by the same rule as RedirectAllowed.
func (a *App) PostLogoutAllowed(uri string) bool {
	return matchURI(a.Type, a.PostLogoutURIs, uri)
}

// OriginAllowed reports whether a browser page at origin may call the token
// endpoint for this app.
func (a *App) OriginAllowed(origin string) bool {
	return origin != "" && slices.Contains(a.CORSOrigins, origin)
}

func matchURI(t Type, registered []string, uri string) bool {
	if uri == "" {
		return false
	}
	if slices.Contains(registered, uri) {
		return true
	}
	if t != Native {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || !isLoopbackIP(u.Hostname()) {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Scheme != "http" || !isLoopbackIP(ru.Hostname()) {
			continue
		}
		if ru.Hostname() == u.Hostname() && ru.Path == u.Path && ru.RawQuery == u.RawQuery && u.Fragment == "" && u.User == nil {
			return true
		}
	}
	return false
}

// isLoopbackIP is true for the literal loopback addresses RFC 8252 names.
// "localhost" is not one: it can resolve elsewhere.
func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLocalHost is a development host, where plain http is acceptable.
func isLocalHost(host string) bool {
	return isLoopbackIP(host) || host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// checkRedirect validates one redirect or post-logout URI for an app type,
// naming field in the error.
func checkRedirect(t Type, field, raw string) error {
	if len(raw) > 2000 {
		return apperr.Field(field, "%q is longer than 2000 characters", truncate(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || !u.IsAbs() {
		return apperr.Field(field, "%q is not an absolute URL", truncate(raw))
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return apperr.Field(field, "%q must not have a fragment", truncate(raw))
	}
	if u.User != nil {
		return apperr.Field(field, "%q must not carry a user name or password", truncate(raw))
	}
	if strings.ContainsAny(u.Host, "*") || strings.Contains(raw, "*") {
		return apperr.Field(field, "%q: wildcards are not allowed; register each URI exactly", truncate(raw))
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return apperr.Field(field, "%q has no host", truncate(raw))
		}
		return nil
	case "http":
		if isLocalHost(u.Hostname()) {
			return nil
		}
		return apperr.Field(field, "%q must use https (plain http is only for 127.0.0.1, [::1] and localhost)", truncate(raw))
	}
	// A custom scheme: native apps only, and in reverse-DNS form (RFC 8252
	// §7.1) so that two apps are unlikely to claim the same one.
	if t != Native {
		return apperr.Field(field, "%q: only native apps may use a custom scheme", truncate(raw))
	}
	if !strings.Contains(u.Scheme, ".") {
		return apperr.Field(field, "%q: a custom scheme must be reverse-DNS, such as com.example.app:/callback", truncate(raw))
	}
	return nil
}

// checkBackchannelURI validates a back-channel logout URI: an https URL
// (http only on loopback and localhost) with no fragment, which the
// provider calls from its servers (through the guarded outbound client).
func checkBackchannelURI(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" {
		return apperr.Field(BackchannelField, "%q must be an https URL", truncate(raw))
	}
	return checkRedirect(Web, BackchannelField, raw)
}

// BackchannelField names the back-channel logout URI in forms and errors.
const BackchannelField = "backchannel-logout-uri"

// checkOrigin validates a CORS origin: scheme and host only.
func checkOrigin(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return apperr.Field("cors-origin", "%q is not an origin such as https://app.example.com", truncate(raw))
	}
	if u.Scheme == "http" && !isLocalHost(u.Hostname()) {
		return apperr.Field("cors-origin", "%q must use https", truncate(raw))
	}
	return nil
}

// scopePattern is what a scope token may contain (RFC 6749 §3.3), kept to
// a readable subset.
func checkScope(s string) error {
	if s == "" || len(s) > 100 {
		return apperr.Field("scope", "%q is not a scope", truncate(s))
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":._-/", r)) {
			return apperr.Field("scope", "%q: scopes use letters, digits and : . _ - / only", truncate(s))
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
