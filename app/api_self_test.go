package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/app/api/apitest"
)

// customerToken signs a customer up through the first-party app and
// returns their access token.
func (w *headlessWorld) customerToken(t *testing.T, email, password, firstName string) *oauth2.Token {
	t.Helper()
	pk := newPKCE()
	code, _ := grantedCode(t, w.api.Do(t, apitest.Request{Method: http.MethodPost, Path: "/signup", Body: map[string]any{
		"client_id": w.spa.ClientID, "email": email, "password": password, "code_challenge": pk.challenge,
		"scope": "openid email offline_access", "profile": map[string]any{"first_name": firstName},
	}}))
	tok, _ := w.exchange(t, w.provider, w.spa.ClientID, code, pk)
	return tok
}

// TestSelfService: a customer's own token reads and changes their profile
// with the hosted form's rules, changes the password, and lists and ends
// their sessions, sign-in methods and apps; nobody else's token does.
func TestSelfService(t *testing.T) {
	t.Parallel()
	w := newHeadlessWorld(t)
	const email, password = "joan@example.com", "clarke orbit 1945"
	tok := w.customerToken(t, email, password, "Joan")
	at := tok.AccessToken

	t.Run("get", func(t *testing.T) {
		var me struct {
			ID          string         `json:"id"`
			Email       string         `json:"email"`
			HasPassword bool           `json:"has_password"`
			Profile     map[string]any `json:"profile"`
		}
		w.api.Get(t, "/me", at).JSON(t, &me)
		if me.ID != customerID(t, w.env, email) || me.Email != email || !me.HasPassword || me.Profile["first_name"] != "Joan" {
			t.Fatalf("%+v", me)
		}
	})

	t.Run("patch validation names the field with the hosted form's message", func(t *testing.T) {
		for name, tc := range map[string]struct {
			profile map[string]any
			field   string
			message string
		}{
			"required emptied": {map[string]any{"first_name": nil}, "first_name", "First name is required."},
			"too long":         {map[string]any{"first_name": strings.Repeat("x", 21)}, "first_name", "First name must be at most 20 characters."},
			"not an option":    {map[string]any{"drink": "milk"}, "drink", "Favourite drink must be one of the offered choices."},
			"unknown field":    {map[string]any{"shoe_size": "44"}, "shoe_size", "There is no such profile field."},
		} {
			t.Run(name, func(t *testing.T) {
				r := w.api.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/me", Token: at, ContentType: "application/merge-patch+json", Body: map[string]any{"profile": tc.profile}})
				p := r.Problem(t)
				if r.Status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != tc.field || p.Errors[0].Message != tc.message {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
			})
		}
		r := w.api.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/me", Token: at, BadInput: true, Body: map[string]any{"email": "new@example.com"}})
		if p := r.Problem(t); r.Status != http.StatusUnprocessableEntity || !p.FieldNamed("email") {
			t.Fatalf("email change: %d %s", r.Status, r.Body)
		}
	})

	t.Run("patch merges", func(t *testing.T) {
		var me struct {
			Profile map[string]any `json:"profile"`
		}
		r := w.api.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/me", Token: at, ContentType: "application/merge-patch+json", Body: map[string]any{"profile": map[string]any{"drink": "coffee"}}})
		r.JSON(t, &me)
		if r.Status != http.StatusOK || me.Profile["drink"] != "coffee" || me.Profile["first_name"] != "Joan" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		r = w.api.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/me", Token: at, Body: map[string]any{"profile": map[string]any{"drink": nil}}})
		me.Profile = nil
		r.JSON(t, &me)
		if _, still := me.Profile["drink"]; r.Status != http.StatusOK || still {
			t.Fatalf("null did not remove: %s", r.Body)
		}
	})

	t.Run("missing fields", func(t *testing.T) {
		var m struct {
			Required []struct{ Key string } `json:"required"`
			Optional []struct{ Key string } `json:"optional"`
		}
		w.api.Get(t, "/me/missing-fields", at).JSON(t, &m)
		if len(m.Required) != 0 || len(m.Optional) != 1 || m.Optional[0].Key != "drink" {
			t.Fatalf("%+v", m)
		}
	})

	t.Run("sessions", func(t *testing.T) {
		v := w.srv.Visitor(t)
		wantRedirect(t, login(v, w.acme, email, password), "/")
		var list struct {
			Sessions []struct {
				ID string `json:"id"`
			} `json:"sessions"`
		}
		w.api.Get(t, "/me/sessions", at).JSON(t, &list)
		if len(list.Sessions) != 1 {
			t.Fatalf("%+v", list)
		}
		if r := w.api.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/me/sessions/" + list.Sessions[0].ID, Token: at}); r.Status != http.StatusNoContent {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if p := v.Get(w.acme, "/account"); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("the revoked session still opens /account: %d", p.StatusCode)
		}
		if r := w.api.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/me/sessions/" + list.Sessions[0].ID, Token: at}); r.Status != http.StatusNotFound {
			t.Fatalf("again: %d %s", r.Status, r.Body)
		}
	})

	t.Run("identities and the last-method rule", func(t *testing.T) {
		id := customerID(t, w.env, email)
		db := w.env.DB().Gorm
		link := func(rowID string) {
			t.Helper()
			if err := db.Exec(`INSERT INTO identities (id, tenant_id, customer_id, provider, issuer, subject, email, claims, created_at, updated_at)
				SELECT ?, tenant_id, id, 'google', 'google', 'g-1', email, '{}', ?, ? FROM customers WHERE id = ?`,
				rowID, time.Now(), time.Now(), id).Error; err != nil {
				t.Fatal(err)
			}
		}
		link("0190c8a0-0000-7000-8000-000000000001")
		var list struct {
			HasPassword bool `json:"has_password"`
			Identities  []struct {
				Provider, Name string
			} `json:"identities"`
		}
		w.api.Get(t, "/me/identities", at).JSON(t, &list)
		if !list.HasPassword || len(list.Identities) != 1 || list.Identities[0].Provider != "google" || list.Identities[0].Name != "Google" {
			t.Fatalf("%+v", list)
		}
		if r := w.api.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/me/identities/github", Token: at}); r.Status != http.StatusNotFound {
			t.Fatalf("not linked: %d %s", r.Status, r.Body)
		}
		if r := w.api.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/me/identities/google", Token: at}); r.Status != http.StatusNoContent {
			t.Fatalf("unlink with a password left: %d %s", r.Status, r.Body)
		}
		// Without a password, a lone provider is the only way in: it stays.
		link("0190c8a0-0000-7000-8000-000000000002")
		db.Exec(`UPDATE customers SET password_hash = NULL WHERE id = ?`, id)
		r := w.api.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/me/identities/google", Token: at})
		if r.Status != http.StatusConflict || !strings.Contains(r.Problem(t).Detail, "only way to sign in") {
			t.Fatalf("last method: %d %s", r.Status, r.Body)
		}
	})

	t.Run("change password", func(t *testing.T) {
		// joan has no password now; a second customer has one.
		fresh := w.customerToken(t, "joan2@example.com", password, "Joan")
		wrong := w.api.Do(t, apitest.Request{Method: http.MethodPost, Path: "/me/password", Token: fresh.AccessToken, Body: map[string]any{"current_password": "not it at all", "new_password": "a whole new phrase"}})
		if p := wrong.Problem(t); wrong.Status != http.StatusUnprocessableEntity || !p.FieldNamed("current_password") {
			t.Fatalf("%d %s", wrong.Status, wrong.Body)
		}
		common := w.api.Do(t, apitest.Request{Method: http.MethodPost, Path: "/me/password", Token: fresh.AccessToken, Body: map[string]any{"current_password": password, "new_password": "password123"}})
		if p := common.Problem(t); common.Status != http.StatusUnprocessableEntity || !p.FieldNamed("new_password") || !strings.Contains(common.Problem(t).Detail, "commonly used") {
			t.Fatalf("%d %s", common.Status, common.Body)
		}
		ok := w.api.Do(t, apitest.Request{Method: http.MethodPost, Path: "/me/password", Token: fresh.AccessToken, Body: map[string]any{"current_password": password, "new_password": "a whole new phrase"}})
		if ok.Status != http.StatusNoContent {
			t.Fatalf("%d %s", ok.Status, ok.Body)
		}
		wantRedirect(t, login(w.srv.Visitor(t), w.acme, "joan2@example.com", "a whole new phrase"), "/")
		t.Run("throttled like /login", func(t *testing.T) {
			for i := 0; i < 12; i++ {
				r := w.api.Do(t, apitest.Request{Method: http.MethodPost, Path: "/me/password", Token: fresh.AccessToken, Body: map[string]any{"current_password": "guess", "new_password": "a whole new phrase 2"}})
				if r.Status == http.StatusTooManyRequests {
					if i < 5 || r.Header.Get("Retry-After") == "" {
						t.Fatalf("throttled after %d, Retry-After %q", i, r.Header.Get("Retry-After"))
					}
					return
				}
			}
			t.Fatal("no 429 after 12 wrong current passwords")
		})
	})

	t.Run("apps list and revoke", func(t *testing.T) {
		var list struct {
			Apps []struct {
				ClientID   string   `json:"client_id"`
				FirstParty bool     `json:"first_party"`
				Scopes     []string `json:"scopes"`
			} `json:"apps"`
		}
		w.api.Get(t, "/me/apps", at).JSON(t, &list)
		if len(list.Apps) != 1 || list.Apps[0].ClientID != w.spa.ClientID || !list.Apps[0].FirstParty {
			t.Fatalf("%+v", list)
		}
		if r := w.api.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/me/apps/" + w.native.ClientID, Token: at}); r.Status != http.StatusNotFound {
			t.Fatalf("unconnected app: %d %s", r.Status, r.Body)
		}
		if r := w.api.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/me/apps/" + w.bravoSpa.ClientID, Token: at}); r.Status != http.StatusNotFound {
			t.Fatalf("another tenant's app: %d %s", r.Status, r.Body)
		}
		if r := w.api.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/me/apps/" + w.spa.ClientID, Token: at}); r.Status != http.StatusNoContent {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := w.api.Get(t, "/me", at); r.Status != http.StatusUnauthorized {
			t.Fatalf("the revoked app's token still works: %d", r.Status)
		}
		conf := oauth2.Config{ClientID: w.spa.ClientID, Endpoint: w.provider.Endpoint()}
		if _, err := conf.TokenSource(w.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("the revoked app's refresh token still works")
		}
	})
}

// TestSelfServiceRefusesOtherTokens: no token, another tenant's customer
// token, and a machine token get nothing from /me.
func TestSelfServiceRefusesOtherTokens(t *testing.T) {
	t.Parallel()
	w := newHeadlessWorld(t)
	acmeTok := w.customerToken(t, "ida@example.com", "lovelace notes 1843", "Ida")
	if r := w.api.Get(t, "/me", ""); r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", r.Status)
	}
	if r := w.api.Get(t, "/me", "not-a-token"); r.Status != http.StatusUnauthorized {
		t.Fatalf("garbage: %d", r.Status)
	}
	for _, path := range []string{"/me", "/me/sessions", "/me/apps", "/me/identities", "/me/missing-fields"} {
		if r := w.bravoAPI.Get(t, path, acmeTok.AccessToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("acme's customer token on bravo %s: %d %s", path, r.Status, r.Body)
		}
	}
	if r := w.bravoAPI.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/me", Token: acmeTok.AccessToken, Body: map[string]any{"profile": map[string]any{"first_name": "X"}}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("PATCH on bravo: %d", r.Status)
	}
	cc := clientcredentials.Config{ClientID: w.machine.ClientID, ClientSecret: w.machine.ClientSecret, TokenURL: w.provider.Endpoint().TokenURL, Scopes: []string{"customers:read"}}
	mt, err := cc.Token(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := w.api.Get(t, "/me", mt.AccessToken); r.Status != http.StatusForbidden {
		t.Fatalf("machine token on /me: %d %s", r.Status, r.Body)
	}
	if r := w.api.Do(t, apitest.Request{Method: http.MethodPost, Path: "/me/password", Token: mt.AccessToken, Body: map[string]any{"new_password": "whatever it is now"}}); r.Status != http.StatusForbidden {
		t.Fatalf("machine token on /me/password: %d", r.Status)
	}
	t.Run("a disabled customer's token is dead", func(t *testing.T) {
		w.env.DB().Gorm.Exec(`UPDATE customers SET status = 'disabled' WHERE email = ?`, "ida@example.com")
		if r := w.api.Get(t, "/me", acmeTok.AccessToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("%d", r.Status)
		}
	})
}
