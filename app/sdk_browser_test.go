package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gatehouse/app"
	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// requestLog records the URLs a browser tab requested, redirects included
// (the authorization request never shows as a page: it redirects on).
type requestLog struct {
	mu   sync.Mutex
	urls []string
}

func (l *requestLog) add(ev any) {
	if e, ok := ev.(*network.EventRequestWillBeSent); ok {
		l.mu.Lock()
		l.urls = append(l.urls, e.Request.URL)
		l.mu.Unlock()
	}
}

// last returns the last requested URL whose path is path.
func (l *requestLog) last(path string) *url.URL {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.urls) - 1; i >= 0; i-- {
		if u, err := url.Parse(l.urls[i]); err == nil && u.Path == path {
			return u
		}
	}
	return nil
}

// sdkPage drives one tab showing testdata/sdk/sdk.html.
type sdkPage struct {
	t   *testing.T
	ctx context.Context
}

func (p sdkPage) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("%v (at %s)", err, loc)
	}
}

func (p sdkPage) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(sel))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval runs an expression in the page (awaiting a promise) and decodes its
// value into out, which may be nil.
func (p sdkPage) eval(expr string, out any) {
	p.t.Helper()
	if err := p.try(expr, out); err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
}

func (p sdkPage) try(expr string, out any) error {
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// openTab opens target in a new tab of the browser, closed when t ends,
// and returns it with the status the page reached.
func openTab(t *testing.T, browser context.Context, target string) (sdkPage, string) {
	t.Helper()
	c, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	p := sdkPage{t: t, ctx: c}
	p.do(chromedp.Navigate(target))
	return p, p.loaded()
}

// leave runs an expression that navigates away (login, logout), first
// taking #done off the current page so that loaded waits for the next one.
func (p sdkPage) leave(expr string) {
	p.t.Helper()
	p.eval(`document.getElementById("done").remove(); void `+expr, nil)
}

// loaded waits for the page to finish its start-up and returns its status.
func (p sdkPage) loaded() string {
	p.t.Helper()
	p.do(chromedp.WaitReady(`#done`))
	return p.text("#status")
}

// jsError is how the tests' expressions report a thrown error.
const catchJS = `.then(v => ({ ok: true, value: v }), e => ({ ok: false, name: e.name, code: e.code, message: e.message, fields: e.fields || null }))`

type jsResult struct {
	OK      bool            `json:"ok"`
	Value   json.RawMessage `json:"value"`
	Name    string          `json:"name"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Fields  []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"fields"`
}

// TestBrowserSDK runs gatehouse.js in Chromium, loaded from the tenant's
// host by a page on another origin, against a real server: the PKCE values
// it makes, the redirect sign-in with state and nonce, an id_token with a
// bad signature and an answer with a foreign state refused, the JSON API,
// refresh rotation shared by two tabs (one use of each refresh token, no
// reuse detected), the headless sign-up and sign-in, and the logout that
// ends the hosted session too.
func TestBrowserSDK(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	site := httptest.NewServer(http.FileServer(http.Dir("testdata/sdk")))
	t.Cleanup(site.Close)
	origin := site.URL
	pageURL := origin + "/sdk.html"

	env := appEnv(t)
	spa := createApp(t, env, "--tenant", "acme", "--name", "Shop", "--type", "spa", "--first-party",
		"--redirect-uri", pageURL, "--cors-origin", origin, "--post-logout-uri", pageURL)
	// The same page as an app whose tokens are signed with RS256.
	rsa := createApp(t, env, "--tenant", "acme", "--name", "Shop RSA", "--type", "spa", "--first-party",
		"--redirect-uri", pageURL, "--cors-origin", origin, "--signing-alg", "RS256")
	// bravo's app allows the same page, so the browser lets it read
	// bravo's refusals.
	bravoApp := createApp(t, env, "--tenant", "bravo", "--name", "Bravo", "--type", "spa", "--first-party",
		"--redirect-uri", pageURL, "--cors-origin", origin)
	acmeTenant, err := env.Tenants().BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Tenants().SaveFields(context.Background(), acmeTenant.ID, []tenants.Field{
		{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
		{Key: "drink", Label: "Favourite drink", Type: tenants.TypeSelect, Capture: tenants.CaptureOptional,
			Options: []tenants.Option{{Value: "tea", Label: "Tea"}, {Value: "coffee", Label: "Coffee"}}},
	}); err != nil {
		t.Fatal(err)
	}
	srv := env.Serve()
	const acme = "acme.localhost"
	issuer := srv.URL(acme, "")
	sdkURL := srv.URL(acme, "/sdk/v1/gatehouse.js")
	start := pageURL + "?" + url.Values{"sdk": {sdkURL}, "client_id": {spa.ClientID}}.Encode()

	// Every tenant host serves the alias, short-cached, naming the hashed
	// URL, which is cached for good; both are JavaScript any origin may load.
	alias, body := srv.Get(t, acme, app.SDKPath)
	m := regexp.MustCompile(`^<(/static/sdk/gatehouse\.[0-9a-f]{10}\.js)>; rel="canonical"$`).FindStringSubmatch(alias.Header.Get("Link"))
	if alias.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, "export function createClient") ||
		alias.Header.Get("Cache-Control") != "public, max-age=300" || alias.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET %s on %s: %d %v", app.SDKPath, acme, alias.StatusCode, alias.Header)
	}
	hashed, hashedBody := srv.Get(t, "bravo.localhost", m[1])
	if hashed.StatusCode != http.StatusOK || hashedBody != body || !strings.Contains(hashed.Header.Get("Cache-Control"), "immutable") ||
		hashed.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("GET %s: %d %v", m[1], hashed.StatusCode, hashed.Header)
	}

	var reqs requestLog
	if err := chromedp.Listen(ctx, reqs.add); err != nil {
		t.Fatal(err)
	}
	tab := sdkPage{t: t, ctx: ctx}
	tab.do(chromedp.Navigate(start))
	if st := tab.loaded(); st != "signed-out" {
		t.Fatalf("a fresh page is %q: %s", st, tab.text("#error"))
	}
	var found string
	tab.eval(`gh.issuer`, &found)
	if found != issuer {
		t.Fatalf("the issuer found from the script's URL is %q, want %q", found, issuer)
	}

	t.Run("PKCE values", func(t *testing.T) {
		var pairs []struct{ Verifier, Challenge, Method string }
		tab.eval(`Promise.all(Array.from({ length: 50 }, () => sdk.createPKCE()))`, &pairs)
		seen := map[string]bool{}
		for _, p := range pairs {
			checkPKCE(t, p.Verifier, p.Challenge)
			if p.Method != "S256" || seen[p.Verifier] {
				t.Fatalf("method %q, verifier repeated: %v", p.Method, seen[p.Verifier])
			}
			seen[p.Verifier] = true
		}
	})

	var kim string
	t.Run("sign-up through the hosted page and back", func(t *testing.T) {
		tab.leave(`gh.login({ signup: true, loginHint: "kim@example.com" })`)
		tab.do(chromedp.WaitVisible(`form[data-testid="signup-form"] input[name="password"]`))
		var hint string
		tab.eval(`document.querySelector('form[data-testid="signup-form"] input[name="email"]').value`, &hint)
		if hint != "kim@example.com" {
			t.Errorf("the sign-up form's email is %q, want the login hint", hint)
		}
		tab.do(
			chromedp.SendKeys(`form[data-testid="signup-form"] input[name="password"]`, custPassword),
			chromedp.SendKeys(`form[data-testid="signup-form"] input[name="first_name"]`, "Kim"),
			chromedp.Click(`form[data-testid="signup-form"] button[type="submit"]`),
		)
		if st := tab.loaded(); st != "signed-in" {
			var sent any
			tab.eval(`window.requests`, &sent)
			t.Fatalf("back on the app: %q: %s; requests %v; urls %v", st, tab.text("#error"), sent, reqs.urls)
		}
		kim = customerID(t, env, "kim@example.com")
		if sub := tab.text("#sub"); sub != kim {
			t.Fatalf("getUser().sub = %q, want %q", sub, kim)
		}

		// The authorization request carried an S256 challenge of the
		// verifier the token request sent, a state and the nonce that came
		// back in the id_token.
		authz := reqs.last("/oauth/authorize")
		if authz == nil {
			t.Fatal("no authorization request seen")
		}
		aq := authz.Query()
		var sent []struct{ URL, Method, Body string }
		tab.eval(`window.requests`, &sent)
		var verifier string
		for _, r := range sent {
			if strings.HasSuffix(r.URL, "/oauth/token") {
				form, _ := url.ParseQuery(r.Body)
				if form.Get("grant_type") == "authorization_code" {
					verifier = form.Get("code_verifier")
				}
			}
		}
		checkPKCE(t, verifier, aq.Get("code_challenge"))
		if aq.Get("code_challenge_method") != "S256" || aq.Get("prompt") != "create" || aq.Get("login_hint") != "kim@example.com" {
			t.Errorf("authorization request %s", authz)
		}
		if len(aq.Get("state")) < 43 || len(aq.Get("nonce")) < 43 || aq.Get("state") == aq.Get("nonce") {
			t.Errorf("state %q nonce %q", aq.Get("state"), aq.Get("nonce"))
		}
		var user map[string]any
		tab.eval(`gh.getUser()`, &user)
		if user["nonce"] != aq.Get("nonce") || user["iss"] != issuer || user["email"] != "kim@example.com" {
			t.Errorf("id_token claims %v", user)
		}
		// The code and state are gone from the address bar.
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if strings.Contains(loc, "code=") || strings.Contains(loc, "state=") {
			t.Errorf("the address bar still has the answer: %s", loc)
		}
	})
	if kim == "" {
		t.FailNow()
	}

	t.Run("me, missingFields and updateProfile", func(t *testing.T) {
		var me struct {
			ID      string         `json:"id"`
			Email   string         `json:"email"`
			Profile map[string]any `json:"profile"`
		}
		tab.eval(`gh.me()`, &me)
		if me.ID != kim || me.Email != "kim@example.com" || me.Profile["first_name"] != "Kim" {
			t.Fatalf("me() = %+v", me)
		}
		var missing struct {
			Required []struct{ Key string } `json:"required"`
			Optional []struct{ Key string } `json:"optional"`
		}
		tab.eval(`gh.missingFields()`, &missing)
		if len(missing.Required) != 0 || len(missing.Optional) != 1 || missing.Optional[0].Key != "drink" {
			t.Fatalf("missingFields() = %+v", missing)
		}
		var bad jsResult
		tab.eval(`gh.updateProfile({ drink: "whisky" })`+catchJS, &bad)
		if bad.OK || bad.Name != "ValidationError" || len(bad.Fields) != 1 || bad.Fields[0].Field != "drink" {
			t.Fatalf("a bad value: %+v", bad)
		}
		tab.eval(`gh.updateProfile({ drink: "tea" })`, &me)
		if me.Profile["drink"] != "tea" {
			t.Fatalf("updateProfile answered %+v", me)
		}
		var stored string
		env.DB().Gorm.Table("customers").Where("id = ?", kim).Pluck("profile", &stored)
		if !strings.Contains(stored, `"tea"`) {
			t.Fatalf("the stored profile is %s", stored)
		}
		tab.eval(`gh.missingFields()`, &missing)
		if len(missing.Optional) != 0 {
			t.Fatalf("missingFields() after the update = %+v", missing)
		}
	})

	t.Run("two tabs rotate one refresh token once", func(t *testing.T) {
		other, st := openTab(t, ctx, start)
		if st != "signed-in" {
			t.Fatalf("the second tab is %q (it should take the first tab's session): %s", st, other.text("#error"))
		}
		var before string
		tab.eval(`gh.getAccessToken()`, &before)
		const rounds = 3
		for round := range rounds {
			if round == rounds-1 {
				// The first tab, which did the refreshing, reloads: the
				// second takes over, and hands the session back to it.
				tab.do(chromedp.Reload())
				if st := tab.loaded(); st != "signed-in" {
					t.Fatalf("the reloaded first tab is %q: %s", st, tab.text("#error"))
				}
			}
			// Both tabs want a token valid for longer than any is: each
			// asks for a refresh at the same moment.
			before = refreshAtOnce(t, round, before, tab, other)
		}
		// The leading tab (the second, since the first reloaded) is frozen
		// in the background, keeping its lock: the first tab takes over.
		freeze := func(state page.SetWebLifecycleStateState) {
			t.Helper()
			if _, err := chromedp.Call(other.ctx, page.SetWebLifecycleState, page.SetWebLifecycleStateParams{State: state}); err != nil {
				t.Fatal(err)
			}
		}
		freeze(page.SetWebLifecycleStateStateFrozen)
		// Told it is being frozen, it hands the lead on.
		apptest.Eventually(t, 3*time.Second, func() error {
			var leads bool
			tab.eval(`gh._leader`, &leads)
			if !leads {
				return errString("the first tab does not lead")
			}
			return nil
		})
		before = refreshAtOnce(t, rounds, before, tab)
		// Thawed, the second tab follows: the two rotate once more, together.
		freeze(page.SetWebLifecycleStateStateActive)
		before = refreshAtOnce(t, rounds+1, before, tab, other)
		// The leading tab (the first now) hangs without warning: the second
		// finds it unresponsive, steals the lead and refreshes; the first,
		// once it runs again, follows.
		tab.eval(`setTimeout(() => { const end = Date.now() + 2500; while (Date.now() < end); }, 0)`, nil)
		before = refreshAtOnce(t, rounds+2, before, other)
		before = refreshAtOnce(t, rounds+3, before, tab, other)
		var rt string
		tab.eval(`gh._store.read().refresh_token`, &rt)
		wantOneUseEach(t, env, rt, rounds+4)
		// Both tabs' token works on the API.
		var email string
		other.eval(`gh.me().then(m => m.email)`, &email)
		if email != "kim@example.com" {
			t.Fatalf("the second tab's me() = %q", email)
		}
	})

	t.Run("an id_token with a bad signature is refused", func(t *testing.T) {
		tab.eval(`sessionStorage.setItem("tamper", "signature")`, nil)
		tab.leave(`gh.login()`) // single sign-on: straight back
		st := tab.loaded()
		tab.eval(`sessionStorage.removeItem("tamper")`, nil)
		if e := tab.text("#error"); st != "error" || !strings.Contains(e, "invalid_id_token") || !strings.Contains(e, "signature") {
			t.Fatalf("status %q error %q", st, e)
		}
		var held bool
		tab.eval(`gh.isAuthenticated()`, &held)
		if held {
			t.Fatal("the tokens with the forged id_token were kept")
		}
	})

	t.Run("an answer with a state this tab never sent is refused", func(t *testing.T) {
		tab.eval(`window.requests = []`, nil)
		var r jsResult
		tab.eval(`gh.handleRedirect(location.origin + "/sdk.html?code=x&state=forged")`+catchJS, &r)
		if r.OK || r.Code != "state_mismatch" {
			t.Fatalf("handleRedirect with a forged state: %+v", r)
		}
		var n int
		tab.eval(`window.requests.filter(r => r.url.endsWith("/oauth/token")).length`, &n)
		if n != 0 {
			t.Fatal("the code was exchanged despite the state")
		}
	})

	t.Run("headless sign-up and sign-in", func(t *testing.T) {
		var r jsResult
		tab.eval(`gh.signUp({ email: "lee@example.com", password: "`+custPassword+`", profile: {} })`+catchJS, &r)
		if r.OK || r.Name != "ValidationError" || len(r.Fields) != 1 || r.Fields[0].Field != "first_name" {
			t.Fatalf("a sign-up without the required field: %+v", r)
		}
		tab.eval(`gh.signUp({ email: "lee@example.com", password: "`+custPassword+`", profile: { first_name: "Lee" } })`+catchJS, &r)
		if !r.OK {
			t.Fatalf("sign-up: %+v", r)
		}
		lee := customerID(t, env, "lee@example.com")
		var claims map[string]any
		_ = json.Unmarshal(r.Value, &claims)
		if claims["sub"] != lee {
			t.Fatalf("signUp resolved to %v, want sub %s", claims, lee)
		}
		tab.eval(`gh.signIn({ email: "lee@example.com", password: "wrong password here" })`+catchJS, &r)
		if r.OK || r.Name != "InvalidGrant" {
			t.Fatalf("a wrong password: %+v", r)
		}
		tab.eval(`gh.signIn({ email: "kim@example.com", password: "`+custPassword+`" }).then(u => u.sub)`+catchJS, &r)
		if !r.OK || strings.Trim(string(r.Value), `"`) != kim {
			t.Fatalf("sign-in: %+v", r)
		}
		// An app of the tenant that signs with RS256: its id_token is
		// verified with RSASSA-PKCS1-v1_5 against the JWKS.
		tab.eval(`(async () => { const c = sdk.createClient({ clientId: "`+rsa.ClientID+`", redirectUri: location.href });`+
			` await c.signIn({ email: "kim@example.com", password: "`+custPassword+`" });`+
			` const ts = c._store.read(); return { alg: JSON.parse(atob(ts.id_token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"))).alg, sub: (await c.getUser()).sub }; })()`+catchJS, &r)
		var rs struct{ Alg, Sub string }
		_ = json.Unmarshal(r.Value, &rs)
		if !r.OK || rs.Alg != "RS256" || rs.Sub != kim {
			t.Fatalf("RS256 app: %+v %+v", r, rs)
		}
		var schema struct {
			Fields []struct{ Key string } `json:"fields"`
			Theme  struct {
				PrimaryColor string `json:"primary_color"`
			} `json:"theme"`
		}
		tab.eval(`gh.schema()`, &schema)
		if len(schema.Fields) != 2 || !regexp.MustCompile(`^#[0-9a-f]{6}$`).MatchString(schema.Theme.PrimaryColor) {
			t.Fatalf("schema() = %+v", schema)
		}
	})

	t.Run("another tenant knows neither the app nor the customer", func(t *testing.T) {
		bravo := srv.URL("bravo.localhost", "")
		try := func(clientID, email string) jsResult {
			var r jsResult
			tab.eval(`sdk.createClient({ issuer: "`+bravo+`", clientId: "`+clientID+`", redirectUri: location.href })`+
				`.signIn({ email: "`+email+`", password: "`+custPassword+`" })`+catchJS, &r)
			return r
		}
		if r := try(spa.ClientID, "kim@example.com"); r.OK || r.Code != "invalid_client" {
			t.Fatalf("acme's app on bravo's host: %+v", r)
		}
		if r := try(bravoApp.ClientID, "kim@example.com"); r.OK || r.Name != "InvalidGrant" {
			t.Fatalf("acme's customer on bravo's app: %+v", r)
		}
	})

	t.Run("storage session keeps the sign-in across a reload", func(t *testing.T) {
		p, _ := openTab(t, ctx, pageURL+"?"+url.Values{"sdk": {sdkURL}, "client_id": {bravoApp.ClientID}, "storage": {"session"}}.Encode())
		// bravo's app, so no other tab shares the session: only storage can keep it.
		var r jsResult
		p.eval(`sdk.createClient({ issuer: "`+srv.URL("bravo.localhost", "")+`", clientId: "`+bravoApp.ClientID+`", redirectUri: location.href, storage: "session" })`+
			`.signUp({ email: "sam@example.com", password: "`+custPassword+`" })`+catchJS, &r)
		if !r.OK {
			t.Fatalf("bravo sign-up: %+v", r)
		}
		p.do(chromedp.Reload())
		p.loaded()
		var sub string
		p.eval(`sdk.createClient({ issuer: "`+srv.URL("bravo.localhost", "")+`", clientId: "`+bravoApp.ClientID+`", redirectUri: location.href, storage: "session" })`+
			`.getUser().then(u => u ? u.sub : "")`, &sub)
		var claims map[string]any
		_ = json.Unmarshal(r.Value, &claims)
		if sub == "" || sub != claims["sub"] {
			t.Fatalf("after a reload getUser().sub = %q, want %v", sub, claims["sub"])
		}
	})

	t.Run("without Web Locks, tabs sharing localStorage rotate once", func(t *testing.T) {
		local := pageURL + "?" + url.Values{"sdk": {sdkURL}, "client_id": {spa.ClientID}, "storage": {"local"}, "nolocks": {"1"}}.Encode()
		var tabs []sdkPage
		for range 2 {
			p, _ := openTab(t, ctx, local)
			tabs = append(tabs, p)
		}
		var r jsResult
		tabs[0].eval(`gh.signIn({ email: "lee@example.com", password: "`+custPassword+`" })`+catchJS, &r)
		if !r.OK {
			t.Fatalf("sign-in: %+v", r)
		}
		// localStorage reaches another tab's renderer a moment later.
		apptest.Eventually(t, 5*time.Second, func() error {
			var held bool
			tabs[1].eval(`navigator.locks === undefined && gh.isAuthenticated()`, &held)
			if !held {
				return errString("the second tab does not see the session in localStorage (or has Web Locks)")
			}
			return nil
		})
		before := ""
		const rounds = 2
		for round := range rounds {
			before = refreshAtOnce(t, round, before, tabs...)
		}
		var rt string
		tabs[0].eval(`JSON.parse(localStorage.getItem(gh._key + ":tokens")).refresh_token`, &rt)
		wantOneUseEach(t, env, rt, rounds)
	})

	t.Run("logout ends the hosted session", func(t *testing.T) {
		tab.leave(`gh.logout({ returnTo: location.origin + "/sdk.html" })`)
		if st := tab.loaded(); st != "signed-out" {
			t.Fatalf("after logout: %q %s", st, tab.text("#error"))
		}
		es := reqs.last("/oauth/end_session")
		if es == nil || es.Query().Get("id_token_hint") == "" || es.Query().Get("post_logout_redirect_uri") != pageURL {
			t.Fatalf("end_session request %v", es)
		}
		tab.leave(`gh.login()`)
		tab.do(chromedp.WaitVisible(`form[action="/login"] input[name="password"]`))
	})
}

// checkPKCE: the verifier is 43 to 128 unreserved characters (RFC 7636
// §4.1) and the challenge is base64url(sha256(verifier)).
func checkPKCE(t *testing.T, verifier, challenge string) {
	t.Helper()
	if !regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`).MatchString(verifier) {
		t.Fatalf("verifier %q", verifier)
	}
	sum := sha256.Sum256([]byte(verifier))
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); challenge != want {
		t.Fatalf("challenge %q, want base64url(sha256(%q)) = %q", challenge, verifier, want)
	}
}

// refreshAtOnce has every tab ask for a token valid longer than any is, at
// the same moment, so each wants a refresh; they must end with one new
// token, not the one they had before.
func refreshAtOnce(t *testing.T, round int, before string, tabs ...sdkPage) string {
	t.Helper()
	var wg sync.WaitGroup
	got := make([]jsResult, len(tabs))
	for i, p := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.try(`gh.getAccessToken({ minValidity: 1e9 })`+catchJS, &got[i]); err != nil {
				got[i].Message = err.Error()
			}
		}()
	}
	wg.Wait()
	for i, r := range got {
		if !r.OK {
			t.Fatalf("round %d, tab %d: %+v", round, i+1, r)
		}
		if string(r.Value) != string(got[0].Value) {
			t.Fatalf("round %d: the tabs hold %s and %s", round, got[0].Value, r.Value)
		}
	}
	token := strings.Trim(string(got[0].Value), `"`)
	if token == before {
		t.Fatalf("round %d: no refresh happened", round)
	}
	return token
}

// wantOneUseEach: the sign-in that refresh token belongs to rotated
// exactly rounds times, each old token used once, and the server never saw
// a used one again (which would have revoked the family).
func wantOneUseEach(t *testing.T, env *apptest.Env, refreshToken string, rounds int) {
	t.Helper()
	sum := sha256.Sum256([]byte(refreshToken))
	var family string
	env.DB().Gorm.Table("oidc_refresh_tokens").Where("token_hash = ?", hex.EncodeToString(sum[:])).Pluck("family_id", &family)
	if family == "" {
		t.Fatal("the tab's refresh token is unknown to the server")
	}
	type row struct {
		UsedAt    *string
		RevokedAt *string
	}
	var rows []row
	env.DB().Gorm.Table("oidc_refresh_tokens").Where("family_id = ?", family).Select("used_at, revoked_at").Scan(&rows)
	used := 0
	for _, r := range rows {
		if r.RevokedAt != nil {
			t.Fatalf("a refresh token was revoked: the server saw one used twice (%d rows)", len(rows))
		}
		if r.UsedAt != nil {
			used++
		}
	}
	if len(rows) != rounds+1 || used != rounds {
		t.Fatalf("%d refresh tokens, %d used; want %d and %d (one rotation per round)", len(rows), used, rounds+1, rounds)
	}
}
