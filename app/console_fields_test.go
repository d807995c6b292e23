package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
)

// fieldOrder reads the keys of the fields list in order.
func fieldOrder(body string) []string {
	var keys []string
	for _, m := range regexp.MustCompile(`<li data-key="([a-z0-9_]+)"`).FindAllStringSubmatch(body, -1) {
		keys = append(keys, m[1])
	}
	return keys
}

// TestConsoleFields: add, edit, reorder (with and without htmx) and remove
// registration fields; keys cannot change; the hosted sign-up form shows
// the result at once.
func TestConsoleFields(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	srv := env.Serve()
	b := signedIn(t, srv, "admin@acme.test")

	if r := b.get("/t/acme/fields"); r.StatusCode != 200 || !strings.Contains(r.Body, `data-testid="empty"`) {
		t.Fatalf("empty editor: %d", r.StatusCode)
	}
	add := func(v url.Values) resp { return b.post("/t/acme/fields", v) }

	t.Run("add", func(t *testing.T) {
		if r := add(url.Values{"key": {"first_name"}, "label": {"First name"}, "type": {"text"}, "capture": {"required"}, "max_length": {"60"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("text: %d\n%s", r.StatusCode, r.Body)
		}
		r := add(url.Values{"key": {"drink"}, "label": {"Favourite drink"}, "type": {"select"}, "capture": {"required"},
			"options": {"espresso | Espresso\nflat_white | Flat white\nTea"}, "help_text": {"So we can suggest one"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("select: %d\n%s", r.StatusCode, r.Body)
		}
		add(url.Values{"key": {"birthday"}, "label": {"Birthday"}, "type": {"date"}, "capture": {"later"}})
		page := b.get("/t/acme/fields")
		if got := strings.Join(fieldOrder(page.Body), ","); got != "first_name,drink,birthday" {
			t.Fatalf("order %s", got)
		}
	})
	t.Run("bad input names the field", func(t *testing.T) {
		for field, v := range map[string]url.Values{
			"key":        {"key": {"Bad Key"}, "label": {"X"}, "type": {"text"}, "capture": {"optional"}},
			"label":      {"key": {"nolabel"}, "label": {""}, "type": {"text"}, "capture": {"optional"}},
			"options":    {"key": {"pick"}, "label": {"Pick"}, "type": {"select"}, "capture": {"optional"}},
			"validation": {"key": {"age"}, "label": {"Age"}, "type": {"number"}, "capture": {"optional"}, "min": {"ten"}},
		} {
			r := add(v)
			if r.StatusCode != 422 || !strings.Contains(r.Body, `id="f-`+field+`-error"`) {
				t.Errorf("%s: status %d, no error under the field", field, r.StatusCode)
			}
		}
		if r := add(url.Values{"key": {"drink"}, "label": {"Again"}, "type": {"text"}, "capture": {"optional"}}); r.StatusCode != 409 || !strings.Contains(r.Body, "already exists") {
			t.Errorf("duplicate key: %d", r.StatusCode)
		}
		if r := add(url.Values{"key": {"password"}, "label": {"P"}, "type": {"text"}, "capture": {"optional"}}); r.StatusCode != 422 || !strings.Contains(r.Body, "reserved") {
			t.Errorf("reserved key: %d", r.StatusCode)
		}
	})
	t.Run("edit keeps the key", func(t *testing.T) {
		page := b.get("/t/acme/fields/drink")
		if page.StatusCode != 200 || !strings.Contains(page.Body, "flat_white | Flat white") || !strings.Contains(page.Body, "readonly") {
			t.Fatalf("edit page: %d", page.StatusCode)
		}
		r := b.post("/t/acme/fields/drink", url.Values{"key": {"renamed"}, "label": {"Drink"}, "type": {"select"}, "capture": {"optional"}, "options": {"tea | Tea"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.StatusCode, r.Body)
		}
		if got := strings.Join(fieldOrder(b.get("/t/acme/fields").Body), ","); got != "first_name,drink,birthday" {
			t.Fatalf("after edit: %s", got)
		}
		if r := b.get("/t/acme/fields/nope"); r.StatusCode != 404 {
			t.Fatalf("unknown field: %d", r.StatusCode)
		}
	})
	t.Run("reorder without and with htmx", func(t *testing.T) {
		if r := b.post("/t/acme/fields/birthday/move", url.Values{"dir": {"up"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("move: %d", r.StatusCode)
		}
		if got := strings.Join(fieldOrder(b.get("/t/acme/fields").Body), ","); got != "first_name,birthday,drink" {
			t.Fatalf("after move up: %s", got)
		}
		frag := b.postOn("/t/acme/fields/first_name/move", url.Values{"dir": {"down"}}, true)
		if frag.StatusCode != 200 || strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `hx-swap-oob="true"`) {
			t.Fatalf("htmx move: %d\n%s", frag.StatusCode, frag.Body)
		}
		if got := strings.Join(fieldOrder(frag.Body), ","); got != "birthday,first_name,drink" {
			t.Fatalf("fragment order %s", got)
		}
		if r := b.post("/t/acme/fields/birthday/move", url.Values{"dir": {"sideways"}}); r.StatusCode != 422 {
			t.Fatalf("bad dir: %d", r.StatusCode)
		}
		// Moving the first field up changes nothing.
		b.post("/t/acme/fields/birthday/move", url.Values{"dir": {"up"}})
		if got := strings.Join(fieldOrder(b.get("/t/acme/fields").Body), ","); got != "birthday,first_name,drink" {
			t.Fatalf("after a no-op move: %s", got)
		}
	})
	t.Run("the hosted sign-up form shows required select fields", func(t *testing.T) {
		b.post("/t/acme/fields/drink", url.Values{"label": {"Favourite drink"}, "type": {"select"}, "capture": {"required"}, "options": {"tea | Tea\ncoffee | Coffee"}})
		apptest.Eventually(t, time.Second, func() error {
			_, page := srv.Get(t, "acme.localhost", "/login?mode=signup")
			if !strings.Contains(page, `name="drink"`) || !strings.Contains(page, "Favourite drink") || strings.Contains(page, `name="birthday"`) {
				return fmt.Errorf("sign-up form lacks the field")
			}
			return nil
		})
		preview := b.get("/t/acme/theme/preview/login?mode=signup")
		if !strings.Contains(preview.Body, `name="drink"`) || !strings.Contains(preview.Body, "Coffee") {
			t.Fatal("the console's sign-up preview lacks the field")
		}
	})
	t.Run("remove asks, then removes", func(t *testing.T) {
		if r := b.post("/t/acme/fields/birthday/remove", nil); !strings.Contains(r.Body, `data-testid="confirm"`) {
			t.Fatal("remove does not ask")
		}
		b.post("/t/acme/fields/birthday/remove", url.Values{"confirm": {"yes"}})
		if got := strings.Join(fieldOrder(b.get("/t/acme/fields").Body), ","); got != "first_name,drink" {
			t.Fatalf("after remove: %s", got)
		}
	})
	t.Run("audited", func(t *testing.T) {
		got := strings.Join(auditActions(t, env, "acme"), ",")
		want := "staff.created,field.added,field.added,field.added,field.updated,field.moved,field.moved,field.updated,field.removed"
		if got != want {
			t.Fatalf("actions %s\nwant    %s", got, want)
		}
	})
}
