package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

func themeValues(primary, display string) url.Values {
	d := tenants.DefaultTheme()
	return url.Values{
		"primary_color": {primary}, "accent_color": {d.AccentColor}, "background_color": {d.BackgroundColor},
		"text_color": {d.TextColor}, "button_text_color": {d.ButtonTextColor}, "font": {"serif"}, "radius": {"6"},
		"display_name": {display}, "headline": {"Hello there"}, "signup_copy": {"Join us"},
	}
}

func pngBytes(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestConsoleTheme: the theme editor previews unsaved values, refuses
// anything that is not a plain colour, saves so that the tenant host
// serves the new theme at once, resets, and takes a logo only when it is a
// small PNG, JPEG or WebP.
func TestConsoleTheme(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustStaff(t, env, "owner@acme.test", "owner", "acme")
	srv := env.Serve()
	b := signedIn(t, srv, "owner@acme.test")

	t.Run("editor", func(t *testing.T) {
		r := b.get("/t/acme/theme")
		if r.StatusCode != 200 || !strings.Contains(r.Body, `type="color"`) || !strings.Contains(r.Body, `data-testid="preview-phone"`) {
			t.Fatalf("editor: %d", r.StatusCode)
		}
		if !strings.Contains(r.Body, `value="`+tenants.DefaultTheme().PrimaryColor+`"`) {
			t.Fatal("the editor does not show the saved primary colour")
		}
	})
	t.Run("preview fragment uses unsaved values and warns on contrast", func(t *testing.T) {
		v := themeValues("#ff0000", "Acme Preview")
		v.Set("text_color", "#aaaaaa")
		v.Set("background_color", "#ffffff")
		r := b.getOn(consoleHost, "/t/acme/theme/preview?"+v.Encode(), true)
		if r.StatusCode != 200 || strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="theme-preview"`) {
			t.Fatalf("fragment: %d\n%s", r.StatusCode, r.Body)
		}
		if !strings.Contains(r.Body, "primary_color=%23ff0000") {
			t.Fatal("the frames do not carry the unsaved colour")
		}
		if !strings.Contains(r.Body, "below the 4.5:1") {
			t.Fatal("no contrast warning for grey on white")
		}
		if full := b.get("/t/acme/theme/preview?" + v.Encode()); !strings.Contains(full.Body, "<html") || !strings.Contains(full.Body, "unsaved changes") {
			t.Fatal("without htmx the preview is not the whole editor")
		}
		if r, _ := srv.Get(t, "acme.localhost", "/theme.css"); r.StatusCode != 200 {
			t.Fatal("tenant theme.css")
		}
		_, css := srv.Get(t, "acme.localhost", "/theme.css")
		if strings.Contains(css, "#ff0000") {
			t.Fatal("a preview changed the live theme")
		}
	})
	t.Run("framed preview page: only it may be framed, by the console alone", func(t *testing.T) {
		r := b.get("/t/acme/theme/preview/login?" + themeValues("#ff0000", "Acme Preview").Encode() + "&mode=signup")
		if r.StatusCode != 200 || !strings.Contains(r.Body, "Acme Preview") {
			t.Fatalf("preview page: %d", r.StatusCode)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'self'") || strings.Contains(csp, "'none'; base") && !strings.Contains(csp, "frame-ancestors 'self'") || r.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Fatalf("preview headers: CSP %q, XFO %q", csp, r.Header.Get("X-Frame-Options"))
		}
		if strings.Contains(r.Body, "<script") {
			t.Fatal("the preview loads a script")
		}
		editor := b.get("/t/acme/theme")
		if !strings.Contains(editor.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || editor.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatal("the editor itself may be framed")
		}
		css := b.get("/t/acme/theme/preview/theme.css?" + themeValues("#ff0000", "").Encode())
		if !strings.Contains(css.Body, "--gh-primary:#ff0000;") {
			t.Fatalf("preview css %q", css.Body)
		}
		evil := b.get("/t/acme/theme/preview/theme.css?" + themeValues("red;}body{display:none", "").Encode())
		if strings.Contains(evil.Body, "display:none") || !strings.Contains(evil.Body, "--gh-primary:"+tenants.DefaultTheme().PrimaryColor) {
			t.Fatalf("injected css %q", evil.Body)
		}
	})
	t.Run("a colour that is not #rrggbb is refused, naming the field", func(t *testing.T) {
		r := b.post("/t/acme/theme", themeValues("red;}body{display:none", "X"))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="primary_color-error"`) || !strings.Contains(r.Body, "is not a colour: use #rrggbb") {
			t.Fatalf("status %d", r.StatusCode)
		}
		v := themeValues("#123456", "X")
		v.Set("font", "Comic Sans")
		v.Set("radius", "99")
		r = b.post("/t/acme/theme", v)
		if r.StatusCode != 422 || !strings.Contains(r.Body, `id="font-error"`) || !strings.Contains(r.Body, `id="radius-error"`) {
			t.Fatalf("font and radius: %d", r.StatusCode)
		}
	})
	t.Run("save is served by the tenant host at once", func(t *testing.T) {
		r := b.post("/t/acme/theme", themeValues("#0a7c59", "Acme Roasters"))
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", r.StatusCode, r.Body)
		}
		apptest.Eventually(t, time.Second, func() error {
			_, css := srv.Get(t, "acme.localhost", "/theme.css")
			_, page := srv.Get(t, "acme.localhost", "/login")
			if !strings.Contains(css, "--gh-primary:#0a7c59") || !strings.Contains(page, "Acme Roasters") {
				return fmt.Errorf("not yet served")
			}
			return nil
		})
		if page := b.get("/t/acme/theme"); !strings.Contains(page.Body, "Theme saved") || !strings.Contains(page.Body, `value="#0a7c59"`) {
			t.Fatal("the editor does not show the saved theme and message")
		}
	})
	t.Run("reset asks, then restores the default", func(t *testing.T) {
		if r := b.post("/t/acme/theme/reset", nil); !strings.Contains(r.Body, `data-testid="confirm"`) {
			t.Fatal("reset does not ask")
		}
		b.post("/t/acme/theme/reset", url.Values{"confirm": {"yes"}})
		apptest.Eventually(t, time.Second, func() error {
			if _, css := srv.Get(t, "acme.localhost", "/theme.css"); !strings.Contains(css, "--gh-primary:"+tenants.DefaultTheme().PrimaryColor) {
				return fmt.Errorf("not reset: %s", css)
			}
			return nil
		})
	})
	t.Run("logo", func(t *testing.T) {
		small := pngBytes(t, 64, 32)
		if r := b.upload("/t/acme/theme/logo", "logo.png", small); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("png: %d\n%s", r.StatusCode, r.Body)
		}
		page := b.get("/t/acme/theme")
		if !strings.Contains(page.Body, `data-testid="logo"`) {
			t.Fatal("the editor does not show the logo")
		}
		img := b.get("/t/acme/theme/logo")
		if img.StatusCode != 200 || img.Header.Get("Content-Type") != "image/png" || img.Header.Get("X-Content-Type-Options") != "nosniff" || img.Body != string(small) {
			t.Fatalf("logo: %d %q", img.StatusCode, img.Header.Get("Content-Type"))
		}
		for name, c := range map[string]struct {
			file string
			data []byte
			want string
		}{
			"5 MB":        {"big.png", append(pngBytes(t, 8, 8), bytes.Repeat([]byte{0}, 5<<20)...), "a logo may be at most 1 MB"},
			"renamed exe": {"logo.png", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{1}, 4096)...), "this file is a program, not an image"},
			"svg":         {"logo.png", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "SVG images are not accepted"},
			"text":        {"logo.webp", []byte("hello, world"), "not a PNG, JPEG or WebP image"},
		} {
			t.Run(name, func(t *testing.T) {
				r := b.upload("/t/acme/theme/logo", c.file, c.data)
				if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, c.want) || !strings.Contains(r.Body, `id="logo-error"`) {
					t.Fatalf("status %d, want 422 with %q", r.StatusCode, c.want)
				}
			})
		}
		if img := b.get("/t/acme/theme/logo"); img.Body != string(small) {
			t.Fatal("a refused upload replaced the logo")
		}
		b.post("/t/acme/theme/logo/remove", url.Values{"confirm": {"yes"}})
		if img := b.get("/t/acme/theme/logo"); img.StatusCode != 404 {
			t.Fatalf("removed logo: %d", img.StatusCode)
		}
	})
	t.Run("audited with before and after", func(t *testing.T) {
		got := strings.Join(auditActions(t, env, "acme"), ",")
		if got != "staff.created,theme.updated,theme.updated,theme.logo.updated,theme.logo.removed" {
			t.Fatalf("actions %s", got)
		}
		d, _ := dbOf(env)
		defer d.Close()
		var detail string
		d.Gorm.Raw("SELECT detail FROM audit_events WHERE action = 'theme.updated' ORDER BY id LIMIT 1").Scan(&detail)
		var d2 struct{ Before, After map[string]any }
		if err := json.Unmarshal([]byte(detail), &d2); err != nil || d2.Before["primary_color"] != "#4f46e5" || d2.After["primary_color"] != "#0a7c59" {
			t.Fatalf("detail %s", detail)
		}
	})
}
