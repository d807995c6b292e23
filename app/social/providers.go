// Package social is log-in through Google, Facebook, Apple, GitHub and a
// brand's own OpenID Connect or OAuth 2.0 system. Providers are built per
// tenant from its sealed settings (never goth's global registry or gothic),
// cached, and rebuilt when the settings change. The app owns the flow
// state: random state, a nonce and PKCE where the provider allows, bound to
// the tenant, the provider and the browser, single use, ten minutes.
package social

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/markbates/goth"
	"github.com/markbates/goth/providers/facebook"
	"github.com/markbates/goth/providers/github"
	"github.com/markbates/goth/providers/google"
	"golang.org/x/oauth2"

	"gatehouse/app/accounts"
	"gatehouse/app/socialapps"
	"gatehouse/apperr"
)

// flow is what a provider needs to start and finish one sign-in.
type flow struct {
	State    string
	Nonce    string
	Verifier string // PKCE code verifier
}

// provider is one tenant's configured identity provider.
type provider interface {
	authURL(f flow) string
	exchange(ctx context.Context, code string, f flow) (accounts.Claims, error)
	formPost() bool // the callback arrives as a cross-site POST (Apple)
}

// oidcProvider is any OpenID Connect provider: a brand's CIAM, or Apple.
// The id_token is verified here (signature through the issuer's JWKS,
// issuer, audience, expiry, nonce): goth does not do it.
type oidcProvider struct {
	kind     string
	client   *http.Client
	provider *oidc.Provider
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
	mapping  map[string]string
	post     bool
}

// newOIDC discovers the provider at issuer (or, when issuer is empty, at
// the app's configured issuer or discovery URL). The document's issuer
// must match exactly (OpenID Connect Discovery §4.3), and that exact
// issuer, trailing slash and all, is what id_tokens are checked against.
func newOIDC(ctx context.Context, client *http.Client, app socialapps.App, secret, callback, issuer string) (*oidcProvider, error) {
	if issuer == "" {
		issuer = app.DiscoveryURL
	}
	d, err := Discover(ctx, client, issuer)
	if err != nil {
		return nil, fail(ReasonDiscovery, err)
	}
	pc := oidc.ProviderConfig{IssuerURL: d.Issuer, AuthURL: d.AuthURL, TokenURL: d.TokenURL, UserInfoURL: d.UserInfoURL, JWKSURL: d.JWKSURL, Algorithms: d.Algorithms}
	p := pc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), client))
	scopes := app.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	return &oidcProvider{
		kind: string(app.Kind), client: client, provider: p, mapping: app.ClaimMapping, post: app.Kind == socialapps.Apple,
		config:   oauth2.Config{ClientID: app.ClientID, ClientSecret: secret, RedirectURL: callback, Endpoint: p.Endpoint(), Scopes: scopes},
		verifier: p.Verifier(&oidc.Config{ClientID: app.ClientID}),
	}, nil
}

func (p *oidcProvider) formPost() bool { return p.post }

func (p *oidcProvider) authURL(f flow) string {
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if p.post {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", "form_post"))
	}
	return p.config.AuthCodeURL(f.State, opts...)
}

func (p *oidcProvider) exchange(ctx context.Context, code string, f flow) (accounts.Claims, error) {
	ctx = oidc.ClientContext(ctx, p.client)
	tok, err := p.config.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return accounts.Claims{}, tokenFailure(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return accounts.Claims{}, fail(ReasonIDToken, errors.New("the token response has no id_token"))
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return accounts.Claims{}, fail(ReasonIDToken, err)
	}
	if idt.Nonce != f.Nonce {
		return accounts.Claims{}, fail(ReasonIDToken, errors.New("the nonce does not match"))
	}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return accounts.Claims{}, fail(ReasonIDToken, err)
	}
	if p.lacksClaims(all) && p.provider.UserInfoEndpoint() != "" {
		more, err := p.userinfo(ctx, tok, idt.Subject)
		if err != nil {
			return accounts.Claims{}, err
		}
		// The id_token's own claims win; userinfo fills what it lacks.
		for k, v := range more {
			if _, ok := all[k]; !ok {
				all[k] = v
			}
		}
	}
	cl := claimsFrom(p.kind, idt.Subject, all, p.mapping)
	cl.Issuer = idt.Issuer
	return cl, nil
}

// lacksClaims reports whether the id_token is missing the email or a claim
// the tenant maps: OpenID Connect Core lets a provider put them only at
// userinfo (§5.4), and many do.
func (p *oidcProvider) lacksClaims(all map[string]any) bool {
	if v, _ := all["email"].(string); v == "" {
		return true
	}
	for _, claim := range p.mapping {
		if _, ok := lookup(all, claim); !ok {
			return true
		}
	}
	return false
}

// userinfo fetches the userinfo claims with the access token. Its subject
// must be the id_token's (Core §5.3.2): otherwise the answer is about
// someone else and must not be used.
func (p *oidcProvider) userinfo(ctx context.Context, tok *oauth2.Token, subject string) (map[string]any, error) {
	ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fail(ReasonUserinfo, err)
	}
	if ui.Subject != subject {
		return nil, fail(ReasonUserinfo, fmt.Errorf("userinfo names subject %q, the id_token %q", ui.Subject, subject))
	}
	var more map[string]any
	if err := ui.Claims(&more); err != nil {
		return nil, fail(ReasonUserinfo, err)
	}
	return more, nil
}

// claimsFrom maps standard OpenID claims and the tenant's claim mapping
// (profile key → claim name, dotted for nested objects) to accounts.Claims.
func claimsFrom(kind, subject string, all map[string]any, mapping map[string]string) accounts.Claims {
	cl := accounts.Claims{Provider: kind, Subject: subject, Raw: all, Profile: map[string]string{}}
	cl.Email, _ = all["email"].(string)
	switch v := all["email_verified"].(type) {
	case bool:
		cl.EmailVerified = v
	case string:
		cl.EmailVerified = v == "true"
	}
	standard := map[string]string{"first_name": "given_name", "last_name": "family_name", "name": "name", "locale": "locale", "picture": "picture"}
	for key, claim := range standard {
		if v, ok := lookup(all, claim); ok {
			cl.Profile[key] = v
		}
	}
	for key, claim := range mapping {
		if v, ok := lookup(all, claim); ok {
			cl.Profile[key] = v
		}
	}
	return cl
}

// lookup reads a dotted path ("address.country") from claims as text.
func lookup(all map[string]any, path string) (string, bool) {
	var cur any = all
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = m[part]
	}
	switch v := cur.(type) {
	case string:
		return v, v != ""
	case float64:
		return fmt.Sprint(v), true
	case bool:
		return fmt.Sprint(v), true
	}
	return "", false
}

// oauth2Provider is a plain OAuth 2.0 system with a userinfo endpoint: the
// subject and email come from the claim mapping ("subject", "email",
// "email_verified"; defaults "sub"/"id", "email", "email_verified").
type oauth2Provider struct {
	client      *http.Client
	issuer      string // the token URL: it names the system whose subjects these are
	config      oauth2.Config
	userinfoURL string
	mapping     map[string]string
}

func (p *oauth2Provider) formPost() bool { return false }

func (p *oauth2Provider) authURL(f flow) string {
	return p.config.AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier))
}

func (p *oauth2Provider) exchange(ctx context.Context, code string, f flow) (accounts.Claims, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	tok, err := p.config.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return accounts.Claims{}, tokenFailure(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.userinfoURL, nil)
	if err != nil {
		return accounts.Claims{}, fail(ReasonUserinfo, err)
	}
	tok.SetAuthHeader(req)
	resp, err := p.client.Do(req)
	if err != nil {
		return accounts.Claims{}, fail(ReasonUserinfo, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return accounts.Claims{}, fail(ReasonUserinfo, fmt.Errorf("userinfo answered %s", resp.Status))
	}
	var all map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&all); err != nil {
		return accounts.Claims{}, fail(ReasonUserinfo, err)
	}
	pick := func(key string, defaults ...string) string {
		if claim := p.mapping[key]; claim != "" {
			v, _ := lookup(all, claim)
			return v
		}
		for _, d := range defaults {
			if v, ok := lookup(all, d); ok {
				return v
			}
		}
		return ""
	}
	cl := claimsFrom("oauth2", pick("subject", "sub", "id"), all, p.mapping)
	cl.Email = pick("email", "email")
	cl.EmailVerified = pick("email_verified", "email_verified") == "true"
	cl.Issuer = p.issuer
	if cl.Subject == "" {
		return accounts.Claims{}, fail(ReasonUserinfo, errors.New("userinfo names no subject"))
	}
	return cl, nil
}

// gothProvider wraps goth's Google, Facebook and GitHub providers, built
// per tenant with the tenant's credentials and our HTTP client.
type gothProvider struct {
	kind string
	p    goth.Provider
	sess func() goth.Session
}

func (p *gothProvider) formPost() bool { return false }

func (p *gothProvider) authURL(f flow) string {
	s, err := p.p.BeginAuth(f.State)
	if err != nil {
		return ""
	}
	u, _ := s.GetAuthURL()
	return u
}

func (p *gothProvider) exchange(ctx context.Context, code string, f flow) (accounts.Claims, error) {
	sess := p.sess()
	if _, err := sess.Authorize(p.p, urlValues{"code": code}); err != nil {
		return accounts.Claims{}, tokenFailure(err)
	}
	u, err := p.p.FetchUser(sess)
	if err != nil {
		return accounts.Claims{}, fail(ReasonUserinfo, err)
	}
	cl := accounts.Claims{Provider: p.kind, Issuer: p.kind, Subject: u.UserID, Email: u.Email, Raw: u.RawData, Profile: map[string]string{}}
	switch p.kind {
	case string(socialapps.Google):
		cl.EmailVerified, _ = u.RawData["verified_email"].(bool)
	case string(socialapps.Facebook), string(socialapps.GitHub):
		// Facebook returns only confirmed addresses; GitHub shows only a
		// verified address as public, and goth falls back to the verified
		// primary one.
		cl.EmailVerified = u.Email != ""
	}
	for key, v := range map[string]string{"first_name": u.FirstName, "last_name": u.LastName, "name": u.Name, "picture": u.AvatarURL} {
		if v != "" {
			cl.Profile[key] = v
		}
	}
	if cl.Subject == "" {
		return accounts.Claims{}, fail(ReasonUserinfo, errors.New("the profile names no user id"))
	}
	return cl, nil
}

// urlValues is goth.Params over a map.
type urlValues map[string]string

func (v urlValues) Get(k string) string { return v[k] }

// Apps is what the registry needs from the social-apps store.
type Apps interface {
	Get(ctx context.Context, tenantID uuid.UUID, kind socialapps.Kind) (socialapps.App, error)
	Enabled(ctx context.Context, tenantID uuid.UUID) ([]socialapps.App, error)
	ClientSecret(ctx context.Context, tenantID uuid.UUID, kind socialapps.Kind) (string, error)
}

// registry builds and caches one provider per tenant and kind. An entry is
// rebuilt when the app's settings change (its UpdatedAt moves), which every
// node sees on its next sign-in because the settings are read per flow.
//
// A build that fails (discovery down, a refused address) is remembered for
// FailureTTL per tenant, kind and settings version: visitors are anonymous,
// and without it every visit to /social/oidc would make the server fetch
// the brand's discovery document again.
type registry struct {
	apps   Apps
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	cache  map[string]cached
}

// FailureTTL is how long a failed provider build is remembered.
const FailureTTL = 45 * time.Second

type cached struct {
	updated time.Time
	p       provider
	err     error     // a failed build, remembered until retry
	retry   time.Time // when a failed build may be tried again
}

func (r *registry) get(ctx context.Context, tenantID uuid.UUID, kind socialapps.Kind, callback string) (provider, error) {
	app, err := r.apps.Get(ctx, tenantID, kind)
	if err != nil {
		return nil, err
	}
	if !app.Enabled || !app.Configured {
		return nil, apperr.New(apperr.NotFound, "no such provider")
	}
	key := tenantID.String() + "/" + string(kind)
	r.mu.Lock()
	c, ok := r.cache[key]
	r.mu.Unlock()
	if ok && c.updated.Equal(app.UpdatedAt) {
		if c.err == nil {
			return c.p, nil
		}
		if r.now().Before(c.retry) {
			return nil, c.err
		}
	}
	secret, err := r.apps.ClientSecret(ctx, tenantID, kind)
	if err != nil {
		return nil, err
	}
	p, err := build(ctx, r.client, app, secret, callback)
	if err != nil {
		if _, isFailure := failureOf(err); isFailure {
			r.mu.Lock()
			r.cache[key] = cached{updated: app.UpdatedAt, err: err, retry: r.now().Add(FailureTTL)}
			r.mu.Unlock()
		}
		return nil, err
	}
	r.mu.Lock()
	r.cache[key] = cached{updated: app.UpdatedAt, p: p}
	r.mu.Unlock()
	return p, nil
}

func build(ctx context.Context, client *http.Client, app socialapps.App, secret, callback string) (provider, error) {
	switch app.Kind {
	case socialapps.OIDC:
		p, err := newOIDC(ctx, client, app, secret, callback, "")
		if err != nil {
			return nil, err
		}
		return p, nil
	case socialapps.Apple:
		p, err := newOIDC(ctx, client, app, secret, callback, "https://appleid.apple.com")
		if err != nil {
			return nil, err
		}
		return p, nil
	case socialapps.OAuth2:
		return &oauth2Provider{
			client: client, issuer: app.TokenURL, userinfoURL: app.UserInfoURL, mapping: app.ClaimMapping,
			config: oauth2.Config{ClientID: app.ClientID, ClientSecret: secret, RedirectURL: callback, Scopes: app.Scopes,
				Endpoint: oauth2.Endpoint{AuthURL: app.AuthURL, TokenURL: app.TokenURL}},
		}, nil
	case socialapps.Google:
		g := google.New(app.ClientID, secret, callback, app.Scopes...)
		g.HTTPClient = client
		return &gothProvider{kind: string(app.Kind), p: g, sess: func() goth.Session { return &google.Session{} }}, nil
	case socialapps.Facebook:
		fb := facebook.New(app.ClientID, secret, callback, app.Scopes...)
		fb.HTTPClient = client
		return &gothProvider{kind: string(app.Kind), p: fb, sess: func() goth.Session { return &facebook.Session{} }}, nil
	case socialapps.GitHub:
		gh := github.New(app.ClientID, secret, callback, app.Scopes...)
		gh.HTTPClient = client
		return &gothProvider{kind: string(app.Kind), p: gh, sess: func() goth.Session { return &github.Session{} }}, nil
	}
	return nil, apperr.New(apperr.NotFound, "no such provider")
}
