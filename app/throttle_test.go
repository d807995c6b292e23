package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
)

// newProxiedBrandEnv is newBrandEnv behind a trusted proxy on loopback, so
// a test can play visitors at many addresses with X-Forwarded-For.
func newProxiedBrandEnv(t *testing.T, slugs ...string) *brandEnv {
	t.Helper()
	env := apptest.New(t)
	env.Set("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1")
	// The fake providers these tests sign in through listen on loopback,
	// which the outbound guard refuses outside --dev unless told.
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true")
	for _, slug := range slugs {
		if r := env.Run("tenant", "create", "--slug", slug, "--name", strings.ToUpper(slug[:1])+slug[1:]+" Coffee"); r.Code != 0 {
			t.Fatalf("tenant create %s: %s", slug, r.Stderr)
		}
	}
	srv := env.Serve()
	env.Worker()
	return &brandEnv{env: env, srv: srv}
}

// at returns a new visitor (an empty cookie jar) at address ip.
func (b *brandEnv) at(t *testing.T, ip string) *apptest.Visitor {
	v := b.srv.Visitor(t)
	v.Header.Set("X-Forwarded-For", ip)
	return v
}

// moveTo puts an existing visitor (its cookies) at another address.
func moveTo(v *apptest.Visitor, ip string) *apptest.Visitor {
	v.Header.Set("X-Forwarded-For", ip)
	return v
}

// wantThrottled checks a refusal is a 429 with a usable Retry-After.
func wantThrottled(t *testing.T, p apptest.Page, what string) {
	t.Helper()
	if p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s: status %d, want 429\n%s", what, p.StatusCode, p.Body)
	}
	if s, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("%s: Retry-After %q", what, p.Header.Get("Retry-After"))
	}
}

// deviceCookie returns the Set-Cookie of the device cookie in p.
func deviceCookie(t *testing.T, p apptest.Page) *http.Cookie {
	t.Helper()
	for _, c := range p.Cookies() {
		if c.Name == "gh_device" {
			return c
		}
	}
	t.Fatalf("%s: no device cookie set", p.Request.URL.Path)
	return nil
}

// hammer makes wrong-password logins for email on host, each from a fresh
// browser at ip, until one is refused with a Retry-After of at least
// minRetry seconds, so the checks that follow run well inside the delay.
// It waits out shorter delays, as a patient attacker does. None may
// succeed, and every refusal must be a 429 with Retry-After.
func hammer(t *testing.T, b *brandEnv, host, ip, email string, minRetry int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		p := login(b.at(t, ip), host, email, fmt.Sprintf("wrong guess %d!", i))
		switch p.StatusCode {
		case http.StatusTooManyRequests:
			wantThrottled(t, p, "attacker")
			ra, _ := strconv.Atoi(p.Header.Get("Retry-After"))
			if ra >= minRetry {
				return
			}
			time.Sleep(time.Duration(ra) * time.Second)
		case http.StatusUnauthorized:
		default:
			t.Fatalf("guess %d: status %d", i, p.StatusCode)
		}
	}
	t.Fatalf("200 guesses from %s and no delay of %ds", ip, minRetry)
}

// TestStrangerCannotLockOwnerOut is item 4 of the security review: a
// stranger failing again and again on one account, from one address and
// without a device cookie, is throttled with 429 and Retry-After, while the
// owner's own browser signs in, even from the stranger's address. A fresh
// browser at that address stays throttled; the reset link still works
// there and makes that browser a known device. A device cookie of one
// tenant proves nothing on another.
func TestStrangerCannotLockOwnerOut(t *testing.T) {
	t.Parallel()
	b := newProxiedBrandEnv(t, "acme", "bravo")
	const (
		acme, bravo = "acme.localhost", "bravo.localhost"
		attacker    = "203.0.113.9"
		email       = "olga@example.com"
		password    = "olga's own passphrase"
	)
	owner := b.at(t, "198.51.100.20")
	p := signup(owner, acme, email, password, nil)
	wantRedirect(t, p, "/account")
	dc := deviceCookie(t, p)
	if !dc.HttpOnly || dc.SameSite != http.SameSiteLaxMode || dc.Path != "/" || dc.MaxAge < 300*24*3600 {
		t.Fatalf("device cookie attributes: %+v", dc)
	}
	owner.Post(acme, "/logout", nil)
	bravoOwner := b.at(t, "198.51.100.21")
	wantRedirect(t, signup(bravoOwner, bravo, email, "olga's bravo passphrase", nil), "/account")
	bravoOwner.Post(bravo, "/logout", nil)

	hammer(t, b, acme, attacker, email, 8)
	t.Run("owner's device at the attacker's address", func(t *testing.T) {
		wantRedirect(t, login(moveTo(owner, attacker), acme, email, password), "/account")
		owner.Post(acme, "/logout", nil)
	})
	t.Run("new browser at the attacker's address", func(t *testing.T) {
		// The protection stays: without a device cookie the right password
		// from the guessing address waits like a guess.
		wantThrottled(t, login(b.at(t, attacker), acme, email, password), "fresh browser at the attacker's address")
	})
	t.Run("owner's device at home", func(t *testing.T) {
		wantRedirect(t, login(moveTo(owner, "198.51.100.20"), acme, email, password), "/account")
		owner.Post(acme, "/logout", nil)
	})
	t.Run("new browser elsewhere", func(t *testing.T) {
		wantRedirect(t, login(b.at(t, "198.51.100.99"), acme, email, password), "/account")
	})
	t.Run("other tenant's device cookie", func(t *testing.T) {
		hammer(t, b, bravo, attacker, email, 8)
		replay := b.at(t, attacker)
		replay.SetCookies(bravo, []*http.Cookie{{Name: dc.Name, Value: dc.Value}})
		wantThrottled(t, login(replay, bravo, email, "olga's bravo passphrase"), "acme's device cookie on bravo")
		wantRedirect(t, login(moveTo(bravoOwner, attacker), bravo, email, "olga's bravo passphrase"), "/account")
	})
	t.Run("reset while throttled", func(t *testing.T) {
		hammer(t, b, acme, attacker, email, 8)
		v := b.at(t, attacker)
		wantThrottled(t, login(v, acme, email, password), "before the reset")
		v.Post(acme, "/password/forgot", url.Values{"email": {email}})
		var link string
		for link == "" {
			if m := b.env.Mail.WaitFor(t, email, 10*time.Second); strings.Contains(m.Text, "/password/reset?token=") {
				link = linkIn(t, m)
			}
		}
		token := strings.TrimPrefix(link, "/password/reset?token=")
		p := v.Post(acme, "/password/reset", url.Values{"token": {token}, "password": {"olga's new passphrase"}})
		wantRedirect(t, p, "/login?notice=reset")
		deviceCookie(t, p)
		if p := v.Get(acme, "/account"); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("the reset signed the browser in: %d", p.StatusCode)
		}
		// The stranger is still at it; the browser that used the link gets in.
		hammer(t, b, acme, attacker, email, 8)
		wantRedirect(t, login(v, acme, email, "olga's new passphrase"), "/account")
	})
	t.Run("keys carry the tenant", func(t *testing.T) {
		opt, err := redis.ParseURL(b.env.Getenv("GATEHOUSE_REDIS_URL"))
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		ctx := context.Background()
		ids := map[string]string{}
		for _, slug := range []string{"acme", "bravo"} {
			tn, err := b.env.Tenants().BySlug(ctx, slug)
			if err != nil {
				t.Fatal(err)
			}
			ids[slug] = tn.ID.String()
		}
		keys, err := rdb.Keys(ctx, "*login:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			t.Fatal("no login throttle keys in Redis")
		}
		for _, k := range keys {
			if !strings.Contains(k, ids["acme"]) && !strings.Contains(k, ids["bravo"]) {
				t.Errorf("throttle key %q carries no tenant", k)
			}
		}
	})
}

// TestAccountCeilingNotifies: failures on one account from many addresses
// never refuse the owner, but past the ceiling the owner gets one mail per
// window, and the notice is audited once.
func TestAccountCeilingNotifies(t *testing.T) {
	t.Parallel()
	b := newProxiedBrandEnv(t, "acme")
	const host, email, password = "acme.localhost", "nina@example.com", "nina's passphrase"
	owner := b.at(t, "198.51.100.30")
	wantRedirect(t, signup(owner, host, email, password, nil), "/account")
	owner.Post(host, "/logout", nil)
	// 40 failures, three from each of many addresses: under every
	// per-address allowance, over the account's ceiling twice.
	for i := 0; i < 40; i++ {
		if p := login(b.at(t, fmt.Sprintf("203.0.113.%d", 10+i/3)), host, email, fmt.Sprintf("spray %d!!", i)); p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("spray %d: status %d", i, p.StatusCode)
		}
	}
	wantRedirect(t, login(owner, host, email, password), "/account")
	for {
		m := b.env.Mail.WaitFor(t, email, 10*time.Second)
		if strings.HasPrefix(m.Subject, "Someone is trying to sign in") {
			if !strings.Contains(m.Text, "/password/forgot") || !strings.Contains(m.Text, "you can still sign in") {
				t.Fatalf("notice:\n%s", m.Text)
			}
			break
		}
	}
	var n int64
	b.env.DB().Gorm.Raw("SELECT COUNT(*) FROM audit_events WHERE action = 'customer.login.attempts_notified' AND target = ?", email).Scan(&n)
	if n != 1 {
		t.Fatalf("%d notices recorded, want 1 per window", n)
	}
}

// TestSharedAddressCustomersGetIn: 50 customers behind one address (a
// shop's Wi-Fi) sign in from new browsers, and sign in again while a few
// of them mistype; more than the base allowance of failures come from the
// address, yet every correct password succeeds, because the allowance
// grows with the address's successful sign-ins.
func TestSharedAddressCustomersGetIn(t *testing.T) {
	t.Parallel()
	b := newProxiedBrandEnv(t, "acme")
	const host, shop = "acme.localhost", "192.0.2.50"
	email := func(i int) string { return fmt.Sprintf("cust%02d@example.com", i) }
	pass := func(i int) string { return fmt.Sprintf("customer %02d passphrase", i) }
	for i := 0; i < 50; i++ {
		wantRedirect(t, signup(b.at(t, fmt.Sprintf("10.9.0.%d", i+1)), host, email(i), pass(i), nil), "/account")
	}
	refused, failures := 0, 0
	for i := 0; i < 50; i++ {
		if p := login(b.at(t, shop), host, email(i), pass(i)); p.StatusCode != http.StatusSeeOther {
			refused++
		}
	}
	for i := 0; i < 50; i++ {
		v := b.at(t, shop)
		if i%5 == 0 {
			for j := 0; j < 4; j++ {
				if p := login(v, host, email(i), fmt.Sprintf("typo %d", j)); p.StatusCode == http.StatusSeeOther {
					t.Fatal("a wrong password signed in")
				}
				failures++
			}
		}
		if p := login(v, host, email(i), pass(i)); p.StatusCode != http.StatusSeeOther {
			refused++
			t.Logf("customer %d: %d (Retry-After %q)", i, p.StatusCode, p.Header.Get("Retry-After"))
		}
	}
	if failures <= 30 {
		t.Fatalf("only %d failures: the test must pass the base allowance of 30", failures)
	}
	if refused > 0 {
		t.Fatalf("%d of 100 correct sign-ins from the shared address were refused", refused)
	}
}

// failUntilThrottled posts wrong passwords with post until one is refused
// with 429 and Retry-After; the first free ones must get wantFirst.
func failUntilThrottled(t *testing.T, what string, wantFirst int, post func(i int) apptest.Page) {
	t.Helper()
	for i := 0; i < 12; i++ {
		p := post(i)
		if p.StatusCode == http.StatusTooManyRequests {
			if i < 5 {
				t.Fatalf("%s: throttled after only %d failures", what, i)
			}
			wantThrottled(t, p, what)
			return
		}
		if p.StatusCode != wantFirst {
			t.Fatalf("%s: failure %d got %d, want %d", what, i, p.StatusCode, wantFirst)
		}
	}
	t.Fatalf("%s: 12 wrong passwords and no 429", what)
}

// TestCurrentPasswordThrottled is item 6 for /account/password: wrong
// current passwords are throttled like logins, on the same keys, so they
// also hold back /login from that browser, but nobody else.
func TestCurrentPasswordThrottled(t *testing.T) {
	t.Parallel()
	b := newProxiedBrandEnv(t, "acme")
	const host, email, password = "acme.localhost", "carl@example.com", "carl's passphrase"
	v := b.at(t, "198.51.100.40")
	wantRedirect(t, signup(v, host, email, password, nil), "/account")
	failUntilThrottled(t, "/account/password", http.StatusUnprocessableEntity, func(i int) apptest.Page {
		return v.Post(host, "/account/password", url.Values{"current_password": {fmt.Sprintf("not it %d", i)}, "new_password": {"carl's next passphrase"}})
	})
	wantThrottled(t, login(v, host, email, password), "/login from the same browser")
	wantRedirect(t, login(b.at(t, "198.51.100.41"), host, email, password), "/account")
}

// TestSocialLinkThrottled is item 6 for /social/link: the password that
// confirms a link is throttled like a login, on the same keys.
func TestSocialLinkThrottled(t *testing.T) {
	t.Parallel()
	b := newProxiedBrandEnv(t, "acme")
	fake := apptest.StartFakeOIDC(t)
	b.withOIDC(t, "acme", fake, "acme-client", "acme-secret")
	const host, email, password, stranger = "acme.localhost", "lina@example.com", "lina's passphrase", "203.0.113.44"
	wantRedirect(t, signup(b.at(t, "198.51.100.50"), host, email, password, nil), "/account")
	// Someone whose provider account claims Lina's address tries to link
	// it to her account by guessing her password.
	fake.Set(func(f *apptest.FakeOIDC) {
		f.User = apptest.FakeUser{Subject: "u-lina", Email: email, EmailVerified: true}
	})
	v := b.at(t, stranger)
	p := socialLogin(t, v, host, nil)
	wantRedirect(t, p, "/social/link?token=")
	tok, _ := url.QueryUnescape(strings.TrimPrefix(p.Header.Get("Location"), "/social/link?token="))
	failUntilThrottled(t, "/social/link", http.StatusUnauthorized, func(i int) apptest.Page {
		return v.Post(host, "/social/link", url.Values{"token": {tok}, "password": {fmt.Sprintf("lina guess %d", i)}})
	})
	wantThrottled(t, login(b.at(t, stranger), host, email, password), "/login from the stranger's address")
	wantRedirect(t, login(b.at(t, "198.51.100.51"), host, email, password), "/account")
}
