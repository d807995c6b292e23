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

// TestConsoleStaff: an owner invites by email (the mail goes out through
// the worker), the invitee sets a password through the single-use link and
// signs in with the role; the owner changes roles and removes people, but
// never the last owner; everything lands in the audit log, which filters
// and pages.
func TestConsoleStaff(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	srv := env.Serve()
	env.Worker()
	owner := signedIn(t, srv, "owner@acme.test")

	var link string
	t.Run("invite", func(t *testing.T) {
		r := owner.post("/t/acme/staff", url.Values{"email": {"New.Hire@Example.com"}, "role": {"admin"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("invite: %d\n%s", r.StatusCode, r.Body)
		}
		msg := env.Mail.WaitFor(t, "new.hire@example.com", 10*time.Second)
		if !strings.Contains(msg.Subject, "Acme Coffee") || !strings.Contains(msg.Text, "as Admin") {
			t.Fatalf("mail %q\n%s", msg.Subject, msg.Text)
		}
		m := regexp.MustCompile(`http://console\.localhost[^\s"]*/invite\?token=[A-Za-z0-9_\-]+`).FindString(msg.Text)
		if m == "" {
			t.Fatalf("no link in\n%s", msg.Text)
		}
		u, _ := url.Parse(m)
		link = u.RequestURI()
		page := owner.get("/t/acme/staff")
		if !strings.Contains(page.Body, "Invitation sent to new.hire@example.com") || !strings.Contains(page.Body, `data-invite="new.hire@example.com"`) || strings.Contains(page.Body, `data-email="new.hire@example.com"`) {
			t.Fatal("the staff page does not show the invitation as pending")
		}
	})
	t.Run("invite errors are named", func(t *testing.T) {
		if r := owner.post("/t/acme/staff", url.Values{"email": {"nope"}, "role": {"admin"}}); r.StatusCode != 422 || !strings.Contains(r.Body, `id="invite-email-error"`) {
			t.Errorf("bad email: %d", r.StatusCode)
		}
		if r := owner.post("/t/acme/staff", url.Values{"email": {"x@example.com"}, "role": {"platform-admin"}}); r.StatusCode != 422 || !strings.Contains(r.Body, `id="invite-role-error"`) {
			t.Errorf("platform role: %d", r.StatusCode)
		}
		if r := owner.post("/t/acme/staff", url.Values{"email": {"owner@acme.test"}, "role": {"support"}}); r.StatusCode != 409 {
			t.Errorf("a member: %d", r.StatusCode)
		}
	})
	t.Run("the invitee sets a password once", func(t *testing.T) {
		guest := newBrowser(t, srv)
		page := guest.get(link)
		if page.StatusCode != 200 || !strings.Contains(page.Body, "new.hire@example.com") || page.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("invite page: %d %q", page.StatusCode, page.Header.Get("Referrer-Policy"))
		}
		token := strings.TrimPrefix(link, "/invite?token=")
		if r := guest.post("/invite", url.Values{"token": {token}, "password": {"short"}}); r.StatusCode != 422 || !strings.Contains(r.Body, "at least 12 characters") {
			t.Fatalf("weak password: %d", r.StatusCode)
		}
		if r := guest.post("/invite", url.Values{"token": {token}, "password": {staffPassword}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept: %d\n%s", r.StatusCode, r.Body)
		}
		if r := guest.post("/invite", url.Values{"token": {token}, "password": {staffPassword + "2"}}); r.StatusCode != 404 {
			t.Fatalf("second use: %d", r.StatusCode)
		}
		if r := guest.get(link); r.StatusCode != 404 || !strings.Contains(r.Body, "invalid, has been used, or has expired") {
			t.Fatalf("spent link page: %d", r.StatusCode)
		}
		guest.login("new.hire@example.com", staffPassword)
		if r := guest.get("/t/acme/theme"); r.StatusCode != 200 {
			t.Fatalf("the new admin cannot open the theme: %d", r.StatusCode)
		}
		if r := guest.get("/t/acme/staff"); r.StatusCode != 403 {
			t.Fatalf("an admin opens the staff page: %d", r.StatusCode)
		}
	})
	t.Run("existing account joins by the link, signed in", func(t *testing.T) {
		mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
		if r := owner.post("/t/acme/staff", url.Values{"email": {"owner@bravo.test"}, "role": {"support"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("invite existing: %d", r.StatusCode)
		}
		msg := env.Mail.WaitFor(t, "owner@bravo.test", 10*time.Second)
		token := regexp.MustCompile(`/invite\?token=([A-Za-z0-9_\-]+)`).FindStringSubmatch(msg.Text)
		if token == nil {
			t.Fatalf("mail to an existing account has no link:\n%s", msg.Text)
		}
		b := signedIn(t, srv, "owner@bravo.test")
		if r := b.get("/t/acme"); r.StatusCode != 404 {
			t.Fatalf("acme before accepting: %d", r.StatusCode)
		}
		if r := b.post("/invite", url.Values{"token": {token[1]}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/t/acme" {
			t.Fatalf("accept: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		home := b.get("/")
		if !strings.Contains(home.Body, "Acme Coffee") || !strings.Contains(home.Body, "Bravo Tea") || !strings.Contains(home.Body, `data-testid="tenant-switcher"`) {
			t.Fatal("the home page does not offer both tenants")
		}
		if r := b.get("/t/acme"); r.StatusCode != 200 || !strings.Contains(r.Body, "Support") {
			t.Fatalf("acme as support: %d", r.StatusCode)
		}
		if r := b.get("/t/acme/theme"); r.StatusCode != 403 {
			t.Fatalf("support opens the theme: %d", r.StatusCode)
		}
	})
	id := staffID(t, env, "new.hire@example.com")
	t.Run("change role; never the last owner", func(t *testing.T) {
		if r := owner.post("/t/acme/staff/"+id+"/role", url.Values{"role": {"owner"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("promote: %d", r.StatusCode)
		}
		ownerID := staffID(t, env, "owner@acme.test")
		if r := owner.post("/t/acme/staff/"+ownerID+"/role", url.Values{"role": {"support"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("demote self while another owner exists: %d", r.StatusCode)
		}
		// Now support: the staff page is closed to them at once.
		if r := owner.get("/t/acme/staff"); r.StatusCode != 403 {
			t.Fatalf("demoted owner still sees staff: %d", r.StatusCode)
		}
		hire := signedIn(t, srv, "new.hire@example.com")
		if r := hire.post("/t/acme/staff/"+id+"/role", url.Values{"role": {"admin"}}); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "at least one owner") {
			t.Fatalf("demoting the last owner: %d", r.StatusCode)
		}
		if r := hire.post("/t/acme/staff/"+id+"/remove", url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusConflict {
			t.Fatalf("removing the last owner: %d", r.StatusCode)
		}
		bravoOwner := staffID(t, env, "owner@bravo.test")
		if r := hire.post("/t/bravo/staff/"+bravoOwner+"/remove", url.Values{"confirm": {"yes"}}); r.StatusCode != 404 {
			t.Fatalf("acme's owner removes bravo's: %d", r.StatusCode)
		}
		if r := hire.post("/t/acme/staff/"+ownerID+"/remove", nil); !strings.Contains(r.Body, `data-testid="confirm"`) {
			t.Fatal("remove does not ask")
		}
		if r := hire.post("/t/acme/staff/"+ownerID+"/remove", url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove: %d", r.StatusCode)
		}
		if r := owner.get("/t/acme"); r.StatusCode != 404 {
			t.Fatalf("a removed member still opens the tenant: %d", r.StatusCode)
		}
		if r := hire.post("/t/acme/staff/not-a-uuid/role", url.Values{"role": {"admin"}}); r.StatusCode != 404 {
			t.Fatalf("bad id: %d", r.StatusCode)
		}
	})
	t.Run("audit log filters and pages", func(t *testing.T) {
		hire := signedIn(t, srv, "new.hire@example.com")
		for i := range 55 {
			hire.post("/t/acme/fields", url.Values{"key": {fmt.Sprintf("f%02d", i)}, "label": {"F"}, "type": {"text"}, "capture": {"later"}})
		}
		page := hire.get("/t/acme/audit")
		if n := strings.Count(page.Body, `data-testid="activity-item"`); page.StatusCode != 200 || n != 50 {
			t.Fatalf("first page: %d, %d events", page.StatusCode, n)
		}
		next := regexp.MustCompile(`data-testid="audit-next"`).MatchString(page.Body)
		if !next {
			t.Fatal("no link to older events")
		}
		href := regexp.MustCompile(`href="(/t/acme/audit\?before=[^"]+)"`).FindStringSubmatch(page.Body)
		if href == nil {
			t.Fatal("no next href")
		}
		more := hire.getOn(consoleHost, strings.ReplaceAll(href[1], "&amp;", "&"), true)
		if more.StatusCode != 200 || strings.Contains(more.Body, "<html") || !strings.Contains(more.Body, "staff.invited") {
			t.Fatalf("older events fragment: %d\n%s", more.StatusCode, more.Body)
		}
		f := hire.get("/t/acme/audit?action=staff.role.changed")
		if strings.Count(f.Body, "staff.role.changed</code>") != 2 || strings.Contains(f.Body, "field.added</code>") {
			t.Fatal("action filter")
		}
		// The change reads as words, with its before and after, not as JSON.
		if !strings.Contains(f.Body, "Role changed") || !regexp.MustCompile(`<dt>Role</dt><dd><del>admin</del>.*?<ins>(support|owner|admin)</ins>`).MatchString(f.Body) || strings.Contains(f.Body, "&#34;before&#34;") {
			t.Fatalf("no readable before/after in:\n%s", f.Body)
		}
		a := hire.get("/t/acme/audit?actor=" + url.QueryEscape("staff:owner@acme.test"))
		if !strings.Contains(a.Body, "staff.invited</code>") || strings.Contains(a.Body, "field.added</code>") {
			t.Fatal("actor filter")
		}
		today := time.Now().UTC().Format("2006-01-02")
		if r := hire.get("/t/acme/audit?from=" + today + "&to=" + today + "&target=new.hire@example.com"); !strings.Contains(r.Body, "staff.invited</code>") {
			t.Fatal("date and target filter")
		}
		if r := hire.get("/t/acme/audit?from=2001-01-01&to=2001-01-02"); !strings.Contains(r.Body, `data-testid="empty"`) {
			t.Fatal("an empty range shows events")
		}
		if r := hire.get("/t/acme/audit?from=yesterday"); r.StatusCode != 422 || !strings.Contains(r.Body, `id="a-from-error"`) {
			t.Fatalf("bad date: %d", r.StatusCode)
		}
		// Bravo's log has none of acme's events.
		bravo := signedIn(t, srv, "owner@bravo.test")
		if r := bravo.get("/t/bravo/audit"); strings.Contains(r.Body, "new.hire@example.com") {
			t.Fatal("acme's events in bravo's log")
		}
	})
}

// TestConsoleOutbox: in --dev, a platform admin reads the mail the server
// wrote to files.
func TestConsoleOutbox(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_SMTP_URL", "")
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "root@example.com", "platform-admin", "")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	srv := env.Serve("--dev")
	signedIn(t, srv, "owner@acme.test").post("/t/acme/staff", url.Values{"email": {"guest@example.com"}, "role": {"support"}})
	name := outboxName(t, env, srv, "guest@example.com")
	root := signedIn(t, srv, "root@example.com")
	list := root.get("/outbox")
	if list.StatusCode != 200 || !strings.Contains(list.Body, "You are invited to Acme Coffee") {
		t.Fatalf("outbox list: %d", list.StatusCode)
	}
	msg := root.get("/outbox/" + name)
	if msg.StatusCode != 200 || !strings.Contains(msg.Body, "guest@example.com") || !strings.Contains(msg.Body, "/invite?token=") {
		t.Fatalf("message: %d", msg.StatusCode)
	}
	html := root.get("/outbox/" + name + "/html")
	if !strings.Contains(html.Header.Get("Content-Security-Policy"), "sandbox") || !strings.Contains(html.Body, "Accept the invitation") {
		t.Fatalf("html part: %q", html.Header.Get("Content-Security-Policy"))
	}
	for _, bad := range []string{"../secret.key", "nope.eml", "..%2Fsecret.key"} {
		if r := root.get("/outbox/" + bad); r.StatusCode != 404 {
			t.Errorf("%s: %d", bad, r.StatusCode)
		}
	}

	t.Run("not in production", func(t *testing.T) {
		prod := apptest.New(t)
		mustStaff(t, prod, "root@example.com", "platform-admin", "")
		srv := prod.Serve()
		if r := signedIn(t, srv, "root@example.com").get("/outbox"); r.StatusCode != 404 {
			t.Fatalf("outbox without --dev: %d", r.StatusCode)
		}
	})
}
