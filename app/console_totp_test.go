package app_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"gatehouse/app/apptest"
)

var (
	secretRe   = regexp.MustCompile(`data-testid="totp-secret">([A-Z2-7 ]+)</code>`)
	qrRe       = regexp.MustCompile(`src="data:image/png;base64,([A-Za-z0-9+/=]+)"`)
	recoveryRe = regexp.MustCompile(`data-testid="recovery-code">([0-9a-z-]+)</code>`)
)

// totpCode is the code an authenticator app shows for secret, offset
// steps from now: a sign-in right after the confirming code takes the next
// step, as a person would wait for it.
func totpCode(t testing.TB, secret string, offset int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(offset)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cookieFrom returns the Set-Cookie named name of r, or nil.
func cookieFrom(r resp, name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// auditCount counts the audit events of action about target.
func auditCount(t testing.TB, env *apptest.Env, action, target string) int64 {
	t.Helper()
	d, err := dbOf(env)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int64
	if err := d.Gorm.Table("audit_events").Where("action = ? AND target = ?", action, target).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConsoleTOTP walks two-factor sign-in end to end: enrol from the
// security page, sign in with the code (refused when wrong, throttled,
// never twice), with a recovery code once, and turn it off.
func TestConsoleTOTP(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	srv := env.Serve()
	const email = "owner@acme.test"

	b := signedIn(t, srv, email)
	other := signedIn(t, srv, email) // a session opened with the password alone

	var secret string
	t.Run("the security page is in the user menu and starts off", func(t *testing.T) {
		home := b.get("/t/acme")
		if !strings.Contains(home.Body, `href="/account/security"`) {
			t.Fatal("no link to the security page")
		}
		page := b.get("/account/security")
		if page.StatusCode != 200 || !strings.Contains(page.Body, `data-enabled="false"`) || !strings.Contains(page.Body, `action="/account/security/totp/start"`) {
			t.Fatalf("security page %d\n%s", page.StatusCode, page.Body)
		}
	})

	t.Run("start shows the QR code and the secret, uncached", func(t *testing.T) {
		r := b.post("/account/security/totp/start", nil)
		if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("start: %d, Cache-Control %q", r.StatusCode, r.Header.Get("Cache-Control"))
		}
		m := secretRe.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no secret on the page\n%s", r.Body)
		}
		secret = strings.ReplaceAll(m[1], " ", "")
		q := qrRe.FindStringSubmatch(r.Body)
		if q == nil {
			t.Fatal("no QR code data: URL")
		}
		raw, err := base64.StdEncoding.DecodeString(q[1])
		if err != nil {
			t.Fatal(err)
		}
		if img, err := png.Decode(bytes.NewReader(raw)); err != nil || img.Bounds().Dx() < 100 {
			t.Fatalf("QR code is not a PNG: %v", err)
		}
	})

	t.Run("a wrong code does not turn it on", func(t *testing.T) {
		wrong := "000000"
		if wrong == totpCode(t, secret, 0) {
			wrong = "111111"
		}
		r := b.post("/account/security/totp/confirm", url.Values{"code": {wrong}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "That code is not right") {
			t.Fatalf("wrong code: %d", r.StatusCode)
		}
		if m := secretRe.FindStringSubmatch(r.Body); m == nil || strings.ReplaceAll(m[1], " ", "") != secret {
			t.Fatal("the retry does not show the same secret")
		}
		if page := b.get("/account/security"); !strings.Contains(page.Body, `data-enabled="false"`) {
			t.Fatal("on after a wrong code")
		}
	})

	var codes []string
	t.Run("the right code turns it on and shows the recovery codes once", func(t *testing.T) {
		r := b.post("/account/security/totp/confirm", url.Values{"code": {totpCode(t, secret, 0)}})
		if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("confirm: %d\n%s", r.StatusCode, r.Body)
		}
		for _, m := range recoveryRe.FindAllStringSubmatch(r.Body, -1) {
			codes = append(codes, m[1])
		}
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes on the page", len(codes))
		}
		page := b.get("/account/security")
		if !strings.Contains(page.Body, `data-enabled="true"`) || !strings.Contains(page.Body, "10 of 10 recovery codes left") {
			t.Fatalf("security page after confirm\n%s", page.Body)
		}
		for _, c := range codes {
			if strings.Contains(page.Body, c) {
				t.Fatal("a recovery code shown again")
			}
		}
		if strings.Contains(page.Body, secret[:16]) {
			t.Fatal("the secret shown again")
		}
		if r := b.post("/account/security/totp/start", nil); r.StatusCode != http.StatusConflict || secretRe.MatchString(r.Body) {
			t.Fatalf("start while on: %d", r.StatusCode)
		}
		if n := auditCount(t, env, "staff.totp.enabled", email); n != 1 {
			t.Fatalf("%d staff.totp.enabled events", n)
		}
	})

	t.Run("sessions opened with the password alone end", func(t *testing.T) {
		if r := other.get("/t/acme"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("the other session still works: %d", r.StatusCode)
		}
		if r := b.get("/t/acme"); r.StatusCode != 200 {
			t.Fatalf("the enrolling session ended: %d", r.StatusCode)
		}
	})

	if r := b.post("/logout", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout %d", r.StatusCode)
	}

	t.Run("the password alone no longer signs in", func(t *testing.T) {
		r := b.post("/login", url.Values{"email": {email}, "password": {staffPassword}, "return_to": {"/t/acme"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login/totp?return_to="+url.QueryEscape("/t/acme") {
			t.Fatalf("login: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if c := cookieFrom(r, "gh_console"); c != nil && c.Value != "" {
			t.Fatal("a session cookie before the code")
		}
		p := cookieFrom(r, "gh_console_2fa")
		if p == nil || !p.HttpOnly || p.SameSite != http.SameSiteLaxMode || p.MaxAge != 300 {
			t.Fatalf("pending cookie %+v", p)
		}
		if r := b.get("/t/acme"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("signed in without the code: %d", r.StatusCode)
		}
		page := b.get("/login/totp?return_to=" + url.QueryEscape("/t/acme"))
		if page.StatusCode != 200 || !strings.Contains(page.Body, "Enter the 6-digit code") ||
			!strings.Contains(page.Body, `autocomplete="one-time-code"`) || !strings.Contains(page.Body, `value="/t/acme"`) {
			t.Fatalf("code page %d\n%s", page.StatusCode, page.Body)
		}
	})

	t.Run("wrong codes are refused, then throttled", func(t *testing.T) {
		right := map[string]bool{totpCode(t, secret, -1): true, totpCode(t, secret, 0): true, totpCode(t, secret, 1): true, totpCode(t, secret, 2): true}
		var wrong []string
		for i := 0; len(wrong) < 6; i++ {
			if c := fmt.Sprintf("%06d", 123456+i); !right[c] {
				wrong = append(wrong, c)
			}
		}
		for i, c := range wrong {
			r := b.post("/login/totp", url.Values{"code": {c}, "return_to": {"/t/acme"}})
			if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "That code is not right") {
				t.Fatalf("wrong code %d: %d", i, r.StatusCode)
			}
		}
		r := b.post("/login/totp", url.Values{"code": {totpCode(t, secret, 1)}})
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("after 6 wrong codes: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
		}
		if n := auditCount(t, env, "staff.login.totp_failed", email); n != 6 {
			t.Fatalf("%d staff.login.totp_failed events, want 6", n)
		}
	})

	var used string
	t.Run("the right code signs in with a new session", func(t *testing.T) {
		var r resp
		apptest.Eventually(t, 10*time.Second, func() error {
			used = totpCode(t, secret, 1)
			r = b.post("/login/totp", url.Values{"code": {used}, "return_to": {"/t/acme"}})
			if r.StatusCode == http.StatusTooManyRequests {
				return errors.New("still throttled")
			}
			return nil
		})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/t/acme" {
			t.Fatalf("right code: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
		}
		if c := cookieFrom(r, "gh_console"); c == nil || c.Value == "" || !c.HttpOnly {
			t.Fatalf("session cookie %+v", c)
		}
		if c := cookieFrom(r, "gh_console_2fa"); c == nil || c.MaxAge >= 0 {
			t.Fatalf("the pending cookie was not cleared: %+v", c)
		}
		if home := b.get("/t/acme"); home.StatusCode != 200 {
			t.Fatalf("signed in: %d", home.StatusCode)
		}
	})

	t.Run("a used code does not sign in again", func(t *testing.T) {
		b.post("/logout", nil)
		b.login(email, staffPassword)
		if r := b.post("/login/totp", url.Values{"code": {used}}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("replayed code: %d", r.StatusCode)
		}
	})

	t.Run("a recovery code works once", func(t *testing.T) {
		r := b.post("/login/totp", url.Values{"code": {strings.ToUpper(codes[0])}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("recovery code: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		home := b.get("/")
		if home.StatusCode != 200 || !strings.Contains(home.Body, "You signed in with a recovery code, and 9 are left") {
			t.Fatalf("no warning after a recovery code\n%s", home.Body)
		}
		if page := b.get("/account/security"); !strings.Contains(page.Body, "9 of 10 recovery codes left") {
			t.Fatal("the used code still counts")
		}
		b.post("/logout", nil)
		b.login(email, staffPassword)
		if r := b.post("/login/totp", url.Values{"code": {codes[0]}}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("recovery code reused: %d", r.StatusCode)
		}
		if n := auditCount(t, env, "staff.recovery_code.used", email); n != 1 {
			t.Fatalf("%d staff.recovery_code.used events", n)
		}
		if r := b.post("/login/totp", url.Values{"code": {codes[1]}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("second recovery code: %d", r.StatusCode)
		}
	})

	t.Run("without a pending sign-in the code page sends back to the password", func(t *testing.T) {
		stranger := newBrowser(t, srv)
		if r := stranger.get("/login/totp"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
			t.Fatalf("GET: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		u, _ := url.Parse(srv.URL(consoleHost, "/"))
		stranger.client.Jar.SetCookies(u, []*http.Cookie{{Name: "gh_console_2fa", Value: "forged"}})
		r := stranger.post("/login/totp", url.Values{"code": {codes[2]}})
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "Your sign-in has expired") {
			t.Fatalf("POST: %d", r.StatusCode)
		}
		if r := stranger.get("/t/acme"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("a forged pending sign-in opened the console: %d", r.StatusCode)
		}
	})

	t.Run("turning it off needs a code or the password", func(t *testing.T) {
		for name, form := range map[string]url.Values{
			"nothing":        {},
			"wrong password": {"password": {"not the password at all"}},
		} {
			r := b.post("/account/security/totp/disable", form)
			if r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Fatalf("%s: %d", name, r.StatusCode)
			}
		}
		if page := b.get("/account/security"); !strings.Contains(page.Body, `data-enabled="true"`) {
			t.Fatal("off without proof")
		}
		r := b.post("/account/security/totp/disable", url.Values{"password": {staffPassword}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/security" {
			t.Fatalf("disable: %d", r.StatusCode)
		}
		if page := b.get("/account/security"); !strings.Contains(page.Body, `data-enabled="false"`) || !strings.Contains(page.Body, "Two-factor sign-in is off") {
			t.Fatalf("after disable\n%s", page.Body)
		}
		if n := auditCount(t, env, "staff.totp.disabled", email); n != 1 {
			t.Fatalf("%d staff.totp.disabled events", n)
		}
		b.post("/logout", nil)
		r = b.post("/login", url.Values{"email": {email}, "password": {staffPassword}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("password sign-in after disable: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
	})
}
