package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// TestProfileCompleteWayOut: /profile/complete always offers "Sign out",
// which ends the session even while a required field is missing; "Not now"
// is offered only when nothing required is missing, goes on to where the
// customer was going and is not asked again at the next sign-in.
func TestProfileCompleteWayOut(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme")
	host := "acme.localhost"
	v := b.srv.Visitor(t)
	wantRedirect(t, signup(v, host, "pat@example.com", "pat passphrase", nil), "/account")
	v.Post(host, "/logout", nil)

	// A required field: no "Not now", but "Sign out" works.
	b.withFields(t, "acme", tenants.Field{Key: "postcode", Label: "Postcode", Type: tenants.TypeText, Capture: tenants.CaptureRequired})
	var p apptest.Page
	apptest.Eventually(t, 5*time.Second, func() error {
		p = login(v, host, "pat@example.com", "pat passphrase")
		if !strings.HasPrefix(p.Header.Get("Location"), "/profile/complete") {
			v.Post(host, "/logout", nil)
			return fmt.Errorf("went to %s", p.Header.Get("Location"))
		}
		return nil
	})
	form := v.Follow(host, p)
	if !strings.Contains(form.Body, `data-testid="profile-logout"`) || !strings.Contains(form.Body, `action="/logout"`) || strings.Contains(form.Body, `data-testid="profile-skip"`) {
		t.Fatalf("required prompt: want Sign out and no Not now:\n%s", form.Body)
	}
	if r := v.Post(host, "/logout", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out from the prompt: %d", r.StatusCode)
	}
	if r := v.Get(host, "/profile/complete"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("after sign out the prompt still shows: %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// Only optional fields: "Not now" goes on to return_to, and the next
	// sign-in is not asked again.
	b.withFields(t, "acme", tenants.Field{Key: "nickname", Label: "Nickname", Type: tenants.TypeText, Capture: tenants.CaptureOptional})
	// Sign-up asked for the optional fields; pretend the interval has passed.
	forgetPrompt(t, b.env, "pat@example.com")
	apptest.Eventually(t, 5*time.Second, func() error {
		p = v.Post(host, "/login", url.Values{"email": {"pat@example.com"}, "password": {"pat passphrase"}, "return_to": {"/account?tab=apps"}})
		if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "/profile/complete") || strings.Contains(v.Follow(host, p).Body, `name="postcode"`) {
			v.Post(host, "/logout", nil)
			return fmt.Errorf("went to %s", loc)
		}
		return nil
	})
	form = v.Follow(host, p)
	if !strings.Contains(form.Body, `data-testid="profile-skip"`) || !strings.Contains(form.Body, `data-testid="profile-logout"`) {
		t.Fatalf("optional prompt: want Not now and Sign out:\n%s", form.Body)
	}
	wantRedirect(t, v.Post(host, "/profile/complete", url.Values{"skip": {"1"}, "return_to": {"/account?tab=apps"}}), "/account?tab=apps")
	v.Post(host, "/logout", nil)
	wantRedirect(t, login(v, host, "pat@example.com", "pat passphrase"), "/account")
}

// TestOpenIDProviderProfileSkip: "Not now" on an optional prompt in the
// middle of an app's sign-in carries the authorization on to the app.
func TestOpenIDProviderProfileSkip(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	ts := w.env.Tenants()
	acme, err := ts.BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.SaveFields(context.Background(), acme.ID, []tenants.Field{
		{Key: "nickname", Label: "Nickname", Type: tenants.TypeText, Capture: tenants.CaptureOptional},
	}); err != nil {
		t.Fatal(err)
	}
	forgetPrompt(t, w.env, custEmail)
	app := newBrandApp(t, w.srv, w.acme, w.web.ClientID, w.web.ClientSecret, shopRedirect)
	v := w.srv.Visitor(t)
	verifier := oauth2.GenerateVerifier()
	var p apptest.Page
	apptest.Eventually(t, 5*time.Second, func() error {
		p = follow(t, v, w.acme, v.Get(w.acme, app.authorizePath("sk", verifier)), nil)
		if strings.Contains(p.Body, `action="/login"`) {
			p = follow(t, v, w.acme, loginThrough(t, v, w.acme, p, custEmail, custPassword), nil)
		}
		if p.Request.URL.Path != "/profile/complete" {
			v.Post(w.acme, "/logout", url.Values{})
			return errors.New("the new optional field has not reached the server yet")
		}
		return nil
	})
	if !strings.Contains(p.Body, `data-testid="profile-skip"`) {
		t.Fatalf("no Not now:\n%s", p.Body)
	}
	returnTo := p.Request.URL.Query().Get("return_to")
	p = v.Post(w.acme, "/profile/complete", url.Values{"skip": {"1"}, "return_to": {returnTo}})
	q := appCallback(t, follow(t, v, w.acme, p, nil), shopRedirect)
	if _, err := app.conf.Exchange(app.ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("the skipped prompt did not resume the authorization: %v", err)
	}
}

// forgetPrompt clears when a customer was last asked for optional fields,
// as if the tenant's prompt interval had passed.
func forgetPrompt(t *testing.T, env *apptest.Env, email string) {
	t.Helper()
	if err := env.DB().Gorm.Table("customers").Where("email = ?", email).Update("profile_prompted_at", nil).Error; err != nil {
		t.Fatal(err)
	}
}
