package hosted

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"gatehouse/views/layout"
)

// page is the shell a handler would pass: the stylesheet, a tenant theme and
// htmx. Neutral pages must drop the theme.
var page = layout.Page{
	CSSURL:      "/static/app.0123456789.css",
	ThemeCSSURL: "/theme/acme.css",
	HTMXURL:     "/static/htmx.min.0123456789.js",
}

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

func parse(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// find returns every element for which match is true, in document order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

func byTestID(doc *html.Node, id string) []*html.Node {
	return find(doc, func(n *html.Node) bool { v, _ := attr(n, "data-testid"); return v == id })
}

// text returns the text content of n with whitespace collapsed, which is
// what a browser test reads.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkCSPSafe fails when the page needs anything a CSP of script-src 'self'
// and style-src 'self' would block.
func checkCSPSafe(t *testing.T, doc *html.Node) {
	t.Helper()
	for _, n := range find(doc, func(n *html.Node) bool { return n.Data == "script" }) {
		if src, ok := attr(n, "src"); !ok || src == "" || n.FirstChild != nil {
			t.Errorf("inline <script> found")
		}
	}
	if len(find(doc, func(n *html.Node) bool { return n.Data == "style" })) > 0 {
		t.Error("inline <style> found")
	}
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") || strings.HasPrefix(a.Key, "hx-on") {
				t.Errorf("<%s %s=…> needs inline style or script", n.Data, a.Key)
			}
		}
	}
}

func stylesheets(doc *html.Node) []string {
	var out []string
	for _, n := range find(doc, func(n *html.Node) bool { v, _ := attr(n, "rel"); return n.Data == "link" && v == "stylesheet" }) {
		href, _ := attr(n, "href")
		out = append(out, href)
	}
	return out
}

func TestBrandTitle(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    Brand
		want string
	}{
		{"display name wins", Brand{Name: "acme", DisplayName: "Acme Outdoor"}, "Acme Outdoor"},
		{"falls back to name", Brand{Name: "acme"}, "acme"},
		{"blank display name", Brand{Name: "acme", DisplayName: "  "}, "acme"},
		{"nothing", Brand{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.b.Title(); got != tc.want {
				t.Errorf("Title() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBrandInitial(t *testing.T) {
	for in, want := range map[string]string{
		"acme":                      "A",
		"  émile & co":              "É",
		"42 Tools":                  "4",
		"<script>alert(1)</script>": "S",
		"---":                       "",
		"":                          "",
	} {
		if got := (Brand{Name: in}).initial(); got != want {
			t.Errorf("initial(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogin(t *testing.T) {
	t.Run("brand", func(t *testing.T) {
		out := render(t, Login(LoginPage{Page: page, Brand: Brand{Name: "acme", DisplayName: "Acme Outdoor", Headline: "Welcome back"}}))
		doc := parse(t, out)
		names := byTestID(doc, "brand-name")
		if len(names) != 1 || text(names[0]) != "Acme Outdoor" {
			t.Fatalf("brand-name elements = %d, want one reading %q", len(names), "Acme Outdoor")
		}
		if h1 := find(doc, func(n *html.Node) bool { return n.Data == "h1" }); len(h1) != 1 || text(h1[0]) != "Welcome back" {
			t.Errorf("want one <h1> with the headline")
		}
		if got := text(find(doc, func(n *html.Node) bool { return n.Data == "title" })[0]); got != "Log in · Acme Outdoor" {
			t.Errorf("<title> = %q", got)
		}
		if got := stylesheets(doc); len(got) != 2 || got[0] != page.CSSURL || got[1] != page.ThemeCSSURL {
			t.Errorf("stylesheets = %q, want app.css then the theme", got)
		}
		if badge := find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "brand-badge" }); len(badge) != 1 || text(badge[0]) != "A" {
			t.Error("want the initial badge when there is no logo")
		}
		checkCSPSafe(t, doc)
	})

	t.Run("escapes brand name", func(t *testing.T) {
		evil := `<script>alert(1)</script>`
		out := render(t, Login(LoginPage{Page: page, Brand: Brand{Name: evil, Headline: `<img src=x onerror=alert(1)>`}}))
		if strings.Contains(out, "<script>alert") || strings.Contains(out, "<img src=x") {
			t.Fatalf("brand text rendered as markup:\n%s", out)
		}
		if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("escaped brand name missing:\n%s", out)
		}
		doc := parse(t, out)
		if names := byTestID(doc, "brand-name"); len(names) != 1 || text(names[0]) != evil {
			t.Errorf("brand-name does not read back as the literal name")
		}
		checkCSPSafe(t, doc)
	})

	t.Run("default headline names the brand", func(t *testing.T) {
		doc := parse(t, render(t, Login(LoginPage{Page: page, Brand: Brand{Name: "Acme"}})))
		if h1 := find(doc, func(n *html.Node) bool { return n.Data == "h1" }); len(h1) != 1 || text(h1[0]) != "Welcome to Acme" {
			t.Errorf("want the default headline")
		}
	})

	t.Run("caller's title kept", func(t *testing.T) {
		p := page
		p.Title = "Sign in"
		doc := parse(t, render(t, Login(LoginPage{Page: p, Brand: Brand{Name: "Acme"}})))
		if got := text(find(doc, func(n *html.Node) bool { return n.Data == "title" })[0]); got != "Sign in" {
			t.Errorf("<title> = %q, want the caller's", got)
		}
	})

	t.Run("logo", func(t *testing.T) {
		doc := parse(t, render(t, Login(LoginPage{Page: page, Brand: Brand{Name: "Acme", LogoURL: "https://cdn.example.com/acme.png"}})))
		imgs := find(doc, func(n *html.Node) bool { return n.Data == "img" })
		if len(imgs) != 1 {
			t.Fatalf("want one logo <img>, got %d", len(imgs))
		}
		if src, _ := attr(imgs[0], "src"); src != "https://cdn.example.com/acme.png" {
			t.Errorf("logo src = %q", src)
		}
		if alt, ok := attr(imgs[0], "alt"); !ok || alt != "" {
			t.Errorf("logo alt = %q, %v; want empty (the name is shown as text)", alt, ok)
		}
		if len(find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "brand-badge" })) != 0 {
			t.Error("badge shown next to a logo")
		}
		if names := byTestID(doc, "brand-name"); len(names) != 1 || text(names[0]) != "Acme" {
			t.Error("brand name must stay visible as text with a logo")
		}
	})

	t.Run("logo URL sanitized", func(t *testing.T) {
		out := render(t, Login(LoginPage{Page: page, Brand: Brand{Name: "Acme", LogoURL: "javascript:alert(1)"}}))
		if strings.Contains(out, "javascript:") {
			t.Errorf("javascript: URL rendered:\n%s", out)
		}
	})
}

// neutralCases are the pages that must not show or reveal a tenant.
func neutralCases() map[string]templ.Component {
	// A careless handler passes the tenant's shell; the pages must ignore
	// its title and theme.
	p := page
	p.Title = "Acme Outdoor"
	return map[string]templ.Component{
		"not found":    NotFound(p),
		"unavailable":  Unavailable(p),
		"server error": ServerError(p, "req-1"),
		"cross origin": CrossOrigin(p),
	}
}

func TestNeutralPages(t *testing.T) {
	for name, c := range neutralCases() {
		t.Run(name, func(t *testing.T) {
			out := render(t, c)
			doc := parse(t, out)
			lower := strings.ToLower(out)
			for _, leak := range []string{"acme", "tenant", "brand", "data-testid=\"brand-name\"", "/theme/"} {
				if strings.Contains(lower, leak) {
					t.Errorf("neutral page contains %q:\n%s", leak, out)
				}
			}
			if got := stylesheets(doc); len(got) != 1 || got[0] != page.CSSURL {
				t.Errorf("stylesheets = %q, want only app.css", got)
			}
			if len(find(doc, func(n *html.Node) bool {
				v, _ := attr(n, "name")
				c, _ := attr(n, "content")
				return n.Data == "meta" && v == "robots" && c == "noindex"
			})) != 1 {
				t.Error("neutral page is indexable")
			}
			if len(find(doc, func(n *html.Node) bool { return n.Data == "h1" })) != 1 {
				t.Error("want exactly one <h1>")
			}
			checkCSPSafe(t, doc)
		})
	}
}

func TestNotFound(t *testing.T) {
	doc := parse(t, render(t, NotFound(page)))
	if got := text(find(doc, func(n *html.Node) bool { return n.Data == "h1" })[0]); got != "Page not found" {
		t.Errorf("<h1> = %q", got)
	}
	if got := text(find(doc, func(n *html.Node) bool { return n.Data == "title" })[0]); got != "Page not found" {
		t.Errorf("<title> = %q", got)
	}
}

func TestUnavailable(t *testing.T) {
	doc := parse(t, render(t, Unavailable(page)))
	if got := text(find(doc, func(n *html.Node) bool { return n.Data == "h1" })[0]); got != "This service is temporarily unavailable" {
		t.Errorf("<h1> = %q", got)
	}
}

func TestServerError(t *testing.T) {
	t.Run("shows request id", func(t *testing.T) {
		doc := parse(t, render(t, ServerError(page, "01J9Z3K5QF7W2M8X4B6C0D1E2F")))
		if got := text(find(doc, func(n *html.Node) bool { return n.Data == "h1" })[0]); got != "Something went wrong" {
			t.Errorf("<h1> = %q", got)
		}
		ref := byTestID(doc, "request-id")
		if len(ref) != 1 || text(ref[0]) != "Reference: 01J9Z3K5QF7W2M8X4B6C0D1E2F" {
			t.Errorf("want one reference line with the request id")
		}
	})

	t.Run("escapes request id", func(t *testing.T) {
		out := render(t, ServerError(page, `<b>x</b>`))
		if strings.Contains(out, "<b>x</b>") || !strings.Contains(out, "&lt;b&gt;x&lt;/b&gt;") {
			t.Errorf("request id not escaped:\n%s", out)
		}
	})

	t.Run("no id, no reference", func(t *testing.T) {
		doc := parse(t, render(t, ServerError(page, "")))
		if len(byTestID(doc, "request-id")) != 0 {
			t.Error("empty reference line rendered")
		}
	})
}

// TestFrame checks that other hosted pages can reuse the themed frame.
func TestFrame(t *testing.T) {
	body := templ.Raw(`<form class="form" method="post" action="/password/forgot"></form>`)
	ctx := templ.WithChildren(context.Background(), body)
	var buf bytes.Buffer
	if err := Frame(layout.Page{Title: "Reset", CSSURL: page.CSSURL}, Brand{Name: "Acme"}).Render(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, buf.String())
	if len(byTestID(doc, "brand-name")) != 1 {
		t.Error("frame lacks the brand header")
	}
	cards := find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "card" })
	if len(cards) != 1 || len(find(cards[0], func(n *html.Node) bool { return n.Data == "form" })) != 1 {
		t.Error("children are not rendered inside the card")
	}
}
