package apptest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// FakeOIDC is an OpenID provider for tests: discovery, an authorize
// endpoint that consents at once for the User it is told to be, a token
// endpoint that checks the client secret and PKCE, and a JWKS. Its knobs
// break the id_token in the ways a real attacker or a broken provider
// would.
type FakeOIDC struct {
	URL string // the issuer

	mu    sync.Mutex
	key   *rsa.PrivateKey
	other *rsa.PrivateKey // a key not in the JWKS
	codes map[string]grant
	seen  map[string]FakeUser // access token → user, for /userinfo
	// Clients maps client id → secret; the token endpoint refuses others.
	Clients map[string]string
	// SecretsSeen records which secret each client id presented.
	SecretsSeen map[string][]string

	// User is who signs in next.
	User FakeUser
	// Knobs for negative tests.
	SignWithUnknownKey bool
	Audience           string // override aud
	Expired            bool
	Nonce              string // override nonce
}

// FakeUser is the person at the provider.
type FakeUser struct {
	Subject       string
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
}

type grant struct {
	clientID, redirectURI, nonce, challenge string
	user                                    FakeUser
}

// StartFakeOIDC starts a provider on loopback for the test's lifetime.
func StartFakeOIDC(t testing.TB) *FakeOIDC {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	f := &FakeOIDC{key: key, other: other, codes: map[string]grant{}, seen: map[string]FakeUser{}, Clients: map[string]string{}, SecretsSeen: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("GET /userinfo", f.userinfo)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Set changes the fake under its lock.
func (f *FakeOIDC) Set(edit func(f *FakeOIDC)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	edit(f)
}

func (f *FakeOIDC) discovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": f.URL, "authorization_endpoint": f.URL + "/authorize", "token_endpoint": f.URL + "/token",
		"jwks_uri": f.URL + "/jwks", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported": []string{"S256"},
	})
}

// authorize consents at once: it redirects to redirect_uri with a code.
func (f *FakeOIDC) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	_, known := f.Clients[q.Get("client_id")]
	code := randomHex(16)
	f.codes[code] = grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), user: f.User}
	f.mu.Unlock()
	if !known || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorize request", http.StatusBadRequest)
		return
	}
	u, _ := url.Parse(q.Get("redirect_uri"))
	back := u.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (f *FakeOIDC) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	clientID, secret, ok := r.BasicAuth()
	if !ok {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id, err := url.QueryUnescape(clientID); err == nil {
		clientID = id
	}
	if s, err := url.QueryUnescape(secret); err == nil {
		secret = s
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.SecretsSeen[clientID] = append(f.SecretsSeen[clientID], secret)
	g, found := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code"))
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !found, g.clientID != clientID, f.Clients[clientID] != secret, g.redirectURI != r.PostForm.Get("redirect_uri"),
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	exp := now.Add(5 * time.Minute)
	if f.Expired {
		exp = now.Add(-time.Hour)
	}
	aud, nonce := g.clientID, g.nonce
	if f.Audience != "" {
		aud = f.Audience
	}
	if f.Nonce != "" {
		nonce = f.Nonce
	}
	claims := map[string]any{
		"iss": f.URL, "sub": g.user.Subject, "aud": aud, "exp": exp.Unix(), "iat": now.Unix(), "nonce": nonce,
		"email": g.user.Email, "email_verified": g.user.EmailVerified,
		"given_name": g.user.GivenName, "family_name": g.user.FamilyName,
	}
	key := f.key
	if f.SignWithUnknownKey {
		key = f.other
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	idToken, _ := jwt.Signed(signer).Claims(claims).Serialize()
	access := randomHex(16)
	f.seen[access] = g.user
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

// userinfo answers a plain OAuth 2.0 profile call, with the user's fields
// nested the way such systems often do.
func (f *FakeOIDC) userinfo(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u, ok := f.seen[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"user": map[string]any{"uid": u.Subject, "mail": u.Email, "confirmed": u.EmailVerified, "first": u.GivenName},
	})
}

func (f *FakeOIDC) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}
