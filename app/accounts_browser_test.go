package app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

// TestBrowserAccountJourney drives the demo tenant in Chromium: sign up
// with its required field, verify by the mailed link, log out, log in,
// forget the password, reset it by the mailed link, fail with the old
// password, succeed with the new one, and find the used link dead. Then the
// same at phone size without horizontal scroll.
func TestBrowserAccountJourney(t *testing.T) {
	t.Parallel()
	for _, size := range []struct {
		name   string
		w, h   int64
		mobile bool
	}{{"desktop", 1280, 800, false}, {"phone", 375, 667, true}} {
		t.Run(size.name, func(t *testing.T) {
			ctx := apptest.Browser(t)
			env := apptest.New(t)
			for _, k := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_SECRET_KEY"} {
				env.Set(k, "")
			}
			srv := env.Serve("--dev") // the demo tenant, its fields, the in-process worker; mail to the test SMTP server
			host := "demo.localhost"
			email := "jo-" + size.name + "@example.com"
			run := func(steps ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, steps...); err != nil {
					t.Fatal(err)
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
			location := func() string {
				t.Helper()
				loc, err := chromedp.Run(ctx, chromedp.Location())
				if err != nil {
					t.Fatal(err)
				}
				u, _ := url.Parse(loc)
				return u.Path
			}
			noSideScroll := func(where string) {
				t.Helper()
				if !size.mobile {
					return
				}
				over, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
				if err != nil {
					t.Fatal(err)
				}
				if over {
					t.Fatalf("%s scrolls sideways at %dpx", where, size.w)
				}
			}
			linkFromMail := func(subject string) string {
				t.Helper()
				for {
					m := env.Mail.WaitFor(t, email, 15*time.Second)
					if strings.Contains(m.Subject, subject) {
						u, _ := url.Parse(linkPattern.FindString(m.Text))
						return srv.URL(host, u.RequestURI())
					}
				}
			}

			run(chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(srv.URL(host, "/login")))
			noSideScroll("log in")
			// Switch to sign-up in place (htmx), without leaving /login.
			run(chromedp.Click(`#tab-signup`), chromedp.WaitVisible(`form[data-testid="signup-form"]`))
			if p := location(); p != "/login" {
				t.Fatalf("switching to sign-up left /login for %s", p)
			}
			noSideScroll("sign up")
			run(
				chromedp.SendKeys(`#signup-email`, email),
				chromedp.SendKeys(`#signup-password`, "journey passphrase 1"),
				chromedp.SendKeys(`#field-first_name`, "Jo"),
				chromedp.Click(`form[data-testid="signup-form"] button[type="submit"]`),
				chromedp.WaitVisible(`form[action="/account"]`),
			)
			noSideScroll("account")

			run(chromedp.Navigate(linkFromMail("Confirm your email")), chromedp.WaitVisible(`body`))
			if body := text("main"); !strings.Contains(body, "confirmed") {
				t.Fatalf("verify page: %s", body)
			}

			run(chromedp.Navigate(srv.URL(host, "/account")), chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`form[action="/login"]`))
			logIn := func(password string) {
				t.Helper()
				run(
					chromedp.Navigate(srv.URL(host, "/login")),
					chromedp.SendKeys(`form[action="/login"] input[name="email"]`, email),
					chromedp.SendKeys(`form[action="/login"] input[name="password"]`, password),
				)
				// Click and wait for the page the form leads to, so nothing
				// reads the old page while the new one loads.
				if _, err := chromedp.RunResponse(ctx, chromedp.Click(`form[action="/login"] button[type="submit"]`)); err != nil {
					t.Fatal(err)
				}
			}
			logIn("journey passphrase 1")
			run(chromedp.WaitVisible(`form[action="/account"]`))
			run(chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`form[action="/login"]`))

			run(
				chromedp.Navigate(srv.URL(host, "/password/forgot")),
				chromedp.SendKeys(`input[name="email"]`, email),
				chromedp.Click(`form[action="/password/forgot"] button[type="submit"]`),
				chromedp.WaitNotPresent(`form[action="/password/forgot"]`),
			)
			reset := linkFromMail("Reset your")
			run(
				chromedp.Navigate(reset),
				chromedp.SendKeys(`input[name="password"]`, "journey passphrase 2"),
				chromedp.Click(`form[action="/password/reset"] button[type="submit"]`),
				chromedp.WaitVisible(`form[action="/login"]`),
			)
			noSideScroll("log in after reset")

			logIn("journey passphrase 1")
			if body := text("main"); !strings.Contains(body, "Email or password is incorrect.") {
				t.Fatalf("old password: %s", body)
			}
			logIn("journey passphrase 2")
			run(chromedp.WaitVisible(`form[action="/account"]`))

			run(chromedp.Navigate(reset), chromedp.WaitVisible(`body`))
			if body := text("main"); !strings.Contains(body, "expired or was already used") {
				t.Fatalf("reused reset link: %s", body)
			}
		})
	}
}
