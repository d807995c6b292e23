package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

// navigations records the main frame's navigations in a browser tab, to
// tell which pages were actually shown.
type navigations struct {
	mu   sync.Mutex
	urls []string
}

func (n *navigations) add(ev any) {
	if e, ok := ev.(*page.EventFrameNavigated); ok && e.Frame.ParentID == "" {
		n.mu.Lock()
		n.urls = append(n.urls, e.Frame.URL)
		n.mu.Unlock()
	}
}

// since returns the navigations after the first i, and the new count.
func (n *navigations) since(i int) ([]string, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.urls[i:]...), len(n.urls)
}

// TestBrowserSPASignInAndSingleSignOn: a brand's SPA on another origin (a
// static page on 127.0.0.1) signs a customer in through the full redirect
// flow in Chromium: PKCE S256 from WebCrypto, state and nonce, the hosted
// /login, back with code and state, and the code exchanged with fetch
// across origins (the CORS allowance of spa apps). A second spa app of the
// tenant then gets single sign-on with no login page; an app of another
// tenant gets the login page.
func TestBrowserSPASignInAndSingleSignOn(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	spaSite := httptest.NewServer(http.FileServer(http.Dir("testdata/spa")))
	t.Cleanup(spaSite.Close)
	origin := spaSite.URL            // http://127.0.0.1:port
	redirect := origin + "/app.html" // not index.html, which http.FileServer redirects to "/"

	env := appEnv(t)
	one := createApp(t, env, "--tenant", "acme", "--name", "Shop", "--type", "spa", "--first-party", "--redirect-uri", redirect, "--cors-origin", origin)
	two := createApp(t, env, "--tenant", "acme", "--name", "Club", "--type", "spa", "--first-party", "--redirect-uri", redirect, "--cors-origin", origin)
	other := createApp(t, env, "--tenant", "bravo", "--name", "Bravo", "--type", "spa", "--first-party", "--redirect-uri", redirect, "--cors-origin", origin)
	srv := env.Serve()
	const acme, bravo = "acme.localhost", "bravo.localhost"
	signUp(t, srv.Visitor(t), acme, custEmail, custPassword)
	kim := customerID(t, env, custEmail)

	var nav navigations
	if err := chromedp.Listen(ctx, nav.add); err != nil {
		t.Fatal(err)
	}
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			urls, _ := nav.since(0)
			t.Fatalf("%v; pages shown: %v", err, urls)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	start := func(host string, app createdApp) string {
		return redirect + "?" + url.Values{"issuer": {srv.URL(host, "")}, "client_id": {app.ClientID}}.Encode()
	}
	signedIn := func(where string) {
		t.Helper()
		run(chromedp.WaitVisible(`#done`))
		if status := text("#status"); status != "signed-in" {
			t.Fatalf("%s: the SPA says %q: %s", where, status, text("#error"))
		}
		if sub, email := text("#sub"), text("#email"); sub != kim || email != custEmail {
			t.Fatalf("%s: the SPA shows sub %q email %q", where, sub, email)
		}
	}
	shownLogin := func(urls []string, host string) bool {
		for _, raw := range urls {
			if u, err := url.Parse(raw); err == nil && u.Hostname() == host && u.Path == "/login" {
				return true
			}
		}
		return false
	}

	// First app: the hosted login page, then back to the SPA.
	_, mark := nav.since(0)
	run(
		chromedp.Navigate(start(acme, one)),
		chromedp.WaitVisible(`form[action="/login"] input[name="email"]`),
		chromedp.SendKeys(`form[action="/login"] input[name="email"]`, custEmail),
		chromedp.SendKeys(`form[action="/login"] input[name="password"]`, custPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
	)
	signedIn("first app")
	urls, mark := nav.since(mark)
	if !shownLogin(urls, acme) {
		t.Fatalf("the first sign-in showed no login page: %v", urls)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if back, _ := url.Parse(loc); back.Host != strings.TrimPrefix(origin, "http://") || back.Query().Get("code") == "" || back.Query().Get("state") == "" {
		t.Fatalf("the SPA was not reached with code and state: %s", loc)
	}

	// Second app of the tenant: single sign-on, no login page.
	run(chromedp.Navigate(start(acme, two)))
	signedIn("second app")
	urls, mark = nav.since(mark)
	if shownLogin(urls, acme) {
		t.Fatalf("single sign-on showed the login page: %v", urls)
	}

	// An app of another tenant: acme's session means nothing on bravo.
	run(chromedp.Navigate(start(bravo, other)), chromedp.WaitVisible(`form[action="/login"]`))
	urls, _ = nav.since(mark)
	if !shownLogin(urls, bravo) {
		t.Fatalf("bravo's app was not shown bravo's login page: %v", urls)
	}
}
