package app_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"gatehouse/app/apptest"
)

// axeSource is axe-core, vendored from npm by assets/vendor-axe.sh.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// Long values, so that a page that cannot wrap or scroll its tables inside
// their own box shows it at 390 px.
const (
	longTenantName = "Acme Coffee Roasters and Tea Merchants International"
	longDomain     = "login.the-acme-coffee-roasters-and-tea-merchants.example.com"
	longRedirect   = "https://shop.the-acme-coffee-roasters-and-tea-merchants.example.com/oauth/callback/with/a/very/long/path"
	longEmail      = "margaretha.van-der-berghe-oppenheimer@the-acme-coffee-roasters.example.com"
)

// viewports are the phone and the desktop the console must fit.
var viewports = []struct {
	name string
	w, h int64
}{{"phone", 390, 844}, {"desktop", 1280, 900}}

// TestConsoleLayoutAndAccessibility opens every console page, with seeded
// rows carrying long values, at 390x844 and 1280x900 and asserts that none
// scrolls sideways (the page itself; a table may scroll inside its own
// box). Each page is screenshotted under the test's temp dir (paths are
// logged). At desktop width axe-core runs on each page, and on the hosted
// customer pages, and must find no serious or critical violation.
func TestConsoleLayoutAndAccessibility(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	env := apptest.New(t)
	if r := env.Run("tenant", "create", "--slug", "acme", "--name", longTenantName, "--domain", longDomain); r.Code != 0 {
		t.Fatalf("tenant create: %s", r.Stderr)
	}
	mustStaff(t, env, "root@example.com", "platform-admin", "")
	if r := runStaff(t, env, "", "grant", "--email", "root@example.com", "--role", "owner", "--tenant", "acme"); r.Code != 0 {
		t.Fatalf("staff grant: %s", r.Stderr)
	}
	mustStaff(t, env, "support-with-a-long-address@the-acme-coffee-roasters.example.com", "support", "acme")
	if r := env.Run("app", "create", "--tenant", "acme", "--name", "Acme web shop with a long name", "--type", "web", "--redirect-uri", longRedirect); r.Code != 0 {
		t.Fatalf("app create: %s", r.Stderr)
	}
	csv := filepath.Join(t.TempDir(), "customers.csv")
	rows := "email,first_name\n" + longEmail + ",Margaretha\nada@example.com,Ada\nnot-an-email,Bad\n"
	if err := os.WriteFile(csv, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := env.Run("import", "--tenant", "acme", csv); r.Code != 0 {
		t.Logf("import (one bad row on purpose): %s", r.Stderr)
	}
	srv := env.Serve()
	console := func(path string) string { return srv.URL(consoleHost, path) }
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// A failed sign-in on the hosted page, so the audit log has a stranger's row.
	do("a failed sign-in",
		chromedp.Navigate(srv.URL("acme.localhost", "/login")),
		chromedp.SetValue(`#login-email`, longEmail),
		chromedp.SetValue(`#login-password`, "not the password at all"),
		chromedp.Click(`[data-testid="login-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[role="alert"], .alert`),
	)
	// A failed sign-up (the address is taken) stays at /login, so a reload
	// asks to resubmit nothing at /register.
	do("a failed sign-up",
		chromedp.Navigate(srv.URL("acme.localhost", "/login?mode=signup")),
		chromedp.SetValue(`#signup-email`, longEmail),
		chromedp.SetValue(`#signup-password`, "a long enough passphrase"),
		chromedp.Click(`[data-testid="signup-form"] button[type="submit"]`),
		chromedp.WaitVisible(`#signup-email-error, [data-testid="signup-form"] .field-error`),
	)
	if path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err != nil || path != "/login" {
		t.Errorf("a failed sign-up left the address bar at %q (%v), want /login", path, err)
	}
	do("sign in",
		chromedp.Navigate(console("/login")),
		chromedp.SetValue(`#email`, "root@example.com"),
		chromedp.SetValue(`#password`, staffPassword),
		chromedp.Click(`[data-testid="login-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="staff-email"]`),
		chromedp.Navigate(console("/t/acme/webhooks")),
		chromedp.WaitVisible(`#w-url`),
		chromedp.Evaluate[chromedp.Void](`(() => {
			document.querySelectorAll('input[name="events"]').forEach(c => { c.checked = true; });
			document.getElementById('w-url').value = 'https://hooks.the-acme-coffee-roasters-and-tea-merchants.example.com/gatehouse/events/receiver';
			document.getElementById('w-url').form.requestSubmit();
		})()`),
	)
	apptest.Eventually(t, 10*time.Second, func() error {
		// The form's page is being replaced: an error here is a retry.
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.innerText.includes('Endpoint added')`))
		if err == nil && !ok {
			err = os.ErrNotExist
		}
		return err
	})

	var customer, job, endpoint, client string
	g := env.DB().Gorm
	g.Raw("SELECT id FROM customers WHERE email = ?", longEmail).Scan(&customer)
	g.Raw("SELECT id FROM import_jobs ORDER BY created_at LIMIT 1").Scan(&job)
	g.Raw("SELECT id FROM webhook_endpoints LIMIT 1").Scan(&endpoint)
	g.Raw("SELECT client_id FROM apps LIMIT 1").Scan(&client)
	if customer == "" || job == "" || endpoint == "" || client == "" {
		t.Fatalf("seed: customer %q, job %q, endpoint %q, client %q", customer, job, endpoint, client)
	}
	pages := []string{
		"/", "/account/security", "/tenants", "/tenants/acme",
		"/t/acme", "/t/acme/theme", "/t/acme/theme/logo", "/t/acme/fields", "/t/acme/fields/first_name",
		"/t/acme/settings", "/t/acme/emails", "/t/acme/emails/verify", "/t/acme/customers", "/t/acme/customers/" + customer,
		"/t/acme/social", "/t/acme/social/google", "/t/acme/social/oidc",
		"/t/acme/staff", "/t/acme/audit", "/t/acme/imports", "/t/acme/imports/" + job,
		"/t/acme/apps", "/t/acme/webhooks", "/t/acme/webhooks/" + endpoint,
		"/switch?q=acme", "/t/acme/customers?sort=recent&size=50",
	}
	// Screenshots go to the test's temp dir, or to GATEHOUSE_SCREENSHOTS to
	// keep them after the run.
	// A failed sign-in was made by an unknown visitor, not the customer.
	for _, p := range []string{"/t/acme/customers/" + customer, "/t/acme/audit?action=customer.login.failed"} {
		do("open "+p, chromedp.Navigate(console(p)), chromedp.WaitReady(`main`))
		body, err := chromedp.Run(ctx, chromedp.Text(`main`))
		if err != nil || !strings.Contains(body, "Someone trying") || strings.Contains(body, "customer:") {
			t.Errorf("%s does not name the failed sign-in's actor as an unknown visitor (%v):\n%s", p, err, body)
		}
	}
	// Copy buttons (assets/static/ui.js) copy the callback URL and show it.
	// The clipboard itself is the browser's: the page's writeText records
	// what our script hands it.
	do("copy the callback URL",
		chromedp.Navigate(console("/t/acme/social/google")),
		chromedp.WaitVisible(`[data-copy="callback-url"]`),
		chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = t => { window.__copied = t; return Promise.resolve(); }`),
		chromedp.Click(`[data-copy="callback-url"]`),
	)
	copied, err := chromedp.Run(ctx, chromedp.Poll[string](`window.__copied`, chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil || !strings.HasSuffix(copied, "/social/google/callback") || !strings.Contains(copied, longDomain) {
		t.Errorf("the copy button copied %q (%v)", copied, err)
	}
	// Previews show what was changed: the desktop frame reaches the primary
	// button, and the sign-up frame shows a field added a moment ago.
	inFrame := func(what, frame, js string) {
		t.Helper()
		apptest.Eventually(t, 10*time.Second, func() error {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
				const f = document.querySelector('`+frame+`');
				const d = f && f.contentDocument;
				if (!d || d.readyState !== 'complete') return false;
				const el = `+js+`;
				return !!el && el.getBoundingClientRect().bottom <= f.clientHeight;
			})()`))
			if err == nil && !ok {
				err = fmt.Errorf("%s is not inside the frame", what)
			}
			return err
		})
	}
	do("open the theme", chromedp.Navigate(console("/t/acme/theme")), chromedp.WaitVisible(`[data-testid="preview-desktop"]`))
	inFrame("the primary button", `[data-testid="preview-desktop"]`, `d.querySelector('.btn-primary')`)
	do("add a field",
		chromedp.Navigate(console("/t/acme/fields")),
		chromedp.SetValue(`#f-label`, "Favourite roast of the season"),
		chromedp.SetValue(`#f-key`, "roast"),
		chromedp.Click(`[data-testid="field-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="flash"]`),
	)
	inFrame("the new field", `[data-testid="signup-preview"]`, `d.querySelector('[name="roast"]')`)
	// Controls that sit side by side are level: same top and bottom.
	for _, c := range []struct{ page, a, b string }{
		{"/tenants", `#q`, `form.cx-search button`},
		{"/tenants/acme", `#domain`, `[data-testid="domain-add"] button`},
		{"/t/acme/fields", `#f-label`, `#f-key`},
		{"/t/acme/fields", `#f-type`, `#f-capture`},
		{"/t/acme/audit", `#a-actor`, `#a-from`},
		{"/t/acme/audit", `#a-from`, `#a-to`},
	} {
		do("open "+c.page, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(console(c.page)), chromedp.WaitVisible(c.a))
		off, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const a = document.querySelector('`+c.a+`').getBoundingClientRect(), b = document.querySelector('`+c.b+`').getBoundingClientRect();
			return Math.abs(a.top - b.top) <= 1 && Math.abs(a.bottom - b.bottom) <= 1 ? '' : 'tops ' + a.top + '/' + b.top + ', bottoms ' + a.bottom + '/' + b.bottom;
		})()`))
		if err != nil || off != "" {
			t.Errorf("%s: %s and %s are not level: %s %v", c.page, c.a, c.b, off, err)
		}
	}
	// The overview draws its charts from the activity above (the failed
	// sign-in), so the layout and axe checks below see them with data.
	do("open the overview", chromedp.Navigate(console("/t/acme")),
		chromedp.WaitVisible(`[data-testid="chart-failed"] svg[role="img"]`),
		chromedp.WaitVisible(`[data-testid="chart-fields"] table`))
	shots := t.TempDir()
	if dir := os.Getenv("GATEHOUSE_SCREENSHOTS"); dir != "" {
		shots = dir
	}
	for _, vp := range viewports {
		do("resize", chromedp.EmulateViewport(vp.w, vp.h))
		for _, p := range pages {
			assertFits(t, ctx, shots, vp.name, console(p))
			if vp.name == "desktop" {
				assertAccessible(t, ctx, console(p))
			}
		}
	}
	// The tenant switcher opens from the keyboard, searches as one types
	// (htmx), and its open panel fits a phone and passes axe-core.
	for _, vp := range viewports {
		do("open the switcher at "+vp.name,
			chromedp.EmulateViewport(vp.w, vp.h),
			chromedp.Navigate(console("/t/acme/customers")),
			chromedp.WaitVisible(`.cx-switch summary`),
			chromedp.Focus(`.cx-switch summary`),
			chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(`#switch-q`),
			chromedp.Focus(`#switch-q`),
			chromedp.SendKeys(`#switch-q`, "roasters"),
		)
		apptest.Eventually(t, 10*time.Second, func() error {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
				const names = [...document.querySelectorAll('#switch-results .cx-switch-name')].map(e => e.textContent.trim());
				return names.length === 1 && names[0] === `+"`"+longTenantName+"`"+`;
			})()`))
			if err == nil && !ok {
				err = fmt.Errorf("the switcher's search did not list the tenant")
			}
			return err
		})
		type size struct{ Scroll, Inner int }
		sz, err := chromedp.Run(ctx, chromedp.Evaluate[size](`({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth})`))
		if err != nil || sz.Scroll > sz.Inner {
			wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](widestJS))
			t.Errorf("open switcher at %s: %d px wide in %d (%v); widest: %s", vp.name, sz.Scroll, sz.Inner, err, wide)
		}
		if vp.name == "desktop" {
			assertAxeOpenPage(t, ctx, "the open switcher")
		}
	}
	// Escape closes the open switcher and gives the focus back to its
	// summary, and so does a click outside it.
	type state struct {
		Open         bool
		FocusSummary bool
	}
	switcher := func() state {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[state](`({Open: document.querySelector('.cx-switch').open,
			FocusSummary: document.activeElement === document.querySelector('.cx-switch summary')})`))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := switcher(); !st.Open {
		t.Fatal("the switcher should still be open after the search")
	}
	do("press Escape in the switcher's search", chromedp.Focus(`#switch-q`), chromedp.KeyEvent(kb.Escape))
	if st := switcher(); st.Open || !st.FocusSummary {
		t.Errorf("after Escape the switcher is open=%v, focus on its summary=%v; want closed, focused", st.Open, st.FocusSummary)
	}
	do("open the switcher and click outside it",
		chromedp.Click(`.cx-switch summary`), chromedp.WaitVisible(`#switch-q`),
		chromedp.MouseClickXY(1270, 890)) // the desktop viewport's far corner, below the panel
	if st := switcher(); st.Open {
		t.Error("a click outside the switcher left it open")
	}

	do("sign out", chromedp.Click(`[data-testid="logout"]`), chromedp.WaitVisible(`[data-testid="login-form"]`))
	assertFits(t, ctx, shots, "desktop", console("/login"))
	assertAccessible(t, ctx, console("/login"))
	// The signed-out forgot-password pages, on a phone and a desktop.
	for _, p := range []string{"/login/forgot", "/login/reset?token=not-a-real-token"} {
		for _, vp := range viewports {
			do("resize", chromedp.EmulateViewport(vp.w, vp.h))
			assertFits(t, ctx, shots, vp.name, console(p))
		}
		assertAccessible(t, ctx, console(p))
	}

	// The hosted password fields have a show-password toggle.
	do("show the password",
		chromedp.Navigate(srv.URL("acme.localhost", "/login")),
		chromedp.WaitVisible(`[data-reveal="login-password"]`),
		chromedp.SetValue(`#login-password`, "secret words"),
		chromedp.Click(`[data-reveal="login-password"]`),
	)
	if typ, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('login-password').type + ' ' + document.querySelector('[data-reveal="login-password"]').getAttribute('aria-pressed')`)); err != nil || typ != "text true" {
		t.Errorf("after Show password: %q (%v), want the password shown and the button pressed", typ, err)
	}
	do("hide it again", chromedp.Click(`[data-reveal="login-password"]`))
	if typ, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('login-password').type`)); err != nil || typ != "password" {
		t.Errorf("after Hide password: %q (%v)", typ, err)
	}

	// The hosted pages a customer sees.
	hosted := []string{"/login", "/login?mode=signup", "/password/forgot", "/password/reset?token=not-a-real-token"}
	for _, vp := range viewports {
		do("resize", chromedp.EmulateViewport(vp.w, vp.h))
		for _, p := range hosted {
			assertFits(t, ctx, shots, vp.name, srv.URL("acme.localhost", p))
			if vp.name == "desktop" {
				assertAccessible(t, ctx, srv.URL("acme.localhost", p))
			}
		}
	}
}

// assertFits opens url and fails the test if the page is wider than the
// viewport; it saves a full-page screenshot either way.
func assertFits(t *testing.T, ctx context.Context, dir, viewport, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(`body`)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	type size struct{ Scroll, Inner int }
	s, err := chromedp.Run(ctx, chromedp.Evaluate[size](`({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth})`))
	if err != nil {
		t.Fatalf("measure %s: %v", url, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		name := strings.NewReplacer("http://", "", "/", "_", "?", "_", ":", "_").Replace(url)
		path := filepath.Join(dir, viewport+"-"+name+".png")
		if os.WriteFile(path, png, 0o600) == nil {
			t.Logf("screenshot %s", path)
		}
	}
	if s.Scroll > s.Inner {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](widestJS))
		t.Errorf("%s at %s: page is %d px wide in a %d px window; widest: %s", url, viewport, s.Scroll, s.Inner, wide)
	}
}

// widestJS names the elements that stick out past the right edge, to make
// a failure actionable.
const widestJS = `(() => {
	const w = window.innerWidth, out = [];
	// Inside a scrolling box only what is positioned out of it counts.
	const inScroller = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) { if (getComputedStyle(p).overflowX !== 'visible') return true; } return false; };
	for (const el of document.querySelectorAll('body *')) {
		if (inScroller(el) && !['absolute', 'fixed'].includes(getComputedStyle(el).position)) continue;
		const r = el.getBoundingClientRect();
		if (r.right > w + 1 && out.length < 6) out.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '') + '(' + Math.round(r.right) + ')');
	}
	return out.join(' ');
})()`

// assertAccessible runs axe-core on the open page (url is for the
// message) and fails on any serious or critical violation.
func assertAccessible(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(`body`)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	assertAxeOpenPage(t, ctx, url)
}

// assertAxeOpenPage runs axe-core on the page as it is now, such as with a
// menu open (what names the state in messages).
func assertAxeOpenPage(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== 'undefined' || (function(){`+axeSource+`; return true})()`)); err != nil {
		t.Fatalf("inject axe-core on %s: %v", url, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(
		r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
			.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').split('\n').slice(1, 2).join(''))}))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", url, err)
	}
	var found []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(raw), &found); err != nil {
		t.Fatalf("axe result on %s: %v", url, err)
	}
	for _, v := range found {
		t.Errorf("%s: axe %s (%s): %s: %s", url, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "))
	}

}
