package layout

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
)

func render(t *testing.T, p Page) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	ctx := templ.WithChildren(context.Background(), templ.Raw(`<main id="content">hi</main>`))
	if err := Base(p).Render(ctx, &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := html.Parse(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return buf.String(), doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func has(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func elements(doc *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range doc.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

func TestBase(t *testing.T) {
	t.Run("everything", func(t *testing.T) {
		out, doc := render(t, Page{
			Title:       "Log in · Acme",
			Lang:        "fr",
			CSSURL:      "/static/app.0123456789.css",
			ThemeCSSURL: "/theme.css?v=3",
			HTMXURL:     "/static/htmx.min.0123456789.js",
			NoIndex:     true,
		})
		if !strings.HasPrefix(strings.ToLower(out), "<!doctype html>") {
			t.Error("missing doctype")
		}
		if got := attr(elements(doc, "html")[0], "lang"); got != "fr" {
			t.Errorf("lang = %q", got)
		}
		var viewport, robots, htmxConfig bool
		for _, m := range elements(doc, "meta") {
			switch attr(m, "name") {
			case "viewport":
				viewport = attr(m, "content") == "width=device-width, initial-scale=1"
			case "robots":
				robots = attr(m, "content") == "noindex"
			case "htmx-config":
				htmxConfig = strings.Contains(attr(m, "content"), `"includeIndicatorStyles":false`)
			}
		}
		if !viewport || !robots || !htmxConfig {
			t.Errorf("meta viewport=%v robots=%v htmx-config=%v, want all", viewport, robots, htmxConfig)
		}
		links := elements(doc, "link")
		if len(links) != 2 || attr(links[0], "href") != "/static/app.0123456789.css" || attr(links[1], "href") != "/theme.css?v=3" {
			t.Errorf("stylesheets in the wrong order or missing")
		}
		for _, l := range links {
			if attr(l, "rel") != "stylesheet" {
				t.Errorf("link rel = %q", attr(l, "rel"))
			}
		}
		scripts := elements(doc, "script")
		if len(scripts) != 1 || attr(scripts[0], "src") != "/static/htmx.min.0123456789.js" || !has(scripts[0], "defer") || scripts[0].FirstChild != nil {
			t.Error("want one deferred external htmx script")
		}
		if got := elements(doc, "title"); len(got) != 1 || got[0].FirstChild.Data != "Log in · Acme" {
			t.Error("title missing")
		}
		if main := elements(doc, "main"); len(main) != 1 || main[0].Parent.Data != "body" {
			t.Error("children are not the body")
		}
		if len(elements(doc, "style")) != 0 {
			t.Error("inline style")
		}
	})

	t.Run("minimal", func(t *testing.T) {
		_, doc := render(t, Page{Title: "x"})
		if got := attr(elements(doc, "html")[0], "lang"); got != "en" {
			t.Errorf("default lang = %q, want en", got)
		}
		if n := len(elements(doc, "link")); n != 0 {
			t.Errorf("%d links without URLs", n)
		}
		if n := len(elements(doc, "script")); n != 0 {
			t.Errorf("%d scripts without HTMXURL", n)
		}
		for _, m := range elements(doc, "meta") {
			if attr(m, "name") == "robots" || attr(m, "name") == "htmx-config" {
				t.Errorf("unexpected meta %s", attr(m, "name"))
			}
		}
	})

	t.Run("escapes title", func(t *testing.T) {
		out, _ := render(t, Page{Title: "</title><script>alert(1)</script>"})
		if strings.Contains(out, "<script>alert") {
			t.Errorf("title not escaped:\n%s", out)
		}
	})
}
