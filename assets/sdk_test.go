package assets

import (
	"net/http"
	"regexp"
	"testing"
)

// TestSDK: the web SDK is served at its content-hashed name with immutable
// caching and at the stable alias with a short cache, both as JavaScript
// any origin may load (brands import it as an ES module from their own
// pages, which browsers fetch with CORS).
func TestSDK(t *testing.T) {
	a := mustNew(t)
	hashed := a.URL("sdk/gatehouse.js")
	if !regexp.MustCompile(`^/static/sdk/gatehouse\.[0-9a-f]{10}\.js$`).MatchString(hashed) {
		t.Fatalf("hashed SDK URL %q", hashed)
	}
	want := string(mustEmbedded(t, "sdk/gatehouse.js"))
	check := func(t *testing.T, h http.Handler, target, cache string) *http.Response {
		t.Helper()
		res := get(t, h, http.MethodGet, target, nil)
		body := string(readBody(t, res))
		if res.StatusCode != http.StatusOK || body != want {
			t.Fatalf("GET %s: %d, %d bytes, want the SDK's %d", target, res.StatusCode, len(body), len(want))
		}
		for k, v := range map[string]string{
			"Content-Type":                 "text/javascript; charset=utf-8",
			"Cache-Control":                cache,
			"Access-Control-Allow-Origin":  "*",
			"Cross-Origin-Resource-Policy": "cross-origin",
			"X-Content-Type-Options":       "nosniff",
		} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", target, k, got, v)
			}
		}
		return res
	}
	t.Run("hashed name is immutable", func(t *testing.T) {
		check(t, a.Handler(), hashed, cacheImmutable)
	})
	t.Run("alias is short-cached and points at the hashed name", func(t *testing.T) {
		res := check(t, a.Alias("sdk/gatehouse.js"), "/sdk/v1/gatehouse.js", cacheAlias)
		if link := res.Header.Get("Link"); link != "<"+hashed+`>; rel="canonical"` {
			t.Errorf("Link = %q", link)
		}
	})
	t.Run("types are plain text", func(t *testing.T) {
		res := get(t, a.Alias("sdk/gatehouse.d.ts"), http.MethodGet, "/sdk/v1/gatehouse.d.ts", nil)
		if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || ct != "text/plain; charset=utf-8" {
			t.Fatalf("d.ts: %d %q", res.StatusCode, ct)
		}
	})
	t.Run("other static files keep same-origin defaults", func(t *testing.T) {
		res := get(t, a.Handler(), http.MethodGet, a.URL("app.css"), nil)
		if v := res.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("app.css has Access-Control-Allow-Origin %q", v)
		}
	})
	t.Run("alias refuses POST", func(t *testing.T) {
		if res := get(t, a.Alias("sdk/gatehouse.js"), http.MethodPost, "/sdk/v1/gatehouse.js", nil); res.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("POST: %d", res.StatusCode)
		}
	})
}
