package tenants

import (
	"strings"
	"testing"

	"gatehouse/apperr"
)

func TestThemeNormalize(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Theme)
		field string // "" means valid
	}{
		{"default", func(*Theme) {}, ""},
		{"upper-case colour folded", func(th *Theme) { th.PrimaryColor = "#AABBCC" }, ""},
		{"css injection", func(th *Theme) { th.PrimaryColor = "red;}body{display:none" }, "primary_color"},
		{"named colour", func(th *Theme) { th.AccentColor = "red" }, "accent_color"},
		{"short hex", func(th *Theme) { th.BackgroundColor = "#fff" }, "background_color"},
		{"url", func(th *Theme) { th.TextColor = "url(https://evil)" }, "text_color"},
		{"alpha hex", func(th *Theme) { th.ButtonTextColor = "#ffffff00" }, "button_text_color"},
		{"unknown font", func(th *Theme) { th.Font = "Comic Sans; x" }, "font"},
		{"radius too large", func(th *Theme) { th.Radius = 99 }, "radius"},
		{"negative radius", func(th *Theme) { th.Radius = -1 }, "radius"},
		{"long headline", func(th *Theme) { th.Headline = strings.Repeat("x", MaxHeadline+1) }, "headline"},
		{"control character", func(th *Theme) { th.DisplayName = "A\x00B" }, "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := DefaultTheme()
			tt.edit(&th)
			got, err := th.Normalize()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if got.PrimaryColor != strings.ToLower(got.PrimaryColor) {
					t.Fatalf("colour not folded: %q", got.PrimaryColor)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Field != tt.field || e.Code != apperr.Invalid {
				t.Fatalf("error %v, want Invalid naming %s", err, tt.field)
			}
		})
	}
}

func TestThemeCSSUsesOnlyValidatedValues(t *testing.T) {
	th := DefaultTheme()
	th.PrimaryColor = "#123abc"
	th.Radius = 4
	css := th.CSS()
	for _, want := range []string{"--gh-primary:#123abc;", "--gh-radius:4px;", "--gh-font:system-ui"} {
		if !strings.Contains(css, want) {
			t.Errorf("CSS %q lacks %q", css, want)
		}
	}
	// A bad value that reached the database by some other path still
	// cannot inject CSS: it falls back to the default.
	bad := DefaultTheme()
	bad.PrimaryColor = "red;}body{display:none"
	bad.Font = "x;}*{color:red"
	css = bad.CSS()
	if strings.Contains(css, "display:none") || strings.Contains(css, "color:red") {
		t.Fatalf("CSS carries injected text: %q", css)
	}
	if !strings.Contains(css, "--gh-primary:"+DefaultTheme().PrimaryColor+";") {
		t.Fatalf("CSS %q did not fall back to the default primary", css)
	}
	if DefaultTheme().Version() == th.Version() {
		t.Fatal("a changed theme must change its version")
	}
}

func FuzzParseColor(f *testing.F) {
	for _, s := range []string{"#aabbcc", "#AABBCC", "red", "#abc", "#aabbcc;}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ParseColor(in)
		if err != nil {
			return
		}
		if len(out) != 7 || out[0] != '#' || strings.ToLower(out) != out {
			t.Fatalf("%q accepted as %q", in, out)
		}
		for _, c := range out[1:] {
			if !strings.ContainsRune("0123456789abcdef", c) {
				t.Fatalf("%q accepted as %q", in, out)
			}
		}
	})
}
