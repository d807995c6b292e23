package email

import (
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestLayoutBranding(t *testing.T) {
	b := Brand{
		Name:            "Acme",
		PrimaryColor:    "#123abc",
		ButtonTextColor: "#fefefe",
		LogoURL:         "https://cdn.acme.test/logo.png",
		SiteURL:         "https://acme.test/",
	}
	html := render(t, TestHTML(b))
	for _, want := range []string{
		`bgcolor="#123abc"`,
		`background-color:#123abc;`,
		`<img src="https://cdn.acme.test/logo.png" alt="Acme"`,
		`Sent by <a href="https://acme.test/"`,
		`if you can read it, mail delivery works.`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q:\n%s", want, html)
		}
	}

	b.LogoURL, b.SiteURL = "", ""
	html = render(t, TestHTML(b))
	if strings.Contains(html, "<img") || strings.Contains(html, "<a ") {
		t.Errorf("no logo or site, yet:\n%s", html)
	}
	if !strings.Contains(html, "Sent by Acme") || !strings.Contains(html, "color:#fefefe;") {
		t.Errorf("html lacks the name in the header or footer:\n%s", html)
	}
}

// TestLayoutEscapes proves that nothing in a brand, which tenant staff
// control, can add markup, script or CSS to a mail.
func TestLayoutEscapes(t *testing.T) {
	b := Brand{
		Name:            `<script>alert(1)</script>"><img src=x onerror=alert(2)>`,
		PrimaryColor:    `red;background:url(javascript:alert(3))`,
		ButtonTextColor: `#fff" onmouseover="alert(4)`,
		LogoURL:         `javascript:alert(5)`,
		SiteURL:         `data:text/html,<script>alert(6)</script>`,
	}
	for name, html := range map[string]string{
		"layout": render(t, TestHTML(b)),
		"button": render(t, Button(b, "javascript:alert(7)", b.Name)),
	} {
		for _, bad := range []string{"<script", "<img src=x", `" onmouseover`, "javascript:", "data:", "red;", "&amp;#"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s contains %q:\n%s", name, bad, html)
			}
		}
		if !strings.Contains(html, defaultPrimary) {
			t.Errorf("%s does not fall back to %s:\n%s", name, defaultPrimary, html)
		}
	}
}

func TestButton(t *testing.T) {
	b := Brand{Name: "Acme", PrimaryColor: "#123abc", ButtonTextColor: "#fefefe"}
	html := render(t, Button(b, "https://acme.test/reset?token=a&b=c", "Reset password"))
	for _, want := range []string{
		`href="https://acme.test/reset?token=a&amp;b=c"`,
		`color:#fefefe;`,
		`>Reset password</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("button lacks %q:\n%s", want, html)
		}
	}
}
