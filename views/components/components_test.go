package components

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func render(t *testing.T, c templ.Component) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	nodes, err := html.ParseFragment(strings.NewReader(buf.String()), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	root := &html.Node{Type: html.ElementNode, Data: "root"}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	return buf.String(), root
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func elements(root *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range root.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestCard(t *testing.T) {
	ctx := templ.WithChildren(context.Background(), templ.Raw("<p>inside</p>"))
	var buf bytes.Buffer
	if err := Card().Render(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != `<section class="card"><p>inside</p></section>` {
		t.Errorf("Card = %s", got)
	}
}

func TestAlert(t *testing.T) {
	for _, tc := range []struct {
		kind        AlertKind
		class, role string
	}{
		{AlertError, "alert alert-error", "alert"},
		{AlertSuccess, "alert alert-success", "status"},
		{AlertWarning, "alert alert-warning", "status"},
		{AlertInfo, "alert alert-info", "status"},
		{AlertKind("bogus"), "alert alert-info", "status"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			out, root := render(t, Alert(tc.kind, "<b>Wrong</b> email or password"))
			div := elements(root, "div")[0]
			if c, _ := attr(div, "class"); c != tc.class {
				t.Errorf("class = %q, want %q", c, tc.class)
			}
			if r, _ := attr(div, "role"); r != tc.role {
				t.Errorf("role = %q, want %q", r, tc.role)
			}
			if strings.Contains(out, "<b>") || text(root) != "<b>Wrong</b> email or password" {
				t.Errorf("message not escaped as text: %s", out)
			}
		})
	}
}

func TestField(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		_, root := render(t, Field(Input{Name: "email", Label: "Email", Type: "email", Value: "jo@example.com", Autocomplete: "email", Required: true}))
		label := elements(root, "label")[0]
		input := elements(root, "input")[0]
		if f, _ := attr(label, "for"); f != "email" {
			t.Errorf("label for = %q", f)
		}
		for k, want := range map[string]string{"id": "email", "name": "email", "type": "email", "value": "jo@example.com", "autocomplete": "email"} {
			if got, _ := attr(input, k); got != want {
				t.Errorf("input %s = %q, want %q", k, got, want)
			}
		}
		if _, ok := attr(input, "required"); !ok {
			t.Error("required missing")
		}
		for _, k := range []string{"aria-invalid", "aria-describedby"} {
			if _, ok := attr(input, k); ok {
				t.Errorf("%s set on a valid field", k)
			}
		}
	})

	t.Run("error and hint", func(t *testing.T) {
		_, root := render(t, Field(Input{Name: "password", ID: "signup-password", Label: "Password", Type: "password",
			Hint: "At least 8 characters.", Error: "Too short.", MinLength: 8, MaxLength: 256}))
		input := elements(root, "input")[0]
		if v, _ := attr(input, "aria-invalid"); v != "true" {
			t.Error("aria-invalid missing")
		}
		if v, _ := attr(input, "aria-describedby"); v != "signup-password-hint signup-password-error" {
			t.Errorf("aria-describedby = %q", v)
		}
		if v, _ := attr(input, "minlength"); v != "8" {
			t.Errorf("minlength = %q", v)
		}
		if v, _ := attr(input, "maxlength"); v != "256" {
			t.Errorf("maxlength = %q", v)
		}
		var errEl *html.Node
		for _, p := range elements(root, "p") {
			if id, _ := attr(p, "id"); id == "signup-password-error" {
				errEl = p
			}
		}
		if errEl == nil || text(errEl) != "Too short." {
			t.Fatal("error text missing")
		}
		if c, _ := attr(errEl, "class"); c != "field-error" {
			t.Errorf("error class = %q", c)
		}
		if c, _ := attr(elements(root, "div")[0], "class"); c != "field has-error" {
			t.Errorf("field class = %q", c)
		}
	})

	t.Run("password never echoed", func(t *testing.T) {
		out, _ := render(t, Field(Input{Name: "password", Label: "Password", Type: "password", Value: "hunter2"}))
		if strings.Contains(out, "hunter2") {
			t.Errorf("password echoed: %s", out)
		}
	})

	t.Run("escapes value", func(t *testing.T) {
		out, root := render(t, Field(Input{Name: "q", Label: "<i>L</i>", Value: `"><script>alert(1)</script>`}))
		if strings.Contains(out, "<script>") || strings.Contains(out, "<i>") {
			t.Errorf("not escaped: %s", out)
		}
		if v, _ := attr(elements(root, "input")[0], "value"); v != `"><script>alert(1)</script>` {
			t.Errorf("value = %q", v)
		}
	})

	t.Run("optional mark and attrs", func(t *testing.T) {
		_, root := render(t, Field(Input{Name: "nick", Label: "Nickname", MarkOptional: true, Attrs: templ.Attributes{"hx-post": "/check"}}))
		if got := text(elements(root, "label")[0]); got != "Nickname (optional)" {
			t.Errorf("label = %q", got)
		}
		input := elements(root, "input")[0]
		if v, _ := attr(input, "hx-post"); v != "/check" {
			t.Errorf("hx-post = %q", v)
		}
		if v, _ := attr(input, "type"); v != "text" {
			t.Errorf("default type = %q", v)
		}
	})
}

func TestTabs(t *testing.T) {
	panel := func(s string) templ.Component { return templ.Raw("<form>" + s + "</form>") }
	checked := func(root *html.Node) []string {
		var ids []string
		for _, in := range elements(root, "input") {
			if _, ok := attr(in, "checked"); ok {
				id, _ := attr(in, "id")
				ids = append(ids, id)
			}
		}
		return ids
	}

	t.Run("first by default", func(t *testing.T) {
		_, root := render(t, Tabs("mode", []Tab{
			{ID: "mode-login", Label: "Log in", Panel: panel("login")},
			{ID: "mode-signup", Label: "Sign up", Panel: panel("signup")},
		}))
		if got := checked(root); len(got) != 1 || got[0] != "mode-login" {
			t.Errorf("checked = %v", got)
		}
		labels := elements(root, "label")
		if len(labels) != 2 || text(labels[1]) != "Sign up" {
			t.Fatal("labels missing")
		}
		if f, _ := attr(labels[1], "for"); f != "mode-signup" {
			t.Errorf("label for = %q", f)
		}
		if n := len(elements(root, "form")); n != 2 {
			t.Errorf("%d panels", n)
		}
		// app.css relies on the order: radios, then .tabs, then .tab-panels.
		set := elements(root, "div")[0]
		var kinds []string
		for c := range set.ChildNodes() {
			if c.Type == html.ElementNode {
				cls, _ := attr(c, "class")
				kinds = append(kinds, cls)
			}
		}
		if strings.Join(kinds, ",") != "tab-input,tab-input,tabs,tab-panels" {
			t.Errorf("tabset children = %v", kinds)
		}
	})

	t.Run("selected", func(t *testing.T) {
		_, root := render(t, Tabs("mode", []Tab{{ID: "a", Label: "A"}, {ID: "b", Label: "B", Selected: true}}))
		if got := checked(root); len(got) != 1 || got[0] != "b" {
			t.Errorf("checked = %v", got)
		}
	})

	t.Run("at most three", func(t *testing.T) {
		_, root := render(t, Tabs("m", []Tab{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d", Selected: true}}))
		if n := len(elements(root, "input")); n != 3 {
			t.Errorf("%d radios, want 3", n)
		}
		if got := checked(root); len(got) != 1 || got[0] != "a" {
			t.Errorf("checked = %v, want the first when the selected one is dropped", got)
		}
	})
}
