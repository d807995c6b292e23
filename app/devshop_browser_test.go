package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

// TestBrowserDemoShop is the demo shop's whole journey in Chromium, at
// desktop (1280x900) and phone (390x844) size, on one dev server:
//   - Join: the hosted sign-up with its required field, then back on the
//     shop, signed in, with the customer's name in the header;
//   - the card asking for a missing optional field, saved through
//     updateProfile, and shown on the console's customer page;
//   - Sign out: signed out on the shop and on the hosted host;
//   - Sign in again (the password is asked: the host session ended), then a
//     fresh page load of the shop signs in by single sign-on, with no login
//     page, while the host session lives.
func TestBrowserDemoShop(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	env := apptest.New(t)
	srv := env.Serve("--dev")
	mustStaff(t, env, "owner@demo.test", "owner", "demo")
	console := signedIn(t, srv, "owner@demo.test")
	const shop, demo = "shop.localhost", "demo.localhost"
	shopURL := srv.URL(shop, "/")

	var nav navigations
	if err := chromedp.Listen(ctx, nav.add); err != nil {
		t.Fatal(err)
	}
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			urls, _ := nav.since(0)
			alert, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("error")||{}).textContent||""`))
			t.Fatalf("%v\npages shown: %v\npage alert: %q", err, urls, alert)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	eval := func(js string) bool {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return ok
	}
	shownLogin := func(urls []string) bool {
		for _, raw := range urls {
			if u, err := url.Parse(raw); err == nil && u.Hostname() == demo && u.Path == "/login" {
				return true
			}
		}
		return false
	}
	signedInAs := func(where, name string) {
		t.Helper()
		run(chromedp.WaitVisible(`#status[data-state="signed-in"]`))
		if got := text("#user-name"); got != name {
			t.Fatalf("%s: the shop greets %q, want %q", where, got, name)
		}
		if eval(`!document.getElementById("sign-in").checkVisibility()`) == false {
			t.Fatalf("%s: Sign in is still shown to a signed-in customer", where)
		}
	}

	for i, size := range []struct{ w, h int64 }{{1280, 900}, {390, 844}} {
		email, name := fmt.Sprintf("kim%d@example.com", i), fmt.Sprintf("Kim%d", i)
		t.Logf("%dx%d", size.w, size.h)
		run(chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(shopURL), chromedp.WaitVisible(`#status[data-state="signed-out"]`))
		// The header fits: Join and Sign in are on screen, nothing scrolls sideways.
		if !eval(`(() => { const r = document.getElementById("join").getBoundingClientRect(), s = document.getElementById("sign-in").getBoundingClientRect();
			return r.width > 0 && s.width > 0 && r.right <= innerWidth && s.left >= 0 && document.documentElement.scrollWidth <= innerWidth })()`) {
			t.Fatalf("%dx%d: the header's buttons do not fit", size.w, size.h)
		}

		// Join: the hosted sign-up asks for the required first name.
		run(
			chromedp.Click(`#join`),
			chromedp.WaitVisible(`form[data-testid="signup-form"] input[name="first_name"]`),
			chromedp.SendKeys(`form[data-testid="signup-form"] input[name="email"]`, email),
			chromedp.SendKeys(`form[data-testid="signup-form"] input[name="password"]`, custPassword),
			chromedp.SendKeys(`form[data-testid="signup-form"] input[name="first_name"]`, name),
			chromedp.Click(`form[data-testid="signup-form"] button[type="submit"]`),
		)
		signedInAs("after Join", name)
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if u, _ := url.Parse(loc); u.Hostname() != shop || u.Query().Has("code") {
			t.Fatalf("after Join the browser is at %s", loc)
		}

		// The missing optional field, saved from the shop.
		run(
			chromedp.WaitVisible(`#missing-card select#m-favourite_drink`),
			chromedp.SetValue(`#m-favourite_drink`, "flat_white"),
			chromedp.Click(`#missing-form button[type="submit"]`),
			chromedp.WaitVisible(`#profile dd[data-key="favourite_drink"]`),
		)
		if got := text(`#profile dd[data-key="favourite_drink"]`); got != "Flat white" {
			t.Fatalf("the profile shows the drink as %q", got)
		}
		// The card moves on to the next missing field (the demo's "later" birthday).
		if eval(`document.getElementById("m-favourite_drink") !== null`) {
			t.Fatal("the card still asks for the field just saved")
		}
		page := console.get("/t/demo/customers/" + customerID(t, env, email))
		if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "flat_white") {
			t.Fatalf("the console's customer page does not show the saved drink: %d", page.StatusCode)
		}

		// Sign out: signed out on the shop and on the host.
		run(chromedp.Click(`#sign-out`), chromedp.WaitVisible(`#status[data-state="signed-out"]`))
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, shopURL) {
			t.Fatalf("sign-out ended at %s", loc)
		}
		run(chromedp.Navigate(srv.URL(demo, "/account")), chromedp.WaitVisible(`form[action="/login"]`))

		// Sign in again: the host asks for the password, as its session ended.
		_, mark := nav.since(0)
		run(
			chromedp.Navigate(shopURL), chromedp.WaitVisible(`#status[data-state="signed-out"]`),
			chromedp.Click(`#sign-in`),
			chromedp.WaitVisible(`form[action="/login"] input[name="password"]`),
			chromedp.SendKeys(`form[action="/login"] input[name="email"]`, email),
			chromedp.SendKeys(`form[action="/login"] input[name="password"]`, custPassword),
			chromedp.Click(`form[action="/login"] button[type="submit"]`),
		)
		signedInAs("signed in again", name)
		// A fresh load of the shop (tokens live in memory) signs in by SSO.
		_, mark = nav.since(mark)
		run(chromedp.Navigate(shopURL), chromedp.WaitVisible(`#status[data-state="signed-out"]`), chromedp.Click(`#sign-in`))
		signedInAs("single sign-on", name)
		if urls, _ := nav.since(mark); shownLogin(urls) {
			t.Fatalf("single sign-on showed the login page: %v", urls)
		}
		// Leave signed out, so the next size starts as a newcomer.
		run(chromedp.Click(`#sign-out`), chromedp.WaitVisible(`#status[data-state="signed-out"]`))
	}

	t.Run("console snippet copies with its button", func(t *testing.T) {
		_, clientID := shopConfig(t, srv)
		origin := srv.URL(consoleHost, "")
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: origin}); err != nil {
				t.Fatal(err)
			}
		}
		btn := `button[data-copy="snip-` + clientID + `-sdk"]`
		run(
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(origin+"/login"),
			chromedp.WaitVisible(`form[action="/login"] input[name="email"]`),
			chromedp.SendKeys(`form[action="/login"] input[name="email"]`, "owner@demo.test"),
			chromedp.SendKeys(`form[action="/login"] input[name="password"]`, staffPassword),
			chromedp.Click(`form[action="/login"] button[type="submit"]`),
			chromedp.WaitVisible(`[data-testid="staff-email"]`),
			chromedp.Navigate(origin+"/t/demo/apps"),
			chromedp.WaitVisible(btn), // ui.js ran under the console's CSP and showed it
			chromedp.Click(btn),
			chromedp.WaitVisible(btn+`[data-copied="yes"]`),
		)
		copied, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		shown := text(`#snip-` + clientID + `-sdk`)
		if copied != shown || !strings.Contains(copied, `clientId: "`+clientID+`"`) {
			t.Fatalf("the clipboard holds %q, the page shows %q", copied, shown)
		}
	})

	t.Run("headless form shows the API's field error", func(t *testing.T) {
		// What the API itself says about a sign-up without the first name.
		_, clientID := shopConfig(t, srv)
		signup, _ := json.Marshal(map[string]any{"client_id": clientID, "email": "lee@example.com", "password": custPassword, "profile": map[string]string{},
			"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"})
		req, _ := http.NewRequest(http.MethodPost, srv.URL(demo, "/api/v1/signup"), strings.NewReader(string(signup)))
		req.Header.Set("Content-Type", "application/json")
		resp, body := srv.Do(t, req)
		var problem struct {
			Errors []struct{ Field, Message string } `json:"errors"`
		}
		_ = json.Unmarshal([]byte(body), &problem)
		want := ""
		for _, e := range problem.Errors {
			if strings.TrimPrefix(e.Field, "profile.") == "first_name" {
				want = e.Message
			}
		}
		if resp.StatusCode != http.StatusUnprocessableEntity || want == "" {
			t.Fatalf("the API's answer to a sign-up without first_name: %d %s", resp.StatusCode, body)
		}

		run(
			chromedp.EmulateViewport(390, 844),
			chromedp.Navigate(srv.URL(shop, "/join.html")),
			chromedp.WaitVisible(`#signup-form #up-first_name`),
			chromedp.SendKeys(`#up-email`, "lee@example.com"),
			chromedp.SendKeys(`#up-password`, custPassword),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible(`#err-up-first_name`),
		)
		if got := text(`#err-up-first_name`); got != want {
			t.Fatalf("the form shows %q next to the first name, want the API's %q", got, want)
		}
		if !eval(`document.querySelector('[data-field="first_name"]').contains(document.getElementById("err-up-first_name")) &&
			document.getElementById("up-first_name").getAttribute("aria-invalid") === "true" && !document.getElementById("err-up-email").checkVisibility()`) {
			t.Fatal("the error is not next to the first-name input alone")
		}
		// Corrected, the same form signs the customer up and in.
		run(
			chromedp.SendKeys(`#up-first_name`, "Lee"),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible(`#welcome`),
		)
		if got := text("#user-name"); got != "Lee" {
			t.Fatalf("the headless sign-up greets %q", got)
		}
		customerID(t, env, "lee@example.com")
	})
}

// shopConfig reads the dev shop's config.json.
func shopConfig(t *testing.T, srv *apptest.Server) (issuer, clientID string) {
	t.Helper()
	resp, body := srv.Get(t, "shop.localhost", "/config.json")
	var c struct {
		Issuer   string `json:"issuer"`
		ClientID string `json:"client_id"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &c) != nil {
		t.Fatalf("shop config: %d %s", resp.StatusCode, body)
	}
	return c.Issuer, c.ClientID
}
