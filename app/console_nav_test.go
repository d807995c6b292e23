package app_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// switchItems returns the tenant names the header's switcher list shows.
func switchItems(body string) []string { return switchItemsOf(body, "switch-results") }

// switchItemsOf returns the tenant names of the switcher list with id.
func switchItemsOf(body, id string) []string {
	list := regexp.MustCompile(`(?s)<div id="` + id + `".*?</div>`).FindString(body)
	var out []string
	for _, m := range regexp.MustCompile(`<span class="cx-switch-name">([^<]*)</span>`).FindAllStringSubmatch(list, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// TestConsoleTenantSwitcher: the header's switcher searches the tenants
// the viewer may open (all of them for a platform admin), lists a few and
// says how many more match; a staff member of other tenants never sees
// bravo's name, however they search. A platform admin's home is the
// tenants page; someone in one tenant goes straight to it.
func TestConsoleTenantSwitcher(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	svc := env.Tenants()
	if _, err := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Acme Coffee"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "Bravo Secret Tea"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 60; i++ {
		if _, err := svc.Create(ctx, tenants.NewTenant{Slug: fmt.Sprintf("shop-%02d", i), Name: fmt.Sprintf("Shop %02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	mustStaff(t, env, "root@example.com", "platform-admin", "")
	mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
	mustStaff(t, env, "multi@example.com", "support", "acme")
	for i := 1; i <= 15; i++ {
		if r := runStaff(t, env, "", "grant", "--email", "multi@example.com", "--role", "admin", "--tenant", fmt.Sprintf("shop-%02d", i)); r.Code != 0 {
			t.Fatalf("grant: %s", r.Stderr)
		}
	}
	srv := env.Serve()
	multi := signedIn(t, srv, "multi@example.com")
	root := signedIn(t, srv, "root@example.com")

	t.Run("header lists a few, and how many more", func(t *testing.T) {
		r := multi.get("/t/acme/customers")
		if r.StatusCode != 200 || !strings.Contains(r.Body, `data-testid="tenant-switcher"`) || !strings.Contains(r.Body, `action="/switch"`) {
			t.Fatalf("%d: no switcher with a search", r.StatusCode)
		}
		got := switchItems(r.Body)
		if len(got) != 8 || got[0] != "Acme Coffee" || got[1] != "Shop 01" {
			t.Fatalf("switcher lists %q", got)
		}
		if !strings.Contains(r.Body, "8 more — refine your search") {
			t.Fatal("the switcher does not say how many more tenants match")
		}
		if !strings.Contains(r.Body, `aria-current="true"`) {
			t.Fatal("the current tenant is not marked")
		}
	})
	t.Run("search narrows, htmx gets the list alone", func(t *testing.T) {
		r := multi.getOn(consoleHost, "/switch?q="+url.QueryEscape("shop 1"), true)
		got := switchItems(r.Body)
		if r.StatusCode != 200 || strings.Join(got, ",") != "Shop 10,Shop 11,Shop 12,Shop 13,Shop 14,Shop 15" {
			t.Fatalf("%d: shop 1 finds %q", r.StatusCode, got)
		}
		if strings.Contains(r.Body, "staff-email") || strings.Contains(r.Body, "more — refine") {
			t.Fatal("the fragment carries the page chrome or a 'more' note")
		}
		// Without JavaScript the form lands on a page with the results.
		page := multi.get("/switch?q=SHOP")
		if page.StatusCode != 200 || !strings.Contains(page.Body, "Switch tenant") || len(switchItemsOf(page.Body, "switch-page-results")) != 15 {
			t.Fatalf("%d: the page lists %q", page.StatusCode, switchItemsOf(page.Body, "switch-page-results"))
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		for _, q := range []string{"bravo", "Secret", "tea", "b", "%", "_", ""} {
			for _, htmx := range []bool{true, false} {
				r := multi.getOn(consoleHost, "/switch?q="+url.QueryEscape(q), htmx)
				// The query is echoed ("No tenant's name contains …"); the
				// tenant's name and link never are.
				if r.StatusCode != 200 || strings.Contains(r.Body, "Secret Tea") || strings.Contains(r.Body, `/t/bravo"`) {
					t.Fatalf("q=%q htmx=%v: %d, bravo shows", q, htmx, r.StatusCode)
				}
			}
		}
		if r := multi.get("/"); r.StatusCode != 200 || strings.Contains(r.Body, "Secret Tea") || !strings.Contains(r.Body, "Shop 15") {
			t.Fatalf("home: %d", r.StatusCode)
		}
		if r := multi.get("/?q=bravo"); strings.Contains(r.Body, "Secret Tea") || !strings.Contains(r.Body, `data-testid="empty"`) {
			t.Fatal("home's search finds bravo for a stranger")
		}
	})
	t.Run("platform admin searches every tenant", func(t *testing.T) {
		r := root.getOn(consoleHost, "/switch?q=secret", true)
		if got := switchItems(r.Body); len(got) != 1 || got[0] != "Bravo Secret Tea" {
			t.Fatalf("root finds %q", got)
		}
		r = root.getOn(consoleHost, "/switch?q=shop", true)
		if len(switchItems(r.Body)) != 8 || !strings.Contains(r.Body, "52 more — refine your search") || !strings.Contains(r.Body, `href="/tenants"`) {
			t.Fatalf("root's shop search:\n%s", r.Body)
		}
	})
	t.Run("home", func(t *testing.T) {
		if r := root.get("/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/tenants" {
			t.Fatalf("platform admin's home: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		owner := signedIn(t, srv, "owner@bravo.test")
		if r := owner.get("/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/t/bravo" {
			t.Fatalf("one tenant's home: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
	})
	t.Run("signed out", func(t *testing.T) {
		if r := newBrowser(t, srv).get("/switch?q=bravo"); r.StatusCode != http.StatusSeeOther || strings.Contains(r.Body, "Bravo") {
			t.Fatalf("anonymous switch: %d", r.StatusCode)
		}
	})
}

// customerEmails returns the emails of a customers table, in order.
func customerEmails(body string) []string {
	table := regexp.MustCompile(`(?s)<table class="cx-table" data-testid="customers">.*?</table>`).FindString(body)
	var out []string
	for _, m := range regexp.MustCompile(`/customers/[0-9a-f-]+">([^<]+)</a>`).FindAllStringSubmatch(table, -1) {
		out = append(out, strings.TrimSuffix(m[1], "@example.com"))
	}
	return out
}

// linkOf returns the href of the element with data-testid id, unescaped.
func linkOf(body, id string) string {
	m := regexp.MustCompile(`href="([^"]+)"[^>]*data-testid="` + id + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestConsoleCustomersList: the customers list shows the total, pages
// forward and back in each order with the search, order and size kept,
// and never lists or counts another tenant's customers.
func TestConsoleCustomersList(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme", "bravo")
	mustStaff(t, b.env, "support@acme.test", "support", "acme")
	g := b.env.DB().Gorm
	ids := map[string]uuid.UUID{}
	for _, slug := range []string{"acme", "bravo"} {
		var tid string
		g.Raw("SELECT CAST(id AS TEXT) FROM tenants WHERE slug = ?", slug).Scan(&tid)
		ids[slug] = uuid.MustParse(tid)
	}
	base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	n := 0
	insert := func(tenant uuid.UUID, email string, created time.Time, login *time.Time) {
		// Ids in insertion order, so ties (never signed in) order as made.
		n++
		id := uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
		err := g.Exec(`INSERT INTO customers (id, tenant_id, email, email_verified, status, profile, created_at, updated_at, last_login_at)
			VALUES (?, ?, ?, ?, 'active', '{}', ?, ?, ?)`, id, tenant, email, true, created, created, login).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	// c01..c30 signed up a day apart; the odd ones signed in, c01 last.
	for i := 1; i <= 30; i++ {
		var login *time.Time
		if i%2 == 1 {
			at := base.AddDate(0, 2, -i)
			login = &at
		}
		insert(ids["acme"], fmt.Sprintf("c%02d@example.com", i), base.AddDate(0, 0, i), login)
	}
	for i := 1; i <= 5; i++ {
		at := base.AddDate(0, 3, 0)
		insert(ids["bravo"], fmt.Sprintf("c%02d-bravo@bravo.example", i), base.AddDate(0, 0, 40+i), &at)
	}
	support := signedIn(t, b.srv, "support@acme.test")
	list := func(t *testing.T, path string) resp {
		t.Helper()
		r := support.get(path)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d", path, r.StatusCode)
		}
		if strings.Contains(r.Body, "bravo.example") {
			t.Fatalf("%s lists bravo's customers", path)
		}
		return r
	}
	total := func(body string) string {
		m := regexp.MustCompile(`data-testid="customers-total"[^>]*>([^<]*)<`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	seq := func(from, to int) string {
		var out []string
		for i := from; ; {
			out = append(out, fmt.Sprintf("c%02d", i))
			if i == to {
				break
			}
			if from < to {
				i++
			} else {
				i--
			}
		}
		return strings.Join(out, " ")
	}

	t.Run("total and pages, A to Z", func(t *testing.T) {
		r := list(t, "/t/acme/customers")
		if got := total(r.Body); got != "30 customers" {
			t.Fatalf("total %q", got)
		}
		if got := strings.Join(customerEmails(r.Body), " "); got != seq(1, 25) {
			t.Fatalf("page 1: %s", got)
		}
		if linkOf(r.Body, "customers-prev") != "" {
			t.Fatal("page 1 offers a previous page")
		}
		next := list(t, linkOf(r.Body, "customers-next"))
		if got := strings.Join(customerEmails(next.Body), " "); got != seq(26, 30) || total(next.Body) != "30 customers" {
			t.Fatalf("page 2: %s (%s)", got, total(next.Body))
		}
		back := list(t, linkOf(next.Body, "customers-prev"))
		if got := strings.Join(customerEmails(back.Body), " "); got != seq(1, 25) || linkOf(back.Body, "customers-prev") != "" {
			t.Fatalf("back to page 1: %s", got)
		}
	})
	t.Run("sorts, with the order and size kept across pages", func(t *testing.T) {
		for _, tc := range []struct{ sort, page1, page2 string }{
			{"newest", seq(30, 21), seq(20, 11)},
			{"oldest", seq(1, 10), seq(11, 20)},
			// The odd ones signed in, c01 most recently; then the rest.
			{"recent", "c01 c03 c05 c07 c09 c11 c13 c15 c17 c19", "c21 c23 c25 c27 c29 c30 c28 c26 c24 c22"},
			{"stale", "c02 c04 c06 c08 c10 c12 c14 c16 c18 c20", "c22 c24 c26 c28 c30 c29 c27 c25 c23 c21"},
		} {
			r := list(t, "/t/acme/customers?size=10&sort="+tc.sort)
			// Size 10 is not offered: it is refused with a message.
			if !strings.Contains(r.Body, "Page size: choose 25, 50 or 100.") {
				t.Fatalf("%s: size 10 accepted", tc.sort)
			}
			r = list(t, "/t/acme/customers?size=50&sort="+tc.sort)
			if n := len(customerEmails(r.Body)); n != 30 || linkOf(r.Body, "customers-next") != "" {
				t.Fatalf("%s size 50: %d rows", tc.sort, n)
			}
			// Pages of 25 in this order, forward and back.
			r = list(t, "/t/acme/customers?sort="+tc.sort)
			all := append(strings.Fields(tc.page1), strings.Fields(tc.page2)...)
			if got := customerEmails(r.Body); strings.Join(got[:20], " ") != strings.Join(all, " ") {
				t.Fatalf("%s: %v", tc.sort, got)
			}
			next := linkOf(r.Body, "customers-next")
			if !strings.Contains(next, "sort="+tc.sort) {
				t.Fatalf("%s: the next link %q drops the order", tc.sort, next)
			}
			p2 := list(t, next)
			if len(customerEmails(p2.Body)) != 5 {
				t.Fatalf("%s page 2: %v", tc.sort, customerEmails(p2.Body))
			}
			p1 := list(t, linkOf(p2.Body, "customers-prev"))
			if got := customerEmails(p1.Body); strings.Join(got[:20], " ") != strings.Join(all, " ") {
				t.Fatalf("%s back: %v", tc.sort, got)
			}
		}
		r := list(t, "/t/acme/customers?sort=newest")
		if !strings.Contains(r.Body, `aria-sort="descending"`) || !strings.Contains(linkOf(r.Body, "sort-created"), "sort=oldest") {
			t.Fatal("the sign-up column does not show its order or flip it")
		}
	})
	t.Run("search with an order and a size", func(t *testing.T) {
		r := list(t, "/t/acme/customers?q=c0&sort=newest&size=25")
		if got := strings.Join(customerEmails(r.Body), " "); got != seq(9, 1) {
			t.Fatalf("c0 newest: %s", got)
		}
		if got := total(r.Body); got != "9 customers match “c0”" {
			t.Fatalf("total %q", got)
		}
		r = list(t, "/t/acme/customers?q=c&sort=oldest&size=50")
		if n := len(customerEmails(r.Body)); n != 30 || total(r.Body) != "30 customers match “c”" {
			t.Fatalf("q=c: %d rows, %s", n, total(r.Body))
		}
		r = list(t, "/t/acme/customers?q=c&sort=recent")
		next := linkOf(r.Body, "customers-next")
		if !strings.Contains(next, "q=c") || !strings.Contains(next, "sort=recent") {
			t.Fatalf("the next link %q drops the search or the order", next)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		r := list(t, "/t/acme/customers?q="+url.QueryEscape("c01-bravo"))
		if !strings.Contains(r.Body, `data-testid="customers-empty"`) || total(r.Body) != "0 customers match “c01-bravo”" {
			t.Fatalf("acme finds bravo's customer: %s", total(r.Body))
		}
		if r := support.get("/t/bravo/customers"); r.StatusCode != http.StatusNotFound {
			t.Fatalf("acme's support opens bravo's list: %d", r.StatusCode)
		}
	})
	t.Run("a stale link starts again", func(t *testing.T) {
		r := list(t, "/t/acme/customers?sort=oldest")
		stale := strings.Replace(linkOf(r.Body, "customers-next"), "sort=oldest", "sort=newest", 1)
		r = list(t, stale)
		if !strings.Contains(r.Body, "That page link is out of date") || strings.Join(customerEmails(r.Body)[:3], " ") != "c30 c29 c28" {
			t.Fatalf("stale link: %v", customerEmails(r.Body))
		}
		r = list(t, "/t/acme/customers?sort=sideways")
		if !strings.Contains(r.Body, "Sort: “sideways” is not an order of this list.") {
			t.Fatal("an unknown order is not named")
		}
	})
	t.Run("htmx gets the results alone", func(t *testing.T) {
		r := support.getOn(consoleHost, "/t/acme/customers?sort=newest", true)
		if r.StatusCode != 200 || strings.Contains(r.Body, "staff-email") || !strings.Contains(r.Body, `id="customer-results"`) {
			t.Fatalf("%d fragment", r.StatusCode)
		}
	})
}

// TestConsoleEmptyStates: on a fresh tenant every console table that can
// be empty says so, and what to do.
func TestConsoleEmptyStates(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "fresh", "Fresh Start")
	mustStaff(t, env, "root@example.com", "platform-admin", "")
	srv := env.Serve()
	root := signedIn(t, srv, "root@example.com")
	for _, tc := range []struct{ path, text string }{
		{"/t/fresh/staff", "No staff yet."},
		{"/t/fresh/customers", "No customers yet."},
		{"/t/fresh/apps", "No apps yet."},
		{"/t/fresh/imports", "No imports yet."},
		{"/t/fresh/webhooks", "No endpoints yet."},
		{"/t/fresh/social", "No social sign-in is set up yet."},
		{"/t/fresh/audit", ""}, // its wording belongs to the audit page
		{"/tenants/fresh", "No custom domains."},
	} {
		r := root.get(tc.path)
		if r.StatusCode != 200 || !strings.Contains(r.Body, `data-testid="empty"`) || !strings.Contains(html.UnescapeString(r.Body), tc.text) {
			t.Errorf("%s: %d, no empty state %q", tc.path, r.StatusCode, tc.text)
		}
	}
}
