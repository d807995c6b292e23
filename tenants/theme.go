package tenants

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gatehouse/apperr"
)

// Theme is a brand's look on its hosted pages. Every value is validated
// before it is stored, and CSS is built only from validated values: colours
// are #rrggbb, the font is a key of a safe list, and no raw CSS is accepted.
type Theme struct {
	PrimaryColor    string `json:"primary_color"`
	AccentColor     string `json:"accent_color"`
	BackgroundColor string `json:"background_color"`
	TextColor       string `json:"text_color"`
	ButtonTextColor string `json:"button_text_color"`
	Font            string `json:"font"`
	Radius          int    `json:"radius"`
	DisplayName     string `json:"display_name"`
	Headline        string `json:"headline"`
	SignupCopy      string `json:"signup_copy"`
}

// Fonts maps the keys a brand may choose to the font stacks they stand for.
// Only system fonts: no web-font download, no third-party CDN.
var Fonts = map[string]string{
	"system":    `system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif`,
	"humanist":  `Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", source-sans-pro, sans-serif`,
	"geometric": `Avenir, Montserrat, Corbel, "URW Gothic", source-sans-pro, sans-serif`,
	"rounded":   `ui-rounded, "Hiragino Maru Gothic ProN", Quicksand, Comfortaa, Manjari, "Arial Rounded MT", "Arial Rounded MT Bold", Calibri, source-sans-pro, sans-serif`,
	"serif":     `Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif`,
	"mono":      `ui-monospace, "Cascadia Code", "Source Code Pro", Menlo, Consolas, "DejaVu Sans Mono", monospace`,
}

// DefaultTheme is what a new tenant looks like: calm indigo on near-white,
// readable at AA contrast, until the brand says otherwise.
func DefaultTheme() Theme {
	return Theme{
		PrimaryColor:    "#4f46e5",
		AccentColor:     "#0ea5e9",
		BackgroundColor: "#f5f7fb",
		TextColor:       "#111827",
		ButtonTextColor: "#ffffff",
		Font:            "system",
		Radius:          10,
		Headline:        "Welcome",
		SignupCopy:      "Create your account in less than a minute.",
	}
}

// Limits on theme text, so a headline cannot swallow the page.
const (
	MaxDisplayName = 60
	MaxHeadline    = 120
	MaxSignupCopy  = 280
	MaxRadius      = 24
)

// Normalize validates t and returns it with colours in lower case. The error
// names the first bad field.
func (t Theme) Normalize() (Theme, error) {
	colours := []struct {
		field string
		value *string
	}{
		{"primary_color", &t.PrimaryColor},
		{"accent_color", &t.AccentColor},
		{"background_color", &t.BackgroundColor},
		{"text_color", &t.TextColor},
		{"button_text_color", &t.ButtonTextColor},
	}
	for _, c := range colours {
		v, err := ParseColor(*c.value)
		if err != nil {
			return t, apperr.Field(c.field, "%v", err)
		}
		*c.value = v
	}
	if _, ok := Fonts[t.Font]; !ok {
		return t, apperr.Field("font", "%q is not one of the offered fonts", t.Font)
	}
	if t.Radius < 0 || t.Radius > MaxRadius {
		return t, apperr.Field("radius", "must be between 0 and %d pixels", MaxRadius)
	}
	texts := []struct {
		field string
		value *string
		max   int
	}{
		{"display_name", &t.DisplayName, MaxDisplayName},
		{"headline", &t.Headline, MaxHeadline},
		{"signup_copy", &t.SignupCopy, MaxSignupCopy},
	}
	for _, x := range texts {
		v, err := cleanText(*x.value, x.max)
		if err != nil {
			return t, apperr.Field(x.field, "%v", err)
		}
		*x.value = v
	}
	return t, nil
}

// ParseColor accepts exactly #rrggbb (any case) and returns it in lower case.
func ParseColor(s string) (string, error) {
	if len(s) != 7 || s[0] != '#' {
		return "", apperr.New(apperr.Invalid, "%q is not a colour: use #rrggbb", s)
	}
	for i := 1; i < 7; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", apperr.New(apperr.Invalid, "%q is not a colour: use #rrggbb", s)
		}
	}
	return strings.ToLower(s), nil
}

func cleanText(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", apperr.New(apperr.Invalid, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", apperr.New(apperr.Invalid, "is %d characters long; at most %d are allowed", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", apperr.New(apperr.Invalid, "must not contain control characters")
		}
	}
	return s, nil
}

// withDefaults fills what an older stored theme lacks, so adding a theme
// field never breaks a tenant saved before it existed.
func (t Theme) withDefaults() Theme {
	d := DefaultTheme()
	if t.PrimaryColor == "" {
		t.PrimaryColor = d.PrimaryColor
	}
	if t.AccentColor == "" {
		t.AccentColor = d.AccentColor
	}
	if t.BackgroundColor == "" {
		t.BackgroundColor = d.BackgroundColor
	}
	if t.TextColor == "" {
		t.TextColor = d.TextColor
	}
	if t.ButtonTextColor == "" {
		t.ButtonTextColor = d.ButtonTextColor
	}
	if t.Font == "" {
		t.Font = d.Font
	}
	return t
}

// CSS renders the theme as custom properties on :root. It re-validates each
// value and falls back to the default for anything invalid, so a bad row in
// the database cannot inject CSS.
func (t Theme) CSS() string {
	d := DefaultTheme()
	colour := func(v, def string) string {
		if c, err := ParseColor(v); err == nil {
			return c
		}
		return def
	}
	font, ok := Fonts[t.Font]
	if !ok {
		font = Fonts[d.Font]
	}
	radius := t.Radius
	if radius < 0 || radius > MaxRadius {
		radius = d.Radius
	}
	var b strings.Builder
	b.WriteString(":root{")
	b.WriteString("--gh-primary:" + colour(t.PrimaryColor, d.PrimaryColor) + ";")
	b.WriteString("--gh-accent:" + colour(t.AccentColor, d.AccentColor) + ";")
	b.WriteString("--gh-bg:" + colour(t.BackgroundColor, d.BackgroundColor) + ";")
	b.WriteString("--gh-text:" + colour(t.TextColor, d.TextColor) + ";")
	b.WriteString("--gh-button-text:" + colour(t.ButtonTextColor, d.ButtonTextColor) + ";")
	b.WriteString("--gh-radius:" + strconv.Itoa(radius) + "px;")
	b.WriteString("--gh-font:" + font + ";")
	b.WriteString("}\n")
	return b.String()
}

// Version is a short hash of the rendered CSS, for cache-busting URLs.
func (t Theme) Version() string {
	sum := sha256.Sum256([]byte(t.CSS()))
	return hex.EncodeToString(sum[:6])
}
