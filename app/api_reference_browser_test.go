package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

// TestBrowserAPIReference opens /api/v1/docs in Chromium under the page's
// own CSP: the vendored Redoc loads the served document and renders its
// operations, with nothing fetched from another origin.
func TestBrowserAPIReference(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	env := appEnv(t)
	srv := env.Serve()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL("acme.localhost", "/api/v1/docs"))); err != nil {
		t.Fatal(err)
	}
	var text string
	apptest.Eventually(t, 20*time.Second, func() error {
		var err error
		text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err == nil && !strings.Contains(text, "Create a customer") {
			return fmt.Errorf("redoc has not rendered the operations yet: %.200s", text)
		}
		return err
	})
	if !strings.Contains(text, "Gatehouse JSON API") {
		t.Fatalf("reference page text: %.300s", text)
	}
}
