package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/app/apptest"
)

var inviteLink = regexp.MustCompile(`http://console\.localhost[^\s"]*/invite\?token=([A-Za-z0-9_\-]+)`)

// inviteToken waits for the invitation mail to to and returns its token.
func inviteToken(t *testing.T, env *apptest.Env, to string) string {
	t.Helper()
	m := env.Mail.WaitFor(t, to, 10*time.Second)
	s := inviteLink.FindStringSubmatch(m.Text)
	if s == nil {
		t.Fatalf("no invitation link in the mail to %s:\n%s", to, m.Text)
	}
	return s[1]
}

// inviteDetails returns the detail of every staff.invited event of a
// tenant whose target is email.
func inviteDetails(t *testing.T, env *apptest.Env, slug, email string) []string {
	t.Helper()
	d, err := dbOf(env)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []string
	err = d.Gorm.Raw(`SELECT e.detail FROM audit_events e JOIN tenants t ON t.id = e.tenant_id
		WHERE t.slug = ? AND e.action = 'staff.invited' AND e.target = ?`, slug, email).Scan(&out).Error
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStaffInviteNeedsConsent (security review, issue 9 item 8): inviting an
// address that already has a console account grants nothing until its
// owner accepts through the link, signed in as themselves; the inviting
// tenant learns nothing about other tenants (the same answer, page and
// audit detail as for a new address); the link works once and only for
// its own tenant; a pending invitation shows on the staff page and can be
// revoked.
func TestStaffInviteNeedsConsent(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
	srv := env.Serve()
	env.Worker()
	owner := signedIn(t, srv, "owner@acme.test")

	existing := owner.post("/t/acme/staff", url.Values{"email": {"owner@bravo.test"}, "role": {"support"}})
	existingPage := owner.get("/t/acme/staff")
	fresh := owner.post("/t/acme/staff", url.Values{"email": {"fresh@example.com"}, "role": {"support"}})
	freshPage := owner.get("/t/acme/staff")
	existingToken := inviteToken(t, env, "owner@bravo.test")
	freshToken := inviteToken(t, env, "fresh@example.com")

	t.Run("the same answer for an existing and a new address", func(t *testing.T) {
		if existing.StatusCode != http.StatusSeeOther || existing.StatusCode != fresh.StatusCode || existing.Header.Get("Location") != fresh.Header.Get("Location") {
			t.Fatalf("existing %d %q, new %d %q", existing.StatusCode, existing.Header.Get("Location"), fresh.StatusCode, fresh.Header.Get("Location"))
		}
		flash := regexp.MustCompile(`Invitation sent to [^<]*`)
		if a, b := flash.FindString(existingPage.Body), flash.FindString(freshPage.Body); a != "Invitation sent to owner@bravo.test." || b != "Invitation sent to fresh@example.com." {
			t.Fatalf("flashes %q and %q", a, b)
		}
		rowOf := func(body, email string) string {
			return regexp.MustCompile(`(?s)<tr data-invite="` + regexp.QuoteMeta(email) + `".*?</tr>`).FindString(body)
		}
		a := strings.ReplaceAll(rowOf(freshPage.Body, "owner@bravo.test"), "owner@bravo.test", "X")
		b := strings.ReplaceAll(rowOf(freshPage.Body, "fresh@example.com"), "fresh@example.com", "X")
		a = regexp.MustCompile(`/invites/[0-9a-f-]+/`).ReplaceAllString(a, "/invites/ID/")
		b = regexp.MustCompile(`/invites/[0-9a-f-]+/`).ReplaceAllString(b, "/invites/ID/")
		if a == "" || a != b {
			t.Fatalf("the pending rows differ:\n%s\n%s", a, b)
		}
		da, db := inviteDetails(t, env, "acme", "owner@bravo.test"), inviteDetails(t, env, "acme", "fresh@example.com")
		if len(da) != 1 || len(db) != 1 || da[0] != db[0] || strings.Contains(da[0], "new_account") {
			t.Fatalf("audit details differ: %q vs %q", da, db)
		}
	})

	bravoOwner := signedIn(t, srv, "owner@bravo.test")
	t.Run("no role before acceptance", func(t *testing.T) {
		if r := bravoOwner.get("/t/acme"); r.StatusCode != http.StatusNotFound {
			t.Fatalf("an invited existing account opens acme before accepting: %d", r.StatusCode)
		}
		if r := bravoOwner.get("/"); strings.Contains(r.Body, "Acme Coffee") {
			t.Fatal("acme is offered before the invitation is accepted")
		}
		members := regexp.MustCompile(`(?s)<table class="cx-table" data-testid="staff">.*?</table>`).FindString(freshPage.Body)
		if strings.Contains(members, "owner@bravo.test") || strings.Contains(members, "fresh@example.com") {
			t.Fatal("pending invitees are listed as members")
		}
	})

	t.Run("accepting needs the invitee's own sign-in", func(t *testing.T) {
		guest := newBrowser(t, srv)
		page := guest.get("/invite?token=" + existingToken)
		if page.StatusCode != 200 || !strings.Contains(page.Body, `data-testid="invite-signin"`) || strings.Contains(page.Body, `name="password"`) {
			t.Fatalf("invite page for an existing account, signed out: %d\n%s", page.StatusCode, page.Body)
		}
		if r := guest.post("/invite", url.Values{"token": {existingToken}, "password": {staffPassword + " new"}}); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?return_to=") {
			t.Fatalf("signed-out accept: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		// Someone else's session does not spend it.
		if r := owner.post("/invite", url.Values{"token": {existingToken}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("accept as another staff member: %d", r.StatusCode)
		}
		if r := owner.get("/invite?token=" + existingToken); !strings.Contains(r.Body, `data-testid="invite-other"`) {
			t.Fatal("the page does not say the link is for someone else")
		}
		if r := bravoOwner.get("/t/acme"); r.StatusCode != http.StatusNotFound {
			t.Fatalf("role granted without acceptance: %d", r.StatusCode)
		}
		// Signing in through the page's link comes back to it.
		ret := guest.post("/login", url.Values{"email": {"owner@bravo.test"}, "password": {staffPassword}, "return_to": {"/invite?token=" + existingToken}})
		if ret.StatusCode != http.StatusSeeOther || ret.Header.Get("Location") != "/invite?token="+existingToken {
			t.Fatalf("sign-in to accept: %d %q", ret.StatusCode, ret.Header.Get("Location"))
		}
		if r := guest.get("/invite?token=" + existingToken); !strings.Contains(r.Body, `data-testid="invite-accept"`) || !strings.Contains(r.Body, "Acme Coffee") || !strings.Contains(r.Body, "Support") {
			t.Fatalf("signed in as the invitee: %d\n%s", r.StatusCode, r.Body)
		}
		// A tenant named in the form is ignored: the link grants in its own tenant only.
		acc := guest.post("/invite", url.Values{"token": {existingToken}, "tenant": {"bravo"}, "slug": {"bravo"}})
		if acc.StatusCode != http.StatusSeeOther || acc.Header.Get("Location") != "/t/acme" {
			t.Fatalf("accept: %d %q\n%s", acc.StatusCode, acc.Header.Get("Location"), acc.Body)
		}
		if r := guest.get("/t/acme"); r.StatusCode != 200 || !strings.Contains(r.Body, "Support") {
			t.Fatalf("acme after accepting: %d", r.StatusCode)
		}
		if r := guest.get("/t/bravo/staff"); r.StatusCode != 200 {
			t.Fatalf("bravo's owner lost bravo: %d", r.StatusCode)
		}
		if r := guest.post("/invite", url.Values{"token": {existingToken}}); r.StatusCode != http.StatusNotFound {
			t.Fatalf("second use: %d", r.StatusCode)
		}
	})

	t.Run("a new address sets a password, once, and joins only its tenant", func(t *testing.T) {
		guest := newBrowser(t, srv)
		if r := guest.get("/invite?token=" + freshToken); r.StatusCode != 200 || !strings.Contains(r.Body, `name="password"`) {
			t.Fatalf("invite page for a new address: %d", r.StatusCode)
		}
		if r := guest.post("/invite", url.Values{"token": {freshToken}, "password": {staffPassword}, "tenant": {"bravo"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept: %d\n%s", r.StatusCode, r.Body)
		}
		if r := guest.post("/invite", url.Values{"token": {freshToken}, "password": {staffPassword + "2"}}); r.StatusCode != http.StatusNotFound {
			t.Fatalf("second use: %d", r.StatusCode)
		}
		guest.login("fresh@example.com", staffPassword)
		if r := guest.get("/t/acme"); r.StatusCode != 200 {
			t.Fatalf("acme after accepting: %d", r.StatusCode)
		}
		if r := guest.get("/t/bravo"); r.StatusCode != http.StatusNotFound {
			t.Fatalf("acme's link let fresh into bravo: %d", r.StatusCode)
		}
	})

	t.Run("revoke a pending invitation, only in its own tenant", func(t *testing.T) {
		owner.post("/t/acme/staff", url.Values{"email": {"later@example.com"}, "role": {"admin"}})
		token := inviteToken(t, env, "later@example.com")
		id := staffID(t, env, "later@example.com")
		// Bravo's owner gets the answer a random id gets, and changes nothing.
		foreign := bravoOwner.post("/t/bravo/staff/invites/"+id+"/revoke", nil)
		random := bravoOwner.post("/t/bravo/staff/invites/0190f0f0-0000-7000-8000-0000000000ff/revoke", nil)
		if foreign.StatusCode != http.StatusSeeOther || foreign.StatusCode != random.StatusCode || foreign.Header.Get("Location") != "/t/bravo/staff" {
			t.Fatalf("bravo revokes acme's invitation: %d %q, random id %d", foreign.StatusCode, foreign.Header.Get("Location"), random.StatusCode)
		}
		if r := bravoOwner.get("/t/bravo/staff"); strings.Contains(r.Body, "later@example.com") || !strings.Contains(r.Body, "no longer pending") {
			t.Fatal("acme's invitation on bravo's staff page, or no answer to the revoke")
		}
		if r := newBrowser(t, srv).get("/invite?token=" + token); r.StatusCode != 200 {
			t.Fatalf("bravo's revoke spent acme's link: %d", r.StatusCode)
		}
		if r := owner.post("/t/acme/staff/invites/"+id+"/revoke", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d\n%s", r.StatusCode, r.Body)
		}
		if r := owner.get("/t/acme/staff"); strings.Contains(r.Body, `data-invite="later@example.com"`) {
			t.Fatal("a revoked invitation is still listed")
		}
		if r := newBrowser(t, srv).get("/invite?token=" + token); r.StatusCode != http.StatusNotFound {
			t.Fatalf("a revoked link still works: %d", r.StatusCode)
		}
		if r := owner.post("/t/acme/staff/invites/"+id+"/revoke", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke twice: %d", r.StatusCode)
		}
		if r := owner.get("/t/acme/staff"); !strings.Contains(r.Body, "no longer pending") {
			t.Fatal("a second revoke does not say the invitation was no longer pending")
		}
		var n int64
		d, err := dbOf(env)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		d.Gorm.Raw(`SELECT COUNT(*) FROM audit_events e JOIN tenants t ON t.id = e.tenant_id WHERE e.action = 'staff.invite.revoked' AND t.slug = ?`, "bravo").Scan(&n)
		if n != 0 {
			t.Fatalf("%d revocations audited in bravo", n)
		}
	})
}

// TestStaffInviteBrowser: in a real Chromium, someone with a console
// account opens an invitation signed out, signs in from its page, comes
// back to it, accepts, and lands in the tenant with the role.
func TestStaffInviteBrowser(t *testing.T) {
	t.Parallel()
	ctx := apptest.Browser(t)
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
	srv := env.Serve()
	env.Worker()
	if r := signedIn(t, srv, "owner@acme.test").post("/t/acme/staff", url.Values{"email": {"owner@bravo.test"}, "role": {"admin"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d", r.StatusCode)
	}
	token := inviteToken(t, env, "owner@bravo.test")
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do("open the link signed out and sign in from it",
		chromedp.Navigate(srv.URL(consoleHost, "/invite?token="+token)),
		chromedp.WaitVisible(`[data-testid="invite-signin"]`),
		chromedp.Click(`a[href^="/login?return_to="]`),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		chromedp.SetValue(`#email`, "owner@bravo.test"),
		chromedp.SetValue(`#password`, staffPassword),
		chromedp.Click(`[data-testid="login-form"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-testid="invite-accept"]`),
	)
	text, err := chromedp.Run(ctx, chromedp.Text(`main`))
	if err != nil || !strings.Contains(text, "Acme Coffee") || !strings.Contains(text, "Admin") {
		t.Fatalf("the invitation page: %q %v", text, err)
	}
	do("accept", chromedp.Click(`[data-testid="invite-accept"] button`), chromedp.WaitVisible(`[data-testid="staff-email"]`))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`location.pathname === "/t/acme"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("after accepting the browser is at %q: %v", loc, err)
	}
	if r := signedIn(t, srv, "owner@bravo.test").get("/t/acme/theme"); r.StatusCode != 200 {
		t.Fatalf("the new admin opens acme's theme: %d", r.StatusCode)
	}
}
