package social

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"gatehouse/app/socialapps"
)

// toFake sends every request, whatever its host, to the fake server,
// recording the host it was meant for.
type toFake struct {
	target *url.URL
	hosts  []string
}

func (t *toFake) RoundTrip(r *http.Request) (*http.Response, error) {
	t.hosts = append(t.hosts, r.URL.Host)
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = t.target.Scheme, t.target.Host
	return http.DefaultTransport.RoundTrip(r)
}

// fakeSocial answers the token and profile calls of Google and Facebook.
func fakeSocial(t *testing.T) (*http.Client, *toFake) {
	t.Helper()
	mux := http.NewServeMux()
	token := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("code") != "good-code" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600})
	}
	mux.HandleFunc("/token", token)              // oauth2.googleapis.com/token
	mux.HandleFunc("/oauth/access_token", token) // graph.facebook.com
	mux.HandleFunc("/v18.0/oauth/access_token", token)
	mux.HandleFunc("/oauth2/v2/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("access_token") != "at-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "g-42", "email": "gia@example.com", "verified_email": true, "given_name": "Gia", "family_name": "Rossi", "name": "Gia Rossi"})
	})
	mux.HandleFunc("/login/oauth/access_token", token) // github.com
	mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"id": 9001, "login": "hal", "name": "Hal Jo", "email": ""})
	})
	mux.HandleFunc("/user/emails", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode([]map[string]any{
			{"email": "old@example.com", "primary": false, "verified": true},
			{"email": "hal@example.com", "primary": true, "verified": true},
		})
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("access_token") != "at-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "fb-7", "email": "fay@example.com", "first_name": "Fay", "last_name": "Ng", "name": "Fay Ng"})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	tr := &toFake{target: u}
	return &http.Client{Transport: tr}, tr
}

func TestGoogleAndFacebook(t *testing.T) {
	client, tr := fakeSocial(t)
	ctx := context.Background()
	tests := []struct {
		kind            socialapps.Kind
		subject, email  string
		verified        bool
		first, authHost string
	}{
		{socialapps.Google, "g-42", "gia@example.com", true, "Gia", "accounts.google.com"},
		{socialapps.Facebook, "fb-7", "fay@example.com", true, "Fay", "www.facebook.com"},
		{socialapps.GitHub, "9001", "hal@example.com", true, "", "github.com"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			app := socialapps.App{Kind: tt.kind, Enabled: true, Configured: true, ClientID: "cid", Scopes: tt.kind.DefaultScopes()}
			p, err := build(ctx, client, app, "csecret", "https://acme.example/social/"+string(tt.kind)+"/callback")
			if err != nil {
				t.Fatal(err)
			}
			auth, _ := url.Parse(p.authURL(flow{State: "st-1"}))
			if auth.Host != tt.authHost || auth.Query().Get("state") != "st-1" || auth.Query().Get("client_id") != "cid" ||
				!strings.HasSuffix(auth.Query().Get("redirect_uri"), "/social/"+string(tt.kind)+"/callback") {
				t.Fatalf("auth URL %s", auth)
			}
			cl, err := p.exchange(ctx, "good-code", flow{State: "st-1"})
			if err != nil {
				t.Fatal(err)
			}
			if cl.Provider != string(tt.kind) || cl.Subject != tt.subject || cl.Email != tt.email || cl.EmailVerified != tt.verified || cl.Profile["first_name"] != tt.first {
				t.Fatalf("claims %+v", cl)
			}
			if _, err := p.exchange(ctx, "bad-code", flow{}); !isReason(err, ReasonTokenExchange) {
				t.Fatalf("a refused code: %v", err)
			}
		})
	}
	if len(tr.hosts) == 0 {
		t.Fatal("no call reached the fakes")
	}
}

func TestClaimsFromMapping(t *testing.T) {
	all := map[string]any{"email": "x@example.com", "email_verified": "true", "given_name": "Xi", "address": map[string]any{"country": "GB"}}
	cl := claimsFrom("oidc", "sub-1", all, map[string]string{"country": "address.country"})
	if !cl.EmailVerified || cl.Profile["first_name"] != "Xi" || cl.Profile["country"] != "GB" {
		t.Fatalf("%+v", cl)
	}
}

func isReason(err error, reason string) bool {
	f, ok := failureOf(err)
	return ok && f.Reason == reason
}
