package social

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// WellKnown is the path OpenID Connect Discovery puts under an issuer.
const WellKnown = "/.well-known/openid-configuration"

// Discovery is what a provider's discovery document says, as far as
// sign-in needs it.
type Discovery struct {
	Issuer      string   `json:"issuer"`
	AuthURL     string   `json:"authorization_endpoint"`
	TokenURL    string   `json:"token_endpoint"`
	UserInfoURL string   `json:"userinfo_endpoint"`
	JWKSURL     string   `json:"jwks_uri"`
	Algorithms  []string `json:"id_token_signing_alg_values_supported"`
}

// DiscoveryURL is where the document of configured lives. configured is an
// issuer (kept exactly, a trailing slash included) or, as older settings
// and some admins give it, the full discovery URL.
func DiscoveryURL(configured string) string {
	if strings.HasSuffix(configured, WellKnown) {
		return configured
	}
	return strings.TrimSuffix(configured, "/") + WellKnown
}

// issuerMatches applies OpenID Connect Discovery §4.3: the issuer in the
// document must be exactly the one the document was looked up for. When
// only the discovery URL is known, the issuer it was built from is the URL
// without its well-known suffix, with or without the trailing slash that
// the suffix's own slash hides (Auth0's issuers end in "/").
func issuerMatches(configured, issuer string) bool {
	if !strings.HasSuffix(configured, WellKnown) {
		return issuer == configured
	}
	base := strings.TrimSuffix(configured, WellKnown)
	return issuer == base || issuer == base+"/"
}

// Discover fetches and checks the discovery document of configured
// through client, the outbound client.
func Discover(ctx context.Context, client *http.Client, configured string) (Discovery, error) {
	if configured == "" {
		return Discovery{}, errors.New("no issuer is configured")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, DiscoveryURL(configured), nil)
	if err != nil {
		return Discovery{}, fmt.Errorf("bad issuer URL: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Discovery{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Discovery{}, fmt.Errorf("GET %s answered %s", req.URL.Redacted(), resp.Status)
	}
	var d Discovery
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return Discovery{}, fmt.Errorf("the discovery document is not JSON: %w", err)
	}
	if !issuerMatches(configured, d.Issuer) {
		return Discovery{}, fmt.Errorf("the document's issuer %q does not match the configured %q", d.Issuer, configured)
	}
	if d.AuthURL == "" || d.TokenURL == "" || d.JWKSURL == "" {
		return Discovery{}, errors.New("the document lacks authorization_endpoint, token_endpoint or jwks_uri")
	}
	return d, nil
}

// CountKeys fetches a JWKS and counts its keys, for the console's "Test
// connection": a provider with no signing keys cannot sign anyone in.
func CountKeys(ctx context.Context, client *http.Client, jwksURL string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s answered %s", req.URL.Redacted(), resp.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return 0, fmt.Errorf("the JWKS is not JSON: %w", err)
	}
	return len(set.Keys), nil
}
