package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestConsoleEmailTexts: an admin words acme's verify and reset mails on
// the emails page, previews them in acme's theme without saving, saves
// them, and the real mails, through SMTP, carry the new subject and intro
// (escaped, one paragraph per line); bravo's mails never do. Bad text is
// refused with the field named; reset to default brings the default back;
// every change is audited; another tenant's staff cannot reach the page.
func TestConsoleEmailTexts(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme", "bravo")
	mustStaff(t, b.env, "owner@acme.test", "owner", "acme")
	mustStaff(t, b.env, "owner@bravo.test", "owner", "bravo")
	admin := signedIn(t, b.srv, "owner@acme.test")
	if r := admin.post("/t/acme/theme", themeValues("#0a7c59", "Acme Roasters")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("theme: %d", r.StatusCode)
	}

	list := admin.get("/t/acme/emails")
	if list.StatusCode != 200 || !strings.Contains(list.Body, `href="/t/acme/emails/verify"`) || !strings.Contains(list.Body, "Confirm your email for Acme Roasters") ||
		!strings.Contains(list.Body, `href="/t/acme/emails"`) {
		t.Fatalf("emails list: %d\n%s", list.StatusCode, list.Body)
	}

	// Validation: the field is named, nothing is saved.
	for _, tc := range []struct{ field, subject, intro, want string }{
		{"subject", "Hi {name}", "", "{name} is not a placeholder"},
		{"intro", "", "Welcome <b>friend</b>", "must be plain text"},
		{"intro", "", strings.Repeat("x", 1001), "at most 1000"},
		{"subject", strings.Repeat("s", 151), "", "at most 150"},
		{"intro", "", "Hello {brand", "does not close a placeholder"},
	} {
		r := admin.post("/t/acme/emails/verify", url.Values{"subject": {tc.subject}, "intro": {tc.intro}, "action": {"save"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="mail-`+tc.field+`-error"`) || !strings.Contains(r.Body, tc.want) {
			t.Fatalf("%s %q: %d, want the error %q on %s\n%s", tc.field, tc.subject+tc.intro, r.StatusCode, tc.want, tc.field, r.Body)
		}
	}

	// Preview without saving: the typed text, in the tenant's theme.
	pv := admin.post("/t/acme/emails/verify", url.Values{"subject": {"Welcome to {brand}, {email}"}, "intro": {"Thanks for joining us.\nOne more step."}, "action": {"preview"}})
	if pv.StatusCode != 200 || !strings.Contains(pv.Body, "Preview (not saved)") || !strings.Contains(pv.Body, "Welcome to Acme Roasters, jane.doe@example.com") ||
		!strings.Contains(pv.Body, "Thanks for joining us.\n\nOne more step.") {
		t.Fatalf("preview: %d\n%s", pv.StatusCode, pv.Body)
	}
	frame := htmlFrameURL(t, pv.Body)
	fr := admin.get(frame)
	if fr.StatusCode != 200 || !strings.Contains(fr.Body, "Thanks for joining us.") || !strings.Contains(fr.Body, "#0a7c59") ||
		!strings.Contains(fr.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'") || strings.Contains(fr.Header.Get("Content-Security-Policy"), "script-src") {
		t.Fatalf("preview frame %s: %d %v\n%s", frame, fr.StatusCode, fr.Header, fr.Body)
	}
	if r := admin.get("/t/acme/emails/verify/preview"); strings.Contains(r.Body, "Thanks for joining us.") {
		t.Fatal("the preview saved the text")
	}

	// Save verify and reset; the mails pick them up.
	for kind, form := range map[string]url.Values{
		"verify": {"subject": {"Welcome to {brand}, {email}"}, "intro": {"Thanks for joining <us> & friends.\nOne more step."}, "action": {"save"}},
		"reset":  {"subject": {"{brand}: a new password"}, "intro": {"Forgot it? It happens to all of us."}, "action": {"save"}},
	} {
		if kind == "verify" {
			form.Set("intro", "Thanks for joining us & friends.\nOne more step.")
		}
		if r := admin.post("/t/acme/emails/"+kind, form); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save %s: %d\n%s", kind, r.StatusCode, r.Body)
		}
	}
	if r := admin.get("/t/acme/emails/verify"); !strings.Contains(r.Body, " mail saved.") || !strings.Contains(r.Body, `data-testid="email-reset"`) {
		t.Fatalf("after save:\n%s", r.Body)
	}

	v := b.srv.Visitor(t)
	signup(v, "acme.localhost", "ann@example.com", "a long enough password", nil)
	m := b.env.Mail.WaitFor(t, "ann@example.com", 30*time.Second)
	if m.Subject != "Welcome to Acme Roasters, ann@example.com" {
		t.Fatalf("verify subject %q", m.Subject)
	}
	if !strings.Contains(m.HTML, ">Thanks for joining us &amp; friends.</p>") || !strings.Contains(m.HTML, ">One more step.</p>") || !strings.Contains(m.HTML, "/verify-email?token=") {
		t.Fatalf("verify HTML lacks the intro as paragraphs:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "Thanks for joining us & friends.\n\nOne more step.") || strings.Contains(m.Text, "Please confirm that this is your email address") {
		t.Fatalf("verify text:\n%s", m.Text)
	}

	v.Post("acme.localhost", "/password/forgot", url.Values{"email": {"ann@example.com"}})
	m = b.env.Mail.WaitFor(t, "ann@example.com", 30*time.Second)
	if m.Subject != "Acme Roasters: a new password" || !strings.Contains(m.HTML, "Forgot it? It happens to all of us.") || !strings.Contains(m.Text, "/password/reset?token=") {
		t.Fatalf("reset mail %q:\n%s", m.Subject, m.Text)
	}

	// Bravo's mails keep bravo's defaults.
	w := b.srv.Visitor(t)
	signup(w, "bravo.localhost", "bob@example.com", "a long enough password", nil)
	m = b.env.Mail.WaitFor(t, "bob@example.com", 30*time.Second)
	if m.Subject != "Confirm your email for Bravo Coffee" || strings.Contains(m.HTML, "Thanks for joining") || strings.Contains(m.Text, "Acme") {
		t.Fatalf("bravo's verify mail %q:\n%s", m.Subject, m.Text)
	}
	w.Post("bravo.localhost", "/password/forgot", url.Values{"email": {"bob@example.com"}})
	if m = b.env.Mail.WaitFor(t, "bob@example.com", 30*time.Second); m.Subject != "Reset your Bravo Coffee password" || strings.Contains(m.HTML, "happens to all of us") {
		t.Fatalf("bravo's reset mail %q:\n%s", m.Subject, m.Text)
	}

	// Bravo's owner cannot see or change acme's mails.
	other := signedIn(t, b.srv, "owner@bravo.test")
	for _, path := range []string{"/t/acme/emails", "/t/acme/emails/verify", "/t/acme/emails/verify/preview"} {
		if r := other.get(path); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusNotFound {
			t.Fatalf("bravo's owner GET %s: %d", path, r.StatusCode)
		}
	}
	if r := other.post("/t/acme/emails/verify/reset", url.Values{}); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusNotFound {
		t.Fatalf("bravo's owner reset acme's mail: %d", r.StatusCode)
	}
	if r := admin.get("/t/acme/emails/nope"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown mail kind: %d", r.StatusCode)
	}

	// Reset to default: the next verify mail is the default again.
	if r := admin.post("/t/acme/emails/verify/reset", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", r.StatusCode, r.Body)
	}
	signup(b.srv.Visitor(t), "acme.localhost", "cat@example.com", "a long enough password", nil)
	if m = b.env.Mail.WaitFor(t, "cat@example.com", 30*time.Second); m.Subject != "Confirm your email for Acme Roasters" || strings.Contains(m.HTML, "Thanks for joining") {
		t.Fatalf("after reset, verify mail %q:\n%s", m.Subject, m.Text)
	}

	tn, err := b.env.Tenants().BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	if err := b.env.DB().Gorm.Table("audit_events").Where("tenant_id = ? AND action LIKE ?", tn.ID, "mail_text.%").Order("at, id").Pluck("action", &actions).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(actions, ",") != "mail_text.updated,mail_text.updated,mail_text.reset" {
		t.Fatalf("audit: %v", actions)
	}
}

// htmlFrameURL returns the src of the preview's HTML frame.
func htmlFrameURL(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `data-testid="preview-html"`)
	j := strings.LastIndex(body[:max(i, 0)], `src="`)
	if i < 0 || j < 0 {
		t.Fatalf("no preview frame:\n%s", body)
	}
	src := body[j+5:]
	src = src[:strings.IndexByte(src, '"')]
	return strings.ReplaceAll(src, "&amp;", "&")
}
