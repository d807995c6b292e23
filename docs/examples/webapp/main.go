// Command webapp is a brand's server-side web app signing customers in with
// Gatehouse: login, callback and logout with go-oidc and x/oauth2, and a
// session kept on the server. Run it with
//
//	ISSUER=http://demo.localhost:8080 CLIENT_ID=… CLIENT_SECRET=… go run ./docs/examples/webapp
//
// after `gatehouse app create --type web --redirect-uri http://127.0.0.1:3000/callback
// --post-logout-uri http://127.0.0.1:3000/`.
package main

import (
	"context"
	"crypto/rand"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"os"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// session is what the app remembers about one browser.
type session struct {
	State, Nonce, Verifier string // during sign-in
	Name, Email, IDToken   string // once signed in
}

type app struct {
	conf       oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string
	base       string
	mu         sync.Mutex
	sessions   map[string]*session
}

var page = template.Must(template.New("").Parse(`<!doctype html><title>Example shop</title>
{{if .Name}}<p id="user">Signed in as {{.Name}} ({{.Email}})</p>
<form method="post" action="/logout"><button>Sign out</button></form>
{{else}}<p id="user">Not signed in.</p><a href="/login">Sign in</a>{{end}}`))

func main() {
	base := env("BASE_URL", "http://127.0.0.1:3000")
	provider, err := oidc.NewProvider(context.Background(), os.Getenv("ISSUER")) // discovery
	if err != nil {
		log.Fatal(err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil {
		log.Fatal(err)
	}
	a := &app{base: base, endSession: meta.EndSession, sessions: map[string]*session{},
		verifier: provider.Verifier(&oidc.Config{ClientID: os.Getenv("CLIENT_ID")}),
		conf: oauth2.Config{ClientID: os.Getenv("CLIENT_ID"), ClientSecret: os.Getenv("CLIENT_SECRET"),
			Endpoint: provider.Endpoint(), RedirectURL: base + "/callback", Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("POST /logout", a.logout)
	log.Printf("example web app on %s", base)
	// CrossOriginProtection refuses cross-site POSTs, so logout cannot be forced.
	log.Fatal(http.ListenAndServe(env("ADDR", "127.0.0.1:3000"), http.NewCrossOriginProtection().Handler(mux)))
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	a.mu.Lock()
	v := *s
	a.mu.Unlock()
	_ = page.Execute(w, v)
}

// login starts the authorization code flow with state, nonce and PKCE.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	a.mu.Lock()
	s.State, s.Nonce, s.Verifier = rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	to := a.conf.AuthCodeURL(s.State, oidc.Nonce(s.Nonce), oauth2.S256ChallengeOption(s.Verifier))
	a.mu.Unlock()
	http.Redirect(w, r, to, http.StatusFound)
}

// callback checks state, exchanges the code and verifies the id_token.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	a.mu.Lock()
	state, nonce, verifier := s.State, s.Nonce, s.Verifier
	s.State = "" // a state works once
	a.mu.Unlock()
	if state == "" || r.URL.Query().Get("state") != state {
		http.Error(w, "sign-in expired or was not started here; try again", http.StatusBadRequest)
		return
	}
	tok, err := a.conf.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		http.Error(w, "sign-in failed", http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err != nil || idt.Nonce != nonce {
		http.Error(w, "sign-in failed: bad id_token", http.StatusBadGateway)
		return
	}
	var claims struct{ Name, Email string }
	_ = idt.Claims(&claims)
	a.mu.Lock()
	s.Name, s.Email, s.IDToken = claims.Name, claims.Email, raw
	a.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout forgets the session here, then ends the one on Gatehouse through
// RP-initiated logout, which sends the browser back to the home page.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	a.mu.Lock()
	hint := s.IDToken
	*s = session{}
	a.mu.Unlock()
	q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {a.base + "/"}, "state": {rand.Text()}}
	http.Redirect(w, r, a.endSession+"?"+q.Encode(), http.StatusSeeOther)
}

// session returns the browser's session, starting one if it has none.
func (a *app) session(w http.ResponseWriter, r *http.Request) *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, err := r.Cookie("sid"); err == nil && a.sessions[c.Value] != nil {
		return a.sessions[c.Value]
	}
	id := rand.Text()
	a.sessions[id] = &session{}
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return a.sessions[id]
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
