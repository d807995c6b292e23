package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func mustNew(t *testing.T) *Assets {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func mustEmbedded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := embedded.ReadFile("static/" + name)
	if err != nil {
		t.Fatalf("read embedded %s: %v", name, err)
	}
	return b
}

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, res *http.Response) []byte {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}

func TestURL(t *testing.T) {
	a := mustNew(t)

	t.Run("hashed from content", func(t *testing.T) {
		for name, pattern := range map[string]string{
			"app.css":     `^/static/app\.([0-9a-f]{10})\.css$`,
			"htmx.min.js": `^/static/htmx\.min\.([0-9a-f]{10})\.js$`,
		} {
			u := a.URL(name)
			m := regexp.MustCompile(pattern).FindStringSubmatch(u)
			if m == nil {
				t.Fatalf("URL(%q) = %q, want match for %s", name, u, pattern)
			}
			sum := sha256.Sum256(mustEmbedded(t, name))
			if want := hex.EncodeToString(sum[:])[:hashLen]; m[1] != want {
				t.Errorf("URL(%q) hash = %s, want sha256 prefix %s", name, m[1], want)
			}
		}
	})

	t.Run("stable across instances", func(t *testing.T) {
		b := mustNew(t)
		for _, name := range a.Names() {
			if a.URL(name) != b.URL(name) {
				t.Errorf("URL(%q) differs between two New calls: %q vs %q", name, a.URL(name), b.URL(name))
			}
		}
	})

	t.Run("changes with content", func(t *testing.T) {
		one, err := newFromFS(fstest.MapFS{"app.css": {Data: []byte("a{}")}})
		if err != nil {
			t.Fatal(err)
		}
		two, err := newFromFS(fstest.MapFS{"app.css": {Data: []byte("b{}")}})
		if err != nil {
			t.Fatal(err)
		}
		if one.URL("app.css") == two.URL("app.css") {
			t.Errorf("different content, same URL %q", one.URL("app.css"))
		}
	})

	t.Run("unknown name panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("URL of an unknown name did not panic")
			}
		}()
		a.URL("nope.css")
	})

	t.Run("has", func(t *testing.T) {
		if !a.Has("app.css") || a.Has("nope.css") {
			t.Errorf("Has: app.css=%v nope.css=%v", a.Has("app.css"), a.Has("nope.css"))
		}
	})
}

func TestHashedName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"app.css", "app.h.css"},
		{"htmx.min.js", "htmx.min.h.js"},
		{"img/logo.svg", "img/logo.h.svg"},
		{"LICENSE", "LICENSE.h"},
	} {
		if got := hashedName(tc.in, "h"); got != tc.want {
			t.Errorf("hashedName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHandler(t *testing.T) {
	a := mustNew(t)
	h := a.Handler()
	css := mustEmbedded(t, "app.css")

	t.Run("hashed css", func(t *testing.T) {
		res := get(t, h, http.MethodGet, a.URL("app.css"), nil)
		body := readBody(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", res.StatusCode)
		}
		if !bytes.Equal(body, css) {
			t.Errorf("body is not the embedded app.css (%d vs %d bytes)", len(body), len(css))
		}
		if got := res.Header.Get("Content-Type"); got != "text/css; charset=utf-8" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("Cache-Control = %q", got)
		}
		if got := res.Header.Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(got) {
			t.Errorf("ETag = %q, want a strong hex tag", got)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options = %q", got)
		}
	})

	t.Run("hashed js", func(t *testing.T) {
		res := get(t, h, http.MethodGet, a.URL("htmx.min.js"), nil)
		body := readBody(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", res.StatusCode)
		}
		if got := res.Header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
			t.Errorf("Content-Type = %q", got)
		}
		if !bytes.Equal(body, mustEmbedded(t, "htmx.min.js")) {
			t.Error("body is not the embedded htmx.min.js")
		}
	})

	t.Run("not modified", func(t *testing.T) {
		first := get(t, h, http.MethodGet, a.URL("app.css"), nil)
		readBody(t, first)
		res := get(t, h, http.MethodGet, a.URL("app.css"), http.Header{"If-None-Match": {first.Header.Get("ETag")}})
		body := readBody(t, res)
		if res.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("status = %d with %d bytes, want 304 and no body", res.StatusCode, len(body))
		}
	})

	t.Run("head", func(t *testing.T) {
		res := get(t, h, http.MethodHead, a.URL("app.css"), nil)
		body := readBody(t, res)
		if res.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("status = %d with %d bytes, want 200 and no body", res.StatusCode, len(body))
		}
	})

	t.Run("plain name revalidates", func(t *testing.T) {
		res := get(t, h, http.MethodGet, "/static/app.css", nil)
		body := readBody(t, res)
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, css) {
			t.Fatalf("status = %d, want 200 with app.css", res.StatusCode)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("Cache-Control = %q, want no-cache", got)
		}
	})

	t.Run("gzip when accepted", func(t *testing.T) {
		res := get(t, h, http.MethodGet, a.URL("app.css"), http.Header{"Accept-Encoding": {"br, gzip, deflate"}})
		body := readBody(t, res)
		if got := res.Header.Get("Content-Encoding"); got != "gzip" {
			t.Fatalf("Content-Encoding = %q, want gzip", got)
		}
		if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("Vary = %q, want Accept-Encoding", res.Header.Get("Vary"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain, css) {
			t.Error("gunzipped body is not app.css")
		}
		identity := get(t, h, http.MethodGet, a.URL("app.css"), nil)
		readBody(t, identity)
		if res.Header.Get("ETag") == identity.Header.Get("ETag") {
			t.Error("gzip and identity responses share an ETag")
		}
	})

	t.Run("gzip refused", func(t *testing.T) {
		res := get(t, h, http.MethodGet, a.URL("app.css"), http.Header{"Accept-Encoding": {"gzip;q=0, identity"}})
		body := readBody(t, res)
		if res.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, css) {
			t.Errorf("Content-Encoding = %q, want identity", res.Header.Get("Content-Encoding"))
		}
	})

	for name, target := range map[string]string{
		"stale hash":         "/static/app.0000000000.css",
		"hash of js":         strings.Replace(a.URL("htmx.min.js"), "htmx.min", "app", 1),
		"unknown file":       "/static/nope.css",
		"unknown hashed":     "/static/nope.0123456789.css",
		"directory":          "/static/",
		"outside prefix":     "/app.css",
		"traversal":          "/static/../assets.go",
		"embed path":         "/static/static/app.css",
		"vendored record":    "/static/VENDORED.md",
		"case differs":       strings.ToUpper(a.URL("app.css")),
		"trailing slash":     a.URL("app.css") + "/",
		"unknown with query": "/static/nope.css?v=1",
	} {
		t.Run("404 "+name, func(t *testing.T) {
			res := get(t, h, http.MethodGet, target, nil)
			readBody(t, res)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status = %d, want 404", target, res.StatusCode)
			}
			if cc := res.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
				t.Errorf("GET %s: 404 is cached as immutable", target)
			}
		})
	}

	t.Run("post not allowed", func(t *testing.T) {
		res := get(t, h, http.MethodPost, a.URL("app.css"), nil)
		readBody(t, res)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("status = %d Allow = %q, want 405 with Allow", res.StatusCode, res.Header.Get("Allow"))
		}
	})
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, br", false},
		{"br;q=1.0, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"*", true},
		{"*;q=0", false},
		{"*, gzip;q=0", false},
		{"identity, *;q=0.5", true},
		{"x-gzip", true},
		{"gzip;q=junk", true},
	} {
		if got := acceptsGzip([]string{tc.header}); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestVendoredHTMX keeps static/htmx.min.js and VENDORED.md in step, so a
// hand edit or a half-run of vendor-htmx.sh fails CI.
func TestVendoredHTMX(t *testing.T) {
	record, err := os.ReadFile("VENDORED.md")
	if err != nil {
		t.Fatalf("read VENDORED.md: %v", err)
	}
	js := mustEmbedded(t, "htmx.min.js")
	sum := sha256.Sum256(js)
	if !bytes.Contains(record, []byte(hex.EncodeToString(sum[:]))) {
		t.Error("VENDORED.md does not record the sha256 of static/htmx.min.js; re-run assets/vendor-htmx.sh")
	}
	if !bytes.Contains(record, []byte("| 2.0.11 |")) {
		t.Error("VENDORED.md does not record htmx 2.0.11")
	}
	if !bytes.Contains(js, []byte(`version:"2.0.11"`)) {
		t.Error("static/htmx.min.js is not htmx 2.0.11")
	}
}

// TestThemeProperties checks that app.css reads every theme property the
// tenant sheet may set, each with a fallback, so pages work without it.
func TestThemeProperties(t *testing.T) {
	css := string(mustEmbedded(t, "app.css"))
	for _, prop := range []string{"--gh-primary", "--gh-accent", "--gh-bg", "--gh-text", "--gh-button-text", "--gh-radius", "--gh-font"} {
		if !regexp.MustCompile(`var\(` + prop + `,\s*[^)\s]`).MatchString(css) {
			t.Errorf("app.css has no var(%s, <fallback>)", prop)
		}
	}
	for _, banned := range []string{"@import", "url(http", "url(//", "expression("} {
		if strings.Contains(css, banned) {
			t.Errorf("app.css contains %q; it must load nothing from elsewhere", banned)
		}
	}
}
