package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

// TestBrowserImport drives the console's import pages in Chromium: an
// owner uploads a CSV, keeps the guessed mapping, dry-runs, runs, sees the
// progress bar at 100% and downloads the error report of the bad row.
func TestBrowserImport(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	b := newBrandEnv(t, "acme")
	mustStaff(t, b.env, "owner@acme.test", "owner", "acme")
	csv := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(csv, []byte("email;first_name\nada@example.com;Ada\nnot-an-email;Bad\ngrace@example.com;Grace\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	do(
		chromedp.Navigate(b.srv.URL("console.localhost", "/login")),
		chromedp.SendKeys(`#email`, "owner@acme.test"),
		chromedp.SendKeys(`#password`, staffPassword),
		chromedp.Click(`form[data-testid="login-form"] button[type="submit"]`),
		chromedp.WaitVisible(`nav`),
		chromedp.Navigate(b.srv.URL("console.localhost", "/t/acme/imports")),
		chromedp.SetUploadFiles(`#file`, []string{csv}),
		chromedp.Click(`form[data-testid="upload-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="mapping-form"]`),
	)
	if preview := eval(`document.querySelector('[data-testid="preview"]').innerText`); !strings.Contains(preview, "ada@example.com") {
		t.Fatalf("preview: %q", preview)
	}
	do(chromedp.Click(`[data-testid="dry-run"]`), chromedp.WaitVisible(`[data-testid="count-created"]`))
	var n int64
	b.env.DB().Gorm.Raw("SELECT count(*) FROM customers").Scan(&n)
	if n != 0 {
		t.Fatalf("the dry run wrote %d customers", n)
	}
	do(chromedp.Click(`[data-testid="run"]`))
	apptest.Eventually(t, 30*time.Second, func() error {
		b.env.DB().Gorm.Raw("SELECT count(*) FROM customers").Scan(&n)
		if n != 2 {
			return os.ErrNotExist
		}
		return nil
	})
	// The page polls its progress fragment; at the end the bar reads 100.
	apptest.Eventually(t, 30*time.Second, func() error {
		// The page may be reloading itself: an error here is a retry.
		frag, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(location.pathname.replace(/\/$/, '') + '/progress', {headers: {'HX-Request': 'true'}}).then(r => r.text())`, chromedp.EvalAwaitPromise))
		if err != nil {
			return err
		}
		if !strings.Contains(frag, `value="100"`) {
			return os.ErrNotExist
		}
		return nil
	})
	do(chromedp.Reload(), chromedp.WaitVisible(`[data-testid="report-link"]`))
	report := eval(`fetch(document.querySelector('[data-testid="report-link"]').href).then(r => r.text())`)
	if !strings.HasPrefix(report, "line,reason,") || !strings.Contains(report, "not-an-email") || strings.Contains(report, "ada@example.com") {
		t.Fatalf("error report:\n%s", report)
	}
}
