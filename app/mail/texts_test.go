package mail_test

import (
	"context"
	"strings"
	"testing"

	"gatehouse/app/mail"
	"gatehouse/tenants"
	"gatehouse/views/email"
)

// TestWordingAndPreview: the defaults are what the templates write when
// given no intro, a tenant's text fills in its placeholders and is
// escaped in HTML, and every kind previews through the real renderer.
func TestWordingAndPreview(t *testing.T) {
	ctx := context.Background()
	b := email.Brand{Name: "Acme & Co", PrimaryColor: "#0a7c59", ButtonTextColor: "#ffffff", SiteURL: "https://acme.example"}
	for _, kind := range tenants.MailKinds {
		def, err := mail.Preview(ctx, kind, tenants.MailText{}, b, "a@example.com")
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		want := strings.ReplaceAll(mail.DefaultIntros[kind], "{brand}", "Acme &amp; Co")
		if !strings.Contains(def.HTML, want) || def.Subject != strings.ReplaceAll(mail.DefaultSubjects[kind], "{brand}", "Acme & Co") {
			t.Errorf("%s: default intro %q or subject %q does not match the template:\n%s", kind, want, def.Subject, def.HTML)
		}
		if mail.KindLabels[kind] == "" {
			t.Errorf("%s has no label", kind)
		}
		own, err := mail.Preview(ctx, kind, tenants.MailText{Subject: "Hi {email} from {brand}", Intro: "Line <one>\n\nLine two"}, b, "a@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if own.Subject != "Hi "+mail.SampleTo+" from Acme & Co" || !strings.Contains(own.HTML, ">Line &lt;one&gt;</p>") || !strings.Contains(own.HTML, ">Line two</p>") ||
			strings.Contains(own.HTML, want) || !strings.Contains(own.Text, "Line <one>\n\nLine two") || !strings.Contains(own.HTML, "#0a7c59") {
			t.Errorf("%s: own wording not applied:\n%s\n%s", kind, own.HTML, own.Text)
		}
	}
}
