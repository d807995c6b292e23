package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

// TestBrowserSeesDemoLogin proves the harness end to end: a real Chromium
// opens the demo tenant's login page on the real server and reads the
// brand's name, at desktop and at phone width without horizontal scroll.
func TestBrowserSeesDemoLogin(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	env := apptest.New(t)
	for _, k := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_SECRET_KEY", "GATEHOUSE_SMTP_URL"} {
		env.Set(k, "")
	}
	srv := env.Serve("--dev")

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL("demo.localhost", "/login"))); err != nil {
		t.Fatal(err)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(`[data-testid="brand-name"]`))
	if err != nil {
		t.Fatal(err)
	}
	if name != "Demo Coffee Co." {
		t.Fatalf("brand name on the page = %q", name)
	}
	// The theme stylesheet applied: the page font comes from --gh-font.
	font, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).getPropertyValue('--gh-primary').trim()`))
	if err != nil {
		t.Fatal(err)
	}
	if font != "#4f46e5" {
		t.Fatalf("--gh-primary = %q, want the demo theme's #4f46e5", font)
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 667), chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Fatal("the login page scrolls sideways at 375px")
	}
}
