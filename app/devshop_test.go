package app_test

import (
	"net/http"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

// TestDevShopOnlyInDev: `serve --dev` serves Demo Coffee Shop on
// shop.localhost with the demo tenant's issuer and the client id of the
// spa app the dev seed registered (once, however many times the server
// starts), and its CSP lets it load gatehouse.js from the demo host only.
// Production `serve` on the same database never serves it.
func TestDevShopOnlyInDev(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	const shop = "shop.localhost"
	config := func(srv *apptest.Server) (string, string) {
		t.Helper()
		issuer, clientID := shopConfig(t, srv)
		if clientID == "" || issuer != srv.URL("demo.localhost", "") {
			t.Fatalf("shop config: issuer %q client %q", issuer, clientID)
		}
		return issuer, clientID
	}
	type row struct {
		ClientID   string
		Type       string
		FirstParty bool
	}
	shopApps := func() []row {
		var rows []row
		env.DB().Gorm.Table("apps").Where("name = ?", "Demo Coffee Shop").Select("client_id, type, first_party").Scan(&rows)
		return rows
	}

	// The app is registered for the shop's origin, port included: the same
	// port twice keeps it, another port replaces it.
	env.Set("GATEHOUSE_ADDR", freeLoopbackAddr(t))
	dev := env.Serve("--dev")
	// The shop's URL is the first line `make run` prints.
	if out := dev.Stdout.String(); !strings.HasPrefix(out, "Demo Coffee Shop") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], dev.URL(shop, "/")) {
		t.Fatalf("the shop's URL is not printed first:\n%s", out)
	}
	resp, body := dev.Get(t, shop, "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Demo Coffee Shop") || !strings.Contains(body, `id="join"`) {
		t.Fatalf("shop home: %d %.200s", resp.StatusCode, body)
	}
	issuer, first := config(dev)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' "+issuer+";") || strings.Contains(csp, "unsafe") {
		t.Fatalf("shop CSP: %q", csp)
	}
	if rows := shopApps(); len(rows) != 1 || rows[0].ClientID != first || rows[0].Type != "spa" || !rows[0].FirstParty {
		t.Fatalf("registered shop apps: %+v", rows)
	}
	if dev.Stop() != 0 {
		t.Fatal("dev server did not stop cleanly")
	}

	again := env.Serve("--dev")
	if _, id := config(again); id != first {
		t.Fatalf("a second dev start registered the shop again: %s, then %s", first, id)
	}
	if rows := shopApps(); len(rows) != 1 {
		t.Fatalf("after two dev starts: %+v", rows)
	}
	if again.Stop() != 0 {
		t.Fatal("dev server did not stop cleanly")
	}
	env.Set("GATEHOUSE_ADDR", "127.0.0.1:0")
	moved := env.Serve("--dev")
	if _, id := config(moved); id == first || len(shopApps()) != 1 {
		t.Fatalf("on another port: client %s, apps %+v", id, shopApps())
	}
	if moved.Stop() != 0 {
		t.Fatal("dev server did not stop cleanly")
	}

	prod := env.Serve()
	for _, path := range []string{"/", "/config.json", "/index.js"} {
		resp, body := prod.Get(t, shop, path)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "Coffee Shop") || strings.Contains(body, first) {
			t.Fatalf("production serves the shop at %s: %d %.200s", path, resp.StatusCode, body)
		}
	}
	if strings.Contains(prod.Stdout.String(), "Coffee Shop") {
		t.Fatal("the production banner names the shop")
	}
}
