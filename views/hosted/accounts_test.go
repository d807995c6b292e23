package hosted

import (
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
)

// Helpers over the parsed page, on top of those in hosted_test.go.

func byID(doc *html.Node, id string) *html.Node {
	ns := find(doc, func(n *html.Node) bool { v, _ := attr(n, "id"); return v == id })
	if len(ns) != 1 {
		return nil
	}
	return ns[0]
}

func tagged(doc *html.Node, tag string) []*html.Node {
	return find(doc, func(n *html.Node) bool { return n.Data == tag })
}

// form returns the one <form> posting to action, failing when there is not
// exactly one or when it is not a POST.
func form(t *testing.T, doc *html.Node, action string) *html.Node {
	t.Helper()
	fs := find(doc, func(n *html.Node) bool { a, _ := attr(n, "action"); return n.Data == "form" && a == action })
	if len(fs) != 1 {
		t.Fatalf("want one form to %s, got %d", action, len(fs))
	}
	if m, _ := attr(fs[0], "method"); m != "post" {
		t.Errorf("form %s method = %q, want post", action, m)
	}
	return fs[0]
}

// findSignupForm returns the sign-up form. It posts to /login with
// intent=signup, so a failed sign-up stays at /login.
func findSignupForm(t *testing.T, doc *html.Node) *html.Node {
	t.Helper()
	fs := byTestID(doc, "signup-form")
	if len(fs) != 1 {
		t.Fatalf("want one sign-up form, got %d", len(fs))
	}
	if a, _ := attr(fs[0], "action"); a != "/login" {
		t.Errorf("sign-up form action = %q, want /login", a)
	}
	if m, _ := attr(fs[0], "method"); m != "post" {
		t.Errorf("sign-up form method = %q, want post", m)
	}
	if v, _ := attr(control(t, fs[0], "intent"), "value"); v != "signup" {
		t.Errorf("sign-up form intent = %q, want signup", v)
	}
	return fs[0]
}

// control returns the input, select or textarea named name inside n.
func control(t *testing.T, n *html.Node, name string) *html.Node {
	t.Helper()
	cs := find(n, func(c *html.Node) bool {
		v, _ := attr(c, "name")
		return (c.Data == "input" || c.Data == "select" || c.Data == "textarea") && v == name
	})
	if len(cs) != 1 {
		t.Fatalf("want one control named %q, got %d", name, len(cs))
	}
	return cs[0]
}

func hasControl(n *html.Node, name string) bool {
	return len(find(n, func(c *html.Node) bool { v, _ := attr(c, "name"); return c.Data == "input" && v == name })) > 0
}

func wantAttrs(t *testing.T, n *html.Node, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, ok := attr(n, k); !ok || got != v {
			t.Errorf("<%s name=%q> %s = %q (set: %v), want %q", n.Data, nameOf(n), k, got, ok, v)
		}
	}
}

func nameOf(n *html.Node) string { v, _ := attr(n, "name"); return v }

// submitTexts lists the text of the submit buttons in n.
func submitTexts(n *html.Node) []string {
	var out []string
	for _, b := range find(n, func(c *html.Node) bool { t, _ := attr(c, "type"); return c.Data == "button" && t == "submit" }) {
		out = append(out, text(b))
	}
	return out
}

// fieldError returns the error text tied to the control: the element its
// aria-describedby names with id …-error, which must follow the control in
// the same .field block.
func fieldError(t *testing.T, doc *html.Node, c *html.Node) string {
	t.Helper()
	ids, _ := attr(c, "aria-describedby")
	for id := range strings.FieldsSeq(ids) {
		if !strings.HasSuffix(id, "-error") {
			continue
		}
		e := byID(doc, id)
		if e == nil {
			t.Fatalf("aria-describedby names missing %q", id)
		}
		if v, _ := attr(c, "aria-invalid"); v != "true" {
			t.Errorf("%s has an error but no aria-invalid", nameOf(c))
		}
		if field := enclosing(c, "field"); field == nil || !contains(field, e) {
			t.Errorf("error of %s is not in its field block", nameOf(c))
		}
		return text(e)
	}
	return ""
}

func enclosing(n *html.Node, class string) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if c, _ := attr(p, "class"); strings.Contains(" "+c+" ", " "+class+" ") {
			return p
		}
	}
	return nil
}

func contains(root, n *html.Node) bool {
	for d := range root.Descendants() {
		if d == n {
			return true
		}
	}
	return false
}

// labelOf returns the text of the <label for=id> of the control.
func labelOf(doc *html.Node, c *html.Node) string {
	id, _ := attr(c, "id")
	ls := find(doc, func(n *html.Node) bool { f, _ := attr(n, "for"); return n.Data == "label" && id != "" && f == id })
	if len(ls) != 1 {
		return ""
	}
	return text(ls[0])
}

// checkForms holds for every hosted page: each visible control has a label,
// every form posts, email and password inputs carry autocomplete, and no
// password input has a value.
func checkForms(t *testing.T, doc *html.Node) {
	t.Helper()
	for _, f := range tagged(doc, "form") {
		if m, _ := attr(f, "method"); m != "post" {
			a, _ := attr(f, "action")
			t.Errorf("form %s is not a POST", a)
		}
	}
	for _, c := range find(doc, func(n *html.Node) bool { return n.Data == "input" || n.Data == "select" }) {
		typ, _ := attr(c, "type")
		_, hidden := attr(c, "hidden")
		if typ == "hidden" || hidden {
			continue
		}
		if labelOf(doc, c) == "" {
			t.Errorf("<%s name=%q> has no label", c.Data, nameOf(c))
		}
		if typ == "email" || typ == "password" || typ == "tel" {
			if ac, _ := attr(c, "autocomplete"); ac == "" {
				t.Errorf("<input type=%s name=%q> has no autocomplete", typ, nameOf(c))
			}
		}
		if _, ok := attr(c, "value"); ok && typ == "password" {
			t.Errorf("password input %q has a value", nameOf(c))
		}
	}
}

// sampleFields is one field of each type, as a handler builds them.
func sampleFields() []FormField {
	return []FormField{
		{Key: "first_name", Label: "First name", Type: "text", Required: true, Value: "Jo", MinLength: 2, MaxLength: 50},
		{Key: "shoe_size", Label: "Shoe size", Type: "number", Min: "30", Max: "50", Value: "42"},
		{Key: "birthdate", Label: "Date of birth", Type: "date", Required: true, Max: "2026-01-01", Error: "Enter a date in the past."},
		{Key: "plan", Label: "Plan", Type: "select", Value: "pro", Options: []Option{{"free", "Free"}, {"pro", "Pro"}}},
		{Key: "newsletter", Label: "Send me news", Type: "checkbox", Value: "true", Help: "About once a month."},
		{Key: "mobile", Label: "Mobile", Type: "phone", Value: "+33 6 12 34 56 78"},
		{Key: "country", Label: "Country", Type: "country", Required: true, Options: []Option{{"FR", "France"}, {"DE", "Germany"}}},
	}
}

func loginPage(mode string) LoginPage {
	return LoginPage{
		Page:     page,
		Brand:    Brand{Name: "Acme", SignupCopy: "Join for free shipping."},
		Mode:     mode,
		ReturnTo: "/app?x=1&y=2",
		Providers: []Provider{
			{Key: "google", Name: "Google", URL: "/social/google?return_to=%2Fapp"},
			{Key: "oidc", Name: "Acme ID", URL: "/social/oidc"},
		},
		Signup: SignupForm{MinPasswordLength: 12, Fields: sampleFields()},
	}
}

func TestLoginTabs(t *testing.T) {
	for _, mode := range []string{"login", "signup"} {
		t.Run(mode, func(t *testing.T) {
			doc := parse(t, render(t, Login(loginPage(mode))))
			if byID(doc, "login-panel") == nil {
				t.Fatal("no #login-panel to swap")
			}
			tabs := find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return n.Data == "a" && c == "tab" })
			if len(tabs) != 2 || text(tabs[0]) != "Log in" || text(tabs[1]) != "Sign up" {
				t.Fatalf("want the two tab links, got %d", len(tabs))
			}
			for i, m := range []string{"login", "signup"} {
				want := "/login?mode=" + m + "&return_to=%2Fapp%3Fx%3D1%26y%3D2"
				wantAttrs(t, tabs[i], map[string]string{
					"href":        want,
					"hx-get":      want,
					"hx-target":   "#login-panel",
					"hx-swap":     "outerHTML",
					"hx-push-url": "false",
				})
				if _, current := attr(tabs[i], "aria-current"); current != (m == mode) {
					t.Errorf("tab %s aria-current = %v", m, current)
				}
			}
			checkCSPSafe(t, doc)
			checkForms(t, doc)
		})
	}

	t.Run("no return_to", func(t *testing.T) {
		v := loginPage("login")
		v.ReturnTo = ""
		doc := parse(t, render(t, Login(v)))
		if href, _ := attr(byID(doc, "tab-signup"), "href"); href != "/login?mode=signup" {
			t.Errorf("href = %q", href)
		}
		if hasControl(doc, "return_to") {
			t.Error("empty return_to carried")
		}
	})

	t.Run("unknown mode shows log in", func(t *testing.T) {
		doc := parse(t, render(t, Login(loginPage("bogus"))))
		form(t, doc, "/login")
		if len(byTestID(doc, "signup-form")) != 0 {
			t.Error("sign-up form shown for an unknown mode")
		}
	})
}

func TestLoginPanelIsAFragment(t *testing.T) {
	out := render(t, LoginPanel(loginPage("signup")))
	if strings.Contains(out, "<html") || strings.Contains(out, "<title") || strings.Contains(out, "<h1") {
		t.Fatalf("panel renders more than the panel:\n%s", out)
	}
	if !strings.HasPrefix(out, `<div id="login-panel"`) {
		t.Errorf("panel does not start with the swapped element:\n%.80s", out)
	}
	doc := parse(t, out)
	findSignupForm(t, doc)
	if len(byTestID(doc, "providers")) != 1 {
		t.Error("providers missing from the panel")
	}
}

func TestLoginForm(t *testing.T) {
	v := loginPage("login")
	v.Login = LoginForm{Email: "jo@example.com", EmailError: "Enter a valid email.", PasswordError: "Enter your password.", Error: "Email or password is incorrect."}
	doc := parse(t, render(t, Login(v)))
	f := form(t, doc, "/login")

	email := control(t, f, "email")
	wantAttrs(t, email, map[string]string{"type": "email", "autocomplete": "email", "inputmode": "email", "value": "jo@example.com"})
	if got := fieldError(t, doc, email); got != "Enter a valid email." {
		t.Errorf("email error = %q", got)
	}
	pw := control(t, f, "password")
	wantAttrs(t, pw, map[string]string{"type": "password", "autocomplete": "current-password"})
	if got := fieldError(t, doc, pw); got != "Enter your password." {
		t.Errorf("password error = %q", got)
	}
	wantAttrs(t, control(t, f, "return_to"), map[string]string{"type": "hidden", "value": "/app?x=1&y=2"})
	if len(find(f, func(n *html.Node) bool { h, _ := attr(n, "href"); return n.Data == "a" && h == "/password/forgot" })) != 1 {
		t.Error("no forgot-password link")
	}
	alerts := find(doc, func(n *html.Node) bool { r, _ := attr(n, "role"); return r == "alert" })
	if len(alerts) != 1 || text(alerts[0]) != "Email or password is incorrect." {
		t.Error("form-level error not shown as one alert")
	}
	if got := submitTexts(f); len(got) != 1 || got[0] != "Log in" {
		t.Errorf("submit buttons = %q", got)
	}
	if len(byTestID(doc, "resend-form")) != 0 {
		t.Error("resend form shown without NeedsVerification")
	}
	checkForms(t, doc)
}

func TestLoginNeedsVerification(t *testing.T) {
	v := loginPage("login")
	v.Login = LoginForm{Email: "jo@example.com", Error: "Confirm your email address first.", NeedsVerification: true}
	doc := parse(t, render(t, Login(v)))
	r := form(t, doc, "/verify-email/resend")
	wantAttrs(t, control(t, r, "email"), map[string]string{"type": "hidden", "value": "jo@example.com"})
	if got := submitTexts(r); len(got) != 1 || got[0] != "Send the link again" {
		t.Errorf("resend buttons = %q", got)
	}
	if contains(form(t, doc, "/login"), r) {
		t.Error("resend form nested in the login form")
	}
}

func TestSignupForm(t *testing.T) {
	v := loginPage("signup")
	v.Signup.Email = "jo@example.com"
	v.Signup.EmailError = "An account with this email already exists."
	doc := parse(t, render(t, Login(v)))
	f := findSignupForm(t, doc)

	wantAttrs(t, control(t, f, "email"), map[string]string{"type": "email", "autocomplete": "email", "value": "jo@example.com"})
	if got := fieldError(t, doc, control(t, f, "email")); got != "An account with this email already exists." {
		t.Errorf("email error = %q", got)
	}
	pw := control(t, f, "password")
	wantAttrs(t, pw, map[string]string{"type": "password", "autocomplete": "new-password", "minlength": "12"})
	if hint := byID(doc, "signup-password-hint"); hint == nil || text(hint) != "At least 12 characters." {
		t.Error("password hint missing")
	}
	wantAttrs(t, control(t, f, "return_to"), map[string]string{"value": "/app?x=1&y=2"})
	if copy := byTestID(doc, "signup-copy"); len(copy) != 1 || text(copy[0]) != "Join for free shipping." {
		t.Error("signup copy missing")
	}
	if got := submitTexts(f); len(got) != 1 || got[0] != "Create account" {
		t.Errorf("submit buttons = %q", got)
	}
	checkForms(t, doc)

	t.Run("fields by type", func(t *testing.T) {
		first := control(t, f, "first_name")
		wantAttrs(t, first, map[string]string{"type": "text", "value": "Jo", "minlength": "2", "maxlength": "50", "autocomplete": "given-name"})
		if _, ok := attr(first, "required"); !ok {
			t.Error("required field lacks required")
		}
		if got := labelOf(doc, first); got != "First name" {
			t.Errorf("required label = %q, want no mark", got)
		}

		size := control(t, f, "shoe_size")
		wantAttrs(t, size, map[string]string{"type": "number", "min": "30", "max": "50", "value": "42"})
		if _, ok := attr(size, "required"); ok {
			t.Error("optional field is required")
		}
		if got := labelOf(doc, size); got != "Shoe size (optional)" {
			t.Errorf("optional label = %q", got)
		}

		birth := control(t, f, "birthdate")
		wantAttrs(t, birth, map[string]string{"type": "date", "max": "2026-01-01", "autocomplete": "bday"})
		if got := fieldError(t, doc, birth); got != "Enter a date in the past." {
			t.Errorf("date error = %q", got)
		}

		plan := control(t, f, "plan")
		if plan.Data != "select" {
			t.Fatalf("select field is a <%s>", plan.Data)
		}
		opts := tagged(plan, "option")
		if len(opts) != 3 || text(opts[0]) != "Choose…" {
			t.Fatalf("optional select options = %d, want a blank first", len(opts))
		}
		if v, _ := attr(opts[0], "value"); v != "" {
			t.Errorf("placeholder value = %q", v)
		}
		if _, ok := attr(opts[2], "selected"); !ok {
			t.Error("current value not selected")
		}

		news := control(t, f, "newsletter")
		wantAttrs(t, news, map[string]string{"type": "checkbox", "value": "true"})
		if _, ok := attr(news, "checked"); !ok {
			t.Error("ticked checkbox not checked")
		}
		if got := labelOf(doc, news); got != "Send me news (optional)" {
			t.Errorf("checkbox label = %q", got)
		}
		if ids, _ := attr(news, "aria-describedby"); ids != "field-newsletter-hint" {
			t.Errorf("checkbox hint not tied: %q", ids)
		}

		wantAttrs(t, control(t, f, "mobile"), map[string]string{"type": "tel", "autocomplete": "tel", "value": "+33 6 12 34 56 78"})

		country := control(t, f, "country")
		wantAttrs(t, country, map[string]string{"autocomplete": "country"})
		if country.Data != "select" {
			t.Fatalf("country is a <%s>", country.Data)
		}
		if opts := tagged(country, "option"); len(opts) != 3 || text(opts[1]) != "France" {
			t.Errorf("country options: want the placeholder (no value yet) and two countries")
		}
	})

	t.Run("required select with a value has no blank", func(t *testing.T) {
		v := loginPage("signup")
		v.Signup.Fields = []FormField{{Key: "plan", Label: "Plan", Type: "select", Required: true, Value: "pro", Options: []Option{{"free", "Free"}, {"pro", "Pro"}}}}
		doc := parse(t, render(t, Login(v)))
		if opts := tagged(control(t, doc, "plan"), "option"); len(opts) != 2 {
			t.Errorf("%d options, want the two choices only", len(opts))
		}
	})

	t.Run("unticked checkbox", func(t *testing.T) {
		v := loginPage("signup")
		v.Signup.Fields = []FormField{{Key: "terms", Label: "I accept the terms", Type: "checkbox", Required: true}}
		doc := parse(t, render(t, Login(v)))
		c := control(t, doc, "terms")
		if _, ok := attr(c, "checked"); ok {
			t.Error("checked")
		}
		if _, ok := attr(c, "required"); !ok {
			t.Error("required checkbox not required")
		}
		if got := labelOf(doc, c); got != "I accept the terms" {
			t.Errorf("label = %q", got)
		}
	})
}

func TestLoginProviders(t *testing.T) {
	check := func(t *testing.T, doc *html.Node) {
		t.Helper()
		links := tagged(byTestID(doc, "providers")[0], "a")
		// The logo or initial is aria-hidden; the label is what is read.
		label := func(a *html.Node) string {
			return text(find(a, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "provider-label" })[0])
		}
		if len(links) != 2 || label(links[0]) != "Continue with Google" || label(links[1]) != "Continue with Acme ID" {
			t.Fatalf("provider links = %d", len(links))
		}
		if href, _ := attr(links[0], "href"); href != "/social/google?return_to=%2Fapp" {
			t.Errorf("href = %q", href)
		}
	}
	for _, mode := range []string{"login", "signup"} {
		t.Run(mode, func(t *testing.T) {
			doc := parse(t, render(t, Login(loginPage(mode))))
			check(t, doc)
			if d := find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "divider" }); len(d) != 1 || text(d[0]) != "or" {
				t.Error("no \"or\" divider")
			}
		})
	}

	t.Run("brand login only", func(t *testing.T) {
		v := loginPage("signup")
		v.PasswordFormsHidden = true
		doc := parse(t, render(t, Login(v)))
		check(t, doc)
		if n := len(tagged(doc, "form")); n != 0 {
			t.Errorf("%d forms with PasswordFormsHidden", n)
		}
		if len(find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "tab" || c == "divider" })) != 0 {
			t.Error("tabs or divider with only providers")
		}
	})

	t.Run("none", func(t *testing.T) {
		v := loginPage("login")
		v.Providers = nil
		doc := parse(t, render(t, Login(v)))
		if len(byTestID(doc, "providers")) != 0 || len(find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "divider" })) != 0 {
			t.Error("empty provider list or divider rendered")
		}
	})
}

func TestLoginNotice(t *testing.T) {
	v := loginPage("login")
	v.Notice = Notice{Kind: "success", Message: "Your password was changed."}
	doc := parse(t, render(t, Login(v)))
	panel := byID(doc, "login-panel")
	var first *html.Node
	for c := range panel.ChildNodes() {
		if c.Type == html.ElementNode {
			first = c
			break
		}
	}
	if c, _ := attr(first, "class"); c != "alert alert-success" || text(first) != "Your password was changed." {
		t.Errorf("first in the panel is %q %q, want the notice", c, text(first))
	}
}

// TestEscaping renders tenant- and customer-controlled text in every place
// it can appear and proves none of it becomes markup.
func TestEscaping(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	fields := []FormField{
		{Key: "a", Label: evil, Type: "text", Value: `"><img src=x onerror=alert(2)>`, Help: evil, Error: evil},
		{Key: "b", Label: evil, Type: "select", Options: []Option{{Value: `"><b>`, Label: evil}}, Help: evil},
		{Key: "c", Label: evil, Type: "checkbox", Help: evil, Error: evil},
	}
	b := Brand{Name: evil, SignupCopy: evil, Headline: evil}
	v := LoginPage{Page: page, Brand: b, Mode: "signup", ReturnTo: `"><script>`, Notice: Notice{Kind: `"><x`, Message: evil},
		Providers: []Provider{{Key: `"x`, Name: evil, URL: "javascript:alert(3)"}},
		Signup:    SignupForm{Email: `"><script>`, Error: evil, Fields: fields}}
	pages := map[string]templ.Component{
		"login":   Login(v),
		"account": Account(AccountPage{Page: page, Brand: b, Email: evil, Notice: v.Notice, Profile: ProfileForm{Fields: fields, Error: evil}, Methods: []SignInMethod{{Name: evil, Detail: evil}}}),
		"profile": ProfileComplete(ProfileCompletePage{Page: page, Brand: b, Required: fields, ReturnTo: `"><script>`, Error: evil}),
		"forgot":  Forgot(ForgotPage{Page: page, Brand: b, Email: `"><script>`, EmailError: evil}),
		"reset":   Reset(ResetPage{Page: page, Brand: b, Token: `"><script>`, Error: evil}),
		"verify":  Verify(VerifyPage{Page: page, Brand: b, Message: evil}),
	}
	for name, c := range pages {
		t.Run(name, func(t *testing.T) {
			out := render(t, c)
			for _, bad := range []string{"<script>", "<img", "<b>", "javascript:", "<x"} {
				if strings.Contains(out, bad) {
					t.Errorf("%s rendered as markup:\n%s", bad, out)
				}
			}
			doc := parse(t, out)
			if !strings.Contains(text(doc), evil) {
				t.Error("hostile text does not read back as text")
			}
			checkCSPSafe(t, doc)
		})
	}

	t.Run("field label reads back", func(t *testing.T) {
		doc := parse(t, render(t, Login(v)))
		if got := labelOf(doc, control(t, doc, "a")); got != evil+" (optional)" {
			t.Errorf("label = %q", got)
		}
	})
}

func TestAccount(t *testing.T) {
	v := AccountPage{
		Page:    page,
		Brand:   Brand{Name: "Acme"},
		Email:   "jo@example.com",
		Notice:  Notice{Kind: "success", Message: "Your profile was saved."},
		Profile: ProfileForm{Fields: sampleFields(), Error: "Check the fields below."},
		Password: PasswordForm{HasPassword: true, MinPasswordLength: 10,
			CurrentError: "That is not your current password.", NewError: "This password is too common."},
		Methods: []SignInMethod{{Name: "Password", Detail: "set"}, {Name: "Google", Detail: "jo@gmail.com"}},
	}
	doc := parse(t, render(t, Account(v)))

	if meta := find(doc, func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Data == "meta" && v == "robots" }); len(meta) != 1 {
		t.Error("account page is indexable")
	}
	if got := text(tagged(doc, "title")[0]); got != "Your account · Acme" {
		t.Errorf("<title> = %q", got)
	}
	if alerts := find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "alert alert-success" }); len(alerts) != 1 || text(alerts[0]) != "Your profile was saved." {
		t.Error("notice missing")
	}

	profile := form(t, doc, "/account")
	for _, f := range sampleFields() {
		control(t, profile, f.Key)
	}
	if got := submitTexts(profile); len(got) != 1 || got[0] != "Save changes" {
		t.Errorf("profile buttons = %q", got)
	}

	pw := form(t, doc, "/account/password")
	cur := control(t, pw, "current_password")
	wantAttrs(t, cur, map[string]string{"type": "password", "autocomplete": "current-password"})
	if got := fieldError(t, doc, cur); got != "That is not your current password." {
		t.Errorf("current error = %q", got)
	}
	nw := control(t, pw, "new_password")
	wantAttrs(t, nw, map[string]string{"type": "password", "autocomplete": "new-password", "minlength": "10"})
	if got := fieldError(t, doc, nw); got != "This password is too common." {
		t.Errorf("new error = %q", got)
	}
	if got := submitTexts(pw); len(got) != 1 || got[0] != "Change password" {
		t.Errorf("password buttons = %q", got)
	}

	var methods []string
	for _, li := range tagged(byTestID(doc, "methods")[0], "li") {
		methods = append(methods, text(li))
	}
	if strings.Join(methods, "|") != "P Password set|G Google jo@gmail.com" {
		t.Errorf("methods = %q", methods)
	}

	logout := form(t, doc, "/logout")
	if got := submitTexts(logout); len(got) != 1 || got[0] != "Log out" {
		t.Errorf("logout buttons = %q", got)
	}

	banner := byTestID(doc, "verify-banner")
	if len(banner) != 1 {
		t.Fatal("unverified email shows no banner")
	}
	resend := form(t, banner[0], "/verify-email/resend")
	if hasControl(resend, "email") {
		t.Error("signed-in resend form asks for the email")
	}
	if got := submitTexts(resend); len(got) != 1 || got[0] != "Send the link again" {
		t.Errorf("resend buttons = %q", got)
	}
	checkForms(t, doc)
	checkCSPSafe(t, doc)

	t.Run("verified, social only", func(t *testing.T) {
		v := v
		v.EmailVerified = true
		v.Password = PasswordForm{MinPasswordLength: 8}
		doc := parse(t, render(t, Account(v)))
		if len(byTestID(doc, "verify-banner")) != 0 {
			t.Error("banner for a verified email")
		}
		pw := form(t, doc, "/account/password")
		if hasControl(pw, "current_password") {
			t.Error("current password asked of an account without one")
		}
		if got := submitTexts(pw); len(got) != 1 || got[0] != "Add a password" {
			t.Errorf("buttons = %q", got)
		}
		checkForms(t, doc)
	})
}

func TestProfileComplete(t *testing.T) {
	fields := sampleFields()
	v := ProfileCompletePage{Page: page, Brand: Brand{Name: "Acme"}, Required: fields[:1], Optional: fields[1:2], CanSkip: true, ReturnTo: "/app", Error: "Please fill in the required fields."}
	doc := parse(t, render(t, ProfileComplete(v)))
	f := form(t, doc, "/profile/complete")
	wantAttrs(t, control(t, f, "return_to"), map[string]string{"type": "hidden", "value": "/app"})
	names := []string{}
	for _, c := range find(f, func(n *html.Node) bool { return n.Data == "input" }) {
		names = append(names, nameOf(c))
	}
	if strings.Join(names, ",") != "return_to,first_name,shoe_size" {
		t.Errorf("controls = %v, want required before optional", names)
	}
	if got := labelOf(doc, control(t, f, "shoe_size")); got != "Shoe size (optional)" {
		t.Errorf("optional label = %q", got)
	}
	buttons := find(f, func(n *html.Node) bool { return n.Data == "button" })
	if len(buttons) != 2 || text(buttons[0]) != "Continue" || text(buttons[1]) != "Not now" {
		t.Fatalf("want Continue then Not now")
	}
	wantAttrs(t, buttons[1], map[string]string{"type": "submit", "name": "skip", "value": "1"})
	if _, ok := attr(buttons[1], "formnovalidate"); !ok {
		t.Error("Not now is validated")
	}
	if _, ok := attr(buttons[0], "name"); ok {
		t.Error("Continue sends a name")
	}
	checkForms(t, doc)
	checkCSPSafe(t, doc)

	v.CanSkip = false
	doc = parse(t, render(t, ProfileComplete(v)))
	if got := submitTexts(form(t, doc, "/profile/complete")); len(got) != 1 || got[0] != "Continue" {
		t.Errorf("buttons without CanSkip = %q", got)
	}
}

func TestForgot(t *testing.T) {
	doc := parse(t, render(t, Forgot(ForgotPage{Page: page, Brand: Brand{Name: "Acme"}, Email: "jo@example", EmailError: "Enter a valid email."})))
	f := form(t, doc, "/password/forgot")
	email := control(t, f, "email")
	wantAttrs(t, email, map[string]string{"type": "email", "autocomplete": "email", "value": "jo@example"})
	if got := fieldError(t, doc, email); got != "Enter a valid email." {
		t.Errorf("error = %q", got)
	}
	checkForms(t, doc)
	checkCSPSafe(t, doc)

	doc = parse(t, render(t, Forgot(ForgotPage{Page: page, Brand: Brand{Name: "Acme"}, Email: "jo@example.com", Sent: true})))
	if len(tagged(doc, "form")) != 0 {
		t.Error("form still shown after sending")
	}
	if s := byTestID(doc, "forgot-sent"); len(s) != 1 || !strings.Contains(text(s[0]), "If an account exists for that address") {
		t.Error("sent message missing")
	}
}

func TestReset(t *testing.T) {
	const token = "tok_3f9a"
	doc := parse(t, render(t, Reset(ResetPage{Page: page, Brand: Brand{Name: "Acme"}, Token: token, MinPasswordLength: 12, PasswordError: "Too short.", Error: "Something is wrong."})))
	f := form(t, doc, "/password/reset")
	wantAttrs(t, control(t, f, "token"), map[string]string{"type": "hidden", "value": token})
	pw := control(t, f, "password")
	wantAttrs(t, pw, map[string]string{"type": "password", "autocomplete": "new-password", "minlength": "12"})
	if got := fieldError(t, doc, pw); got != "Too short." {
		t.Errorf("error = %q", got)
	}
	if strings.Contains(text(doc), token) {
		t.Error("token shown as text")
	}
	if len(find(doc, func(n *html.Node) bool { r, _ := attr(n, "role"); return r == "alert" })) != 1 {
		t.Error("form-level error missing")
	}
	checkForms(t, doc)
	checkCSPSafe(t, doc)

	doc = parse(t, render(t, Reset(ResetPage{Page: page, Brand: Brand{Name: "Acme"}, Token: token, Invalid: true})))
	if len(tagged(doc, "form")) != 0 || strings.Contains(render(t, Reset(ResetPage{Token: token, Invalid: true})), token) {
		t.Error("invalid link still offers the form")
	}
	if len(find(doc, func(n *html.Node) bool { h, _ := attr(n, "href"); return n.Data == "a" && h == "/password/forgot" })) != 1 {
		t.Error("no way to ask for a new link")
	}
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name     string
		v        VerifyPage
		headline string
		next     string
		resend   bool
	}{
		{"ok, signed out", VerifyPage{OK: true}, "Email confirmed", "/login", false},
		{"ok, signed in", VerifyPage{OK: true, SignedIn: true}, "Email confirmed", "/account", false},
		{"expired, signed in", VerifyPage{SignedIn: true, Message: "This link has expired."}, "This link didn’t work", "/account", true},
		{"expired, signed out", VerifyPage{}, "This link didn’t work", "/login", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.v.Page, tc.v.Brand = page, Brand{Name: "Acme"}
			doc := parse(t, render(t, Verify(tc.v)))
			if got := text(tagged(doc, "h1")[0]); got != tc.headline {
				t.Errorf("<h1> = %q", got)
			}
			if tc.v.Message != "" && !strings.Contains(text(doc), tc.v.Message) {
				t.Error("message missing")
			}
			if len(find(doc, func(n *html.Node) bool { h, _ := attr(n, "href"); return n.Data == "a" && h == tc.next })) != 1 {
				t.Errorf("no link to %s", tc.next)
			}
			if got := len(byTestID(doc, "resend-form")) == 1; got != tc.resend {
				t.Errorf("resend form = %v", got)
			}
			checkCSPSafe(t, doc)
		})
	}
}

func TestFormFieldAutocomplete(t *testing.T) {
	for _, tc := range []struct {
		f    FormField
		want string
	}{
		{FormField{Key: "first_name", Type: "text"}, "given-name"},
		{FormField{Key: "Last_Name", Type: "text"}, "family-name"},
		{FormField{Key: "dob", Type: "date"}, "bday"},
		{FormField{Key: "anything", Type: "phone"}, "tel"},
		{FormField{Key: "nationality", Type: "country"}, "country"},
		{FormField{Key: "favourite_colour", Type: "text"}, ""},
	} {
		if got := tc.f.autocomplete(); got != tc.want {
			t.Errorf("autocomplete(%s %s) = %q, want %q", tc.f.Type, tc.f.Key, got, tc.want)
		}
	}
}
