package app_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

// TestConsoleBrowser is the console's end-to-end path in a real Chromium:
// a platform admin creates tenant "acme" and invites its owner; the owner
// sets a password from the mailed link, changes the primary colour and the
// display name and sees them in the live preview, saves, and the tenant's
// login page shows them without a restart; then the owner adds a required
// select field and the hosted sign-up form asks for it.
func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	env := apptest.New(t)
	mustStaff(t, env, "root@example.com", "platform-admin", "")
	srv := env.Serve()
	env.Worker()
	console := func(path string) string { return srv.URL(consoleHost, path) }
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s: %v (waited for %s)", what, err, js)
		}
	}
	signIn := func(email, password string) {
		t.Helper()
		do("sign in as "+email,
			chromedp.Navigate(console("/login")),
			chromedp.SetValue(`#email`, email),
			chromedp.SetValue(`#password`, password),
			chromedp.Click(`[data-testid="login-form"] button[type="submit"]`),
			chromedp.WaitVisible(`[data-testid="staff-email"]`),
		)
	}

	signIn("root@example.com", staffPassword)
	do("create acme",
		chromedp.Navigate(console("/tenants")),
		chromedp.SetValue(`#slug`, "acme"),
		chromedp.SetValue(`#name`, "Acme Coffee"),
		chromedp.Click(`[data-testid="tenant-create"] button`),
		chromedp.WaitVisible(`[data-testid="flash"]`),
	)
	do("invite the owner",
		chromedp.Navigate(console("/t/acme/staff")),
		chromedp.SetValue(`#invite-email`, "owner@acme.test"),
		chromedp.SetValue(`#invite-role`, "owner"),
		chromedp.Click(`[data-testid="invite-form"] button`),
		chromedp.WaitVisible(`[data-testid="flash"]`),
		chromedp.Click(`[data-testid="logout"]`),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
	)

	msg := env.Mail.WaitFor(t, "owner@acme.test", 15*time.Second)
	link := regexp.MustCompile(`http://console\.localhost\S*/invite\?token=[A-Za-z0-9_\-]+`).FindString(msg.Text)
	u, err := url.Parse(link)
	if link == "" || err != nil {
		t.Fatalf("no invitation link in:\n%s", msg.Text)
	}
	do("accept the invitation",
		chromedp.Navigate(console(u.RequestURI())),
		chromedp.SetValue(`#password`, "owner password for acme"),
		chromedp.Click(`[data-testid="invite-form"] button`),
		chromedp.WaitVisible(`[data-testid="notice"]`),
	)
	signIn("owner@acme.test", "owner password for acme")

	// The editor previews unsaved values: colour picker and display name.
	do("edit the theme",
		chromedp.Navigate(console("/t/acme/theme")),
		chromedp.WaitVisible(`[data-testid="theme-form"]`),
		chromedp.SetValue(`#primary_color`, "#0a7c59"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('primary_color').dispatchEvent(new Event('input', {bubbles: true}))`),
		chromedp.SendKeys(`#display_name`, "Acme Roasters"),
	)
	frame := `document.querySelector('[data-testid="preview-desktop"]')`
	poll("the preview shows the unsaved colour and name", `(() => {
		const f = `+frame+`;
		if (!f || !f.src.includes('primary_color=%230a7c59') || !f.src.includes('Acme+Roasters')) return false;
		const d = f.contentDocument;
		if (!d || d.readyState !== 'complete' || !d.querySelector('[data-testid="brand-name"]')) return false;
		return d.querySelector('[data-testid="brand-name"]').textContent.trim() === 'Acme Roasters' &&
			getComputedStyle(d.documentElement).getPropertyValue('--gh-primary').trim() === '#0a7c59';
	})()`)
	do("save", chromedp.Click(`[data-testid="theme-save"]`), chromedp.WaitVisible(`[data-testid="flash"]`))

	// The tenant's own host serves the saved theme at once.
	do("open the login page", chromedp.Navigate(srv.URL("acme.localhost", "/login")), chromedp.WaitVisible(`[data-testid="brand-name"]`))
	name, err := chromedp.Run(ctx, chromedp.Text(`[data-testid="brand-name"]`))
	if err != nil || strings.TrimSpace(name) != "Acme Roasters" {
		t.Fatalf("brand name %q, %v", name, err)
	}
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.btn-primary')).backgroundColor`))
	if err != nil || bg != "rgb(10, 124, 89)" {
		t.Fatalf("primary button background %q, %v", bg, err)
	}

	do("add a required select field",
		chromedp.Navigate(console("/t/acme/fields")),
		chromedp.SetValue(`#f-label`, "Favourite drink"),
		chromedp.SetValue(`#f-key`, "drink"),
		chromedp.SetValue(`#f-type`, "select"),
		chromedp.SetValue(`#f-capture`, "required"),
		chromedp.SetValue(`#f-options`, "espresso | Espresso\ntea | Tea"),
		chromedp.Click(`[data-testid="field-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="flash"]`),
		chromedp.Navigate(srv.URL("acme.localhost", "/login?mode=signup")),
		chromedp.WaitVisible(`select[name="drink"]`),
	)
	required, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('select[name="drink"]').required && document.body.textContent.includes('Favourite drink')`))
	if err != nil || !required {
		t.Fatalf("the sign-up form's drink field is not required: %v", err)
	}

	// Reordering with htmx swaps the list in place: no page load.
	do("add a second field and move it up",
		chromedp.Navigate(console("/t/acme/fields")),
		chromedp.SetValue(`#f-label`, "Postcode"),
		chromedp.SetValue(`#f-key`, "postcode"),
		chromedp.Click(`[data-testid="field-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="move-up-postcode"]`),
		chromedp.Evaluate[chromedp.Void](`window.__samePage = true`),
		chromedp.Click(`[data-testid="move-up-postcode"]`),
	)
	poll("the list shows the new order without a page load", `window.__samePage === true &&
		[...document.querySelectorAll('[data-testid="fields"] li')].map(li => li.dataset.key).join(',') === 'postcode,drink'`)

	// The console is usable at 1024 px and on a tablet: no sideways scroll.
	for _, w := range []int64{1024, 768} {
		do("resize", chromedp.EmulateViewport(w, 900), chromedp.Navigate(console("/t/acme/theme")), chromedp.WaitVisible(`[data-testid="theme-form"]`))
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
		if err != nil || overflow {
			t.Errorf("the theme editor scrolls sideways at %dpx (%v)", w, err)
		}
	}
}
