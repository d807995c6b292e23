// Package devshop is "Demo Coffee Shop", the brand app `gatehouse serve
// --dev` serves at shop.<base-domain>, so that a newcomer's first click is a
// customer's journey: a static site built only on gatehouse.js, signing in
// with the demo tenant as any brand's single-page app would. Production
// never mounts it.
package devshop

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"sync/atomic"
)

//go:embed static
var files embed.FS

// Host is the shop's host name below the base domain.
const Host = "shop"

// AppName is the name of the demo tenant's spa app the shop signs in with.
const AppName = "Demo Coffee Shop"

// Config is what the shop's pages need to find the demo tenant.
type Config struct {
	Issuer   string `json:"issuer"`    // the demo tenant's issuer, e.g. http://demo.localhost:8080
	ClientID string `json:"client_id"` // the shop's spa app
}

// Shop serves the shop's static pages and its config.json.
type Shop struct {
	cfg    atomic.Pointer[Config]
	static http.Handler
}

// New returns the shop; it answers 503 until Configure has run, which the
// server does once it knows its port and has registered the shop's app.
func New() *Shop {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is part of the build
	}
	return &Shop{static: http.FileServerFS(sub)}
}

// Configure sets the issuer and client id the pages use.
func (s *Shop) Configure(c Config) { s.cfg.Store(&c) }

// ServeHTTP serves the pages with a CSP that lets them load gatehouse.js
// from the demo tenant and call its token endpoint and API, and nothing else.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.cfg.Load()
	if c == nil {
		http.Error(w, "Demo Coffee Shop is starting; try again in a moment.", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+c.Issuer+"; connect-src 'self' "+c.Issuer+
		"; img-src 'self' data: "+c.Issuer+"; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("Cache-Control", "no-cache")
	if r.URL.Path == "/config.json" {
		h.Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c)
		return
	}
	s.static.ServeHTTP(w, r)
}
