package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
)

// TestConsoleTwoNodes runs two `serve` processes on one database and one
// Redis: a theme saved through one is served by the other within a second,
// and a staff member removed on one is shut out on the other at once.
func TestConsoleTwoNodes(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	mustStaff(t, env, "support@acme.test", "support", "acme")
	one, two := env.Serve(), env.Serve()
	// Warm node two's caches, so the test proves invalidation, not a miss.
	if r, css := two.Get(t, "acme.localhost", "/theme.css"); r.StatusCode != 200 || strings.Contains(css, "#0a7c59") {
		t.Fatal("warm-up")
	}
	support := signedIn(t, two, "support@acme.test")
	if r := support.get("/t/acme"); r.StatusCode != 200 {
		t.Fatalf("support on node two: %d", r.StatusCode)
	}

	owner := signedIn(t, one, "owner@acme.test")
	if r := owner.post("/t/acme/theme", themeValues("#0a7c59", "Acme Roasters")); r.StatusCode != 303 {
		t.Fatalf("save on node one: %d", r.StatusCode)
	}
	apptest.Eventually(t, time.Second, func() error {
		if _, css := two.Get(t, "acme.localhost", "/theme.css"); !strings.Contains(css, "--gh-primary:#0a7c59") {
			return fmt.Errorf("node two still serves %s", css)
		}
		return nil
	})

	id := staffID(t, env, "support@acme.test")
	if r := owner.post("/t/acme/staff/"+id+"/remove", url.Values{"confirm": {"yes"}}); r.StatusCode != 303 {
		t.Fatalf("remove on node one: %d", r.StatusCode)
	}
	if r := support.get("/t/acme"); r.StatusCode != 404 {
		t.Fatalf("removed support still opens the tenant on node two: %d", r.StatusCode)
	}
}
