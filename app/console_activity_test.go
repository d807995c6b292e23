package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

const chromeOnMac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// withUserAgent sends every request with a User-Agent header.
type withUserAgent struct {
	base http.RoundTripper
	ua   string
}

func (w withUserAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", w.ua)
	return w.base.RoundTrip(r)
}

// TestConsoleActivity: the audit log and the customer page tell what
// happened in words, who did it by name or email (a stranger's failed
// sign-in by nobody's name), from which device and address, and what a
// change changed; another tenant's events never show.
func TestConsoleActivity(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
	srv := env.Serve()

	owner := newBrowser(t, srv)
	base := owner.client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	owner.client.Transport = withUserAgent{base: base, ua: chromeOnMac}
	owner.login("owner@acme.test", staffPassword)

	// A customer signs up on acme's pages from an iPhone; a stranger then
	// tries their address with a wrong password.
	iphone := srv.Visitor(t)
	iphone.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
	wantRedirect(t, signup(iphone, "acme.localhost", "ana@example.com", "acme passphrase one", nil), "/")
	stranger := srv.Visitor(t)
	login(stranger, "acme.localhost", "ana@example.com", "not the password")

	// The owner changes the theme's colour and name.
	if r := owner.post("/t/acme/theme", themeValues("#0f766e", "Acme Roasters")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("theme: %d\n%s", r.StatusCode, r.Body)
	}
	// Bravo has its own customer, who must not show in acme's log.
	wantRedirect(t, signup(srv.Visitor(t), "bravo.localhost", "only.bravo@example.com", "bravo passphrase one", nil), "/")

	page := owner.get("/t/acme/audit")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d", page.StatusCode)
	}
	body := page.Body
	item := func(title string) string {
		t.Helper()
		for _, it := range strings.Split(body, `data-testid="activity-item"`)[1:] {
			if strings.Contains(it, `data-testid="event-title">`+title+`<`) {
				return it
			}
		}
		t.Fatalf("no %q event in:\n%s", title, body)
		return ""
	}
	text := func(s string) string { return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(s, "") }

	t.Run("a sign-up names the customer and the device", func(t *testing.T) {
		it := item("Signed up")
		if !strings.Contains(it, `data-testid="event-actor">ana@example.com<`) || !strings.Contains(it, `data-testid="event-device">Safari on iOS<`) || !strings.Contains(it, `data-testid="event-ip">127.0.0.1<`) {
			t.Errorf("sign-up event:\n%s", it)
		}
	})
	t.Run("a stranger's failed sign-in is not the customer's", func(t *testing.T) {
		it := item("Sign-in failed")
		if !strings.Contains(it, `data-testid="event-actor">Someone trying ana@example.com<`) || strings.Contains(it, "customer:") {
			t.Errorf("failed sign-in event:\n%s", it)
		}
	})
	t.Run("a change reads as a diff, from the staff member's browser", func(t *testing.T) {
		it := item("Theme changed")
		if !strings.Contains(it, `data-testid="event-actor">owner@acme.test<`) || !strings.Contains(it, `data-testid="event-device">Chrome on macOS<`) {
			t.Errorf("theme event:\n%s", it)
		}
		if got := text(it); !strings.Contains(got, "Primary color") || !regexp.MustCompile(`#[0-9a-f]{6} → *changed to *#0f766e`).MatchString(got) || !strings.Contains(got, "Acme Roasters") {
			t.Errorf("theme diff reads:\n%s", got)
		}
		if strings.Contains(it, "&#34;") || strings.Contains(it, `{"`) {
			t.Errorf("raw JSON in the theme event:\n%s", it)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		if strings.Contains(body, "only.bravo@example.com") {
			t.Error("bravo's sign-up in acme's log")
		}
		bravo := signedIn(t, srv, "owner@bravo.test")
		b := bravo.get("/t/bravo/audit")
		if !strings.Contains(b.Body, "only.bravo@example.com") || strings.Contains(b.Body, "ana@example.com") || strings.Contains(b.Body, "Acme Roasters") {
			t.Errorf("bravo's log:\n%s", b.Body)
		}
		if r := bravo.get("/t/acme/audit"); r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
			t.Errorf("bravo's owner opens acme's log: %d", r.StatusCode)
		}
	})
	t.Run("the customer page", func(t *testing.T) {
		list := owner.get("/t/acme/customers?q=" + url.QueryEscape("ana@example.com"))
		id := regexp.MustCompile(`/t/acme/customers/([0-9a-f-]{36})`).FindStringSubmatch(list.Body)
		if id == nil {
			t.Fatalf("no customer link in\n%s", list.Body)
		}
		p := owner.get("/t/acme/customers/" + id[1])
		events := p.Body[strings.Index(p.Body, `data-testid="customer-events"`):]
		if !strings.Contains(events, "Signed up") || !strings.Contains(events, "Safari on iOS") || !strings.Contains(events, "Someone trying ana@example.com") {
			t.Errorf("customer activity:\n%s", events)
		}
	})
}
