package email

import (
	"html"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// plain renders a text component as app/mail's RenderText does: unescaped,
// each line trimmed, one final newline. (app/mail imports this package, so
// the test cannot call it.)
func plain(t *testing.T, c templ.Component) string {
	t.Helper()
	lines := strings.Split(html.UnescapeString(render(t, c)), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n")) + "\n"
}

var acme = Brand{Name: "Acme & Co", PrimaryColor: "#0f766e", ButtonTextColor: "#fefefe", SiteURL: "https://acme.test/"}

// accountMail is one mail's two parts and what each must say.
type accountMail struct {
	html, text templ.Component
	link       string   // the URL the button and the text part carry
	button     string   // the button's label
	says       []string // sentences both parts contain (unescaped)
}

func accountMails(b Brand) map[string]accountMail {
	const (
		verify  = "https://acme.test/verify-email?token=v123&x=1"
		reset   = "https://acme.test/password/reset?token=r456&x=1"
		login   = "https://acme.test/login"
		set     = "https://acme.test/password/set?token=s789&x=1"
		forgot  = "https://acme.test/password/forgot"
		changed = "12 March 2026 at 14:05 UTC"
	)
	return map[string]accountMail{
		"verify": {VerifyHTML(b, nil, verify), VerifyText(b, nil, verify), verify, "Confirm your email address",
			[]string{"Confirm your email address", "If you did not create an account with " + b.Name + ", you can ignore this email."}},
		"reset": {ResetHTML(b, nil, reset, 30), ResetText(b, nil, reset, 30), reset, "Reset your password",
			[]string{"Reset your password", "The link works once, for 30 minutes.", "If you did not ask for this, ignore this email"}},
		"social reset": {SocialResetHTML(b, []string{"Google"}, login), SocialResetText(b, []string{"Google"}, login), login, "Go to the login page",
			[]string{"You sign in to " + b.Name + " with Google, so there is no password to reset.", "use the Google button on the login page"}},
		"first password": {FirstPasswordHTML(b, nil, set, 7), FirstPasswordText(b, nil, set, 7), set, "Choose your password",
			[]string{"Your account does not have a password yet", "The link works once, for 7 days.", "If you did not ask for this, you can ignore this email."}},
		"password changed": {PasswordChangedHTML(b, changed, forgot), PasswordChangedText(b, changed, forgot), forgot, "Reset your password",
			[]string{"was changed on " + changed + ".", "If this wasn’t you"}},
		"login attempts": {LoginAttemptsHTML(b, "20", "hour", forgot), LoginAttemptsText(b, "20", "hour", forgot), forgot, "Choose a new password",
			[]string{"There were 20 attempts to sign in to your " + b.Name + " account with a wrong password in the last hour.", "you can still sign in as usual"}},
		"signup exists": {SignupExistsHTML(b, login, forgot), SignupExistsText(b, login, forgot), login, "Log in",
			[]string{"Someone tried to create a " + b.Name + " account with this email address, which already has one.", "Forgotten your password? Reset it here:", forgot}},
	}
}

func TestAccountMails(t *testing.T) {
	for name, m := range accountMails(acme) {
		t.Run(name, func(t *testing.T) {
			h := render(t, m.html)
			escapedLink := strings.ReplaceAll(m.link, "&", "&amp;")
			for _, want := range []string{
				`bgcolor="#0f766e"`,
				`background-color:#0f766e;color:#fefefe;`,
				`<a href="` + escapedLink + `" style="display:inline-block;`,
				`>` + m.button + `</a>`,
				// The link again as text, for clients that drop the button.
				`>` + escapedLink + `</a>`,
			} {
				if !strings.Contains(h, want) {
					t.Errorf("html lacks %q:\n%s", want, h)
				}
			}
			txt := plain(t, m.text)
			if !strings.Contains(txt, m.link) {
				t.Errorf("text lacks the link %s:\n%s", m.link, txt)
			}
			if strings.ContainsAny(txt, "<>") || strings.Contains(txt, "&amp;") {
				t.Errorf("text part has markup or entities:\n%s", txt)
			}
			if !strings.HasSuffix(txt, "Sent by Acme & Co (https://acme.test/)\n") {
				t.Errorf("text part lacks the footer:\n%s", txt)
			}
			plainHTML := html.UnescapeString(h)
			for _, s := range m.says {
				if !strings.Contains(plainHTML, s) {
					t.Errorf("html lacks %q", s)
				}
				if !strings.Contains(txt, s) {
					t.Errorf("text lacks %q:\n%s", s, txt)
				}
			}
		})
	}
}

func TestResetMailDuration(t *testing.T) {
	if txt := plain(t, ResetText(acme, nil, "https://acme.test/r", 1)); !strings.Contains(txt, "for 1 minute.") {
		t.Errorf("singular minute:\n%s", txt)
	}
	for name, c := range map[string]templ.Component{"html": ResetHTML(acme, nil, "https://acme.test/r", 0), "text": ResetText(acme, nil, "https://acme.test/r", 0)} {
		if out := html.UnescapeString(render(t, c)); strings.Contains(out, "minute") || !strings.Contains(out, "The link works once.") {
			t.Errorf("%s without a duration:\n%s", name, out)
		}
	}
}

func TestSocialResetProviders(t *testing.T) {
	for _, tc := range []struct {
		providers []string
		want      string
	}{
		{[]string{"Google", "Apple"}, "with Google and Apple, so there is no password to reset. To sign in, use the Google or Apple button"},
		{[]string{"Google", " ", "Apple", "GitHub"}, "with Google, Apple and GitHub, so"},
		{nil, "with a social account, so there is no password to reset"},
	} {
		for name, c := range map[string]templ.Component{
			"html": SocialResetHTML(acme, tc.providers, "https://acme.test/login"),
			"text": SocialResetText(acme, tc.providers, "https://acme.test/login"),
		} {
			if out := html.UnescapeString(render(t, c)); !strings.Contains(out, tc.want) {
				t.Errorf("%s for %q lacks %q:\n%s", name, tc.providers, tc.want, out)
			}
		}
	}
	// No token, no reset link: only the login page.
	if out := render(t, SocialResetHTML(acme, []string{"Google"}, "https://acme.test/login")); strings.Contains(out, "token") || strings.Contains(out, "/password/reset") {
		t.Errorf("social reset mail carries a reset link:\n%s", out)
	}
}

// TestAccountMailsEscape proves that a hostile brand or link adds no markup
// to either part, and that a non-web link is dropped rather than sent.
func TestAccountMailsEscape(t *testing.T) {
	b := Brand{
		Name:            `<script>alert(1)</script>"><img src=x onerror=alert(2)>`,
		PrimaryColor:    `red;background:url(javascript:alert(3))`,
		ButtonTextColor: `#fff" onmouseover="alert(4)`,
	}
	bad := "javascript:alert(5)"
	for name, c := range map[string]templ.Component{
		"verify":       VerifyHTML(b, nil, bad),
		"reset":        ResetHTML(b, nil, bad, 30),
		"social":       SocialResetHTML(b, []string{`<b>Google</b>`}, bad),
		"changed":      PasswordChangedHTML(b, `<i>now</i>`, bad),
		"first":        FirstPasswordHTML(b, nil, bad, 7),
		"first text":   FirstPasswordText(b, nil, bad, 7),
		"verify text":  VerifyText(b, nil, bad),
		"reset text":   ResetText(b, nil, bad, 30),
		"social text":  SocialResetText(b, []string{`<b>Google</b>`}, bad),
		"changed text": PasswordChangedText(b, `<i>now</i>`, bad),
	} {
		out := render(t, c)
		for _, s := range []string{"<script", "<img", "<b>", "<i>", `" onmouseover`, "javascript:", "red;"} {
			if strings.Contains(out, s) {
				t.Errorf("%s contains %q:\n%s", name, s, out)
			}
		}
		if !strings.Contains(out, "&lt;script&gt;") {
			t.Errorf("%s lost the brand name:\n%s", name, out)
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"Google"}, "Google"},
		{[]string{"Google", "Apple"}, "Google or Apple"},
		{[]string{" Google ", "Apple", "GitHub"}, "Google, Apple or GitHub"},
	} {
		if got := names(tc.in, "or"); got != tc.want {
			t.Errorf("names(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
