package console

import (
	"math"
	"strconv"
)

// contrastRatio is the WCAG 2 contrast ratio of two #rrggbb colours, from
// 1 (same) to 21 (black on white). ok is false for anything else.
func contrastRatio(a, b string) (ratio float64, ok bool) {
	la, ok1 := luminance(a)
	lb, ok2 := luminance(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), true
}

// luminance is the WCAG relative luminance of a #rrggbb colour.
func luminance(hex string) (float64, bool) {
	if len(hex) != 7 || hex[0] != '#' {
		return 0, false
	}
	var rgb [3]float64
	for i := range 3 {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return 0, false
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2], true
}

// wcagAA is the contrast WCAG 2 level AA asks of normal-size text.
const wcagAA = 4.5

// contrastWarnings checks every text/background pair the theme produces
// on the hosted pages, as app.css derives them from the four colours, and
// says which fall below WCAG 2.2 AA (1.4.3, 4.5:1 for normal-size text):
// body text, links ("Forgot your password?") and helper text on the
// background and on the page backdrop, error text on the background, and
// button text on the primary colour at rest and on hover.
func contrastWarnings(text, background, buttonText, primary string) []string {
	if !validHex(text) || !validHex(background) || !validHex(buttonText) || !validHex(primary) {
		return nil
	}
	// The derived colours, as app.css's color-mix() rules make them.
	link := mixHex(primary, text, 0.82)
	muted := mixHex(text, background, 0.66)
	backdrop := mixHex(primary, mixHex(text, background, 0.03), 0.06)
	danger := mixHex("#dc2626", text, 0.74)
	hover := mixHex(primary, "#000000", 0.86)
	pairs := []struct{ what, fg, bg string }{
		{"Text on the background", text, background},
		{"Links on the background (such as \u201cForgot your password?\u201d)", link, background},
		{"Helper text on the background (hints under fields)", muted, background},
		{"Error messages on the background", danger, background},
		{"Links on the page around the card", link, backdrop},
		{"Helper text on the page around the card", muted, backdrop},
		{"Button text on the primary colour", buttonText, primary},
		{"Button text on the primary colour when pointed at", buttonText, hover},
	}
	var out []string
	for _, p := range pairs {
		if r, ok := contrastRatio(p.fg, p.bg); ok && r < wcagAA {
			out = append(out, p.what+" has a contrast of "+ratioText(r)+":1, below the 4.5:1 that WCAG 2.2 AA asks for; some customers will struggle to read it.")
		}
	}
	return out
}

func validHex(s string) bool { _, ok := luminance(s); return ok }

// mixHex is CSS color-mix(in srgb, a p, b): each channel interpolated in
// gamma-encoded sRGB and rounded. Both colours must be valid #rrggbb.
func mixHex(a, b string, p float64) string {
	out := []byte("#")
	for i := range 3 {
		x, _ := strconv.ParseUint(a[1+2*i:3+2*i], 16, 8)
		y, _ := strconv.ParseUint(b[1+2*i:3+2*i], 16, 8)
		v := uint64(math.Round(float64(x)*p + float64(y)*(1-p)))
		out = append(out, "0123456789abcdef"[v>>4], "0123456789abcdef"[v&15])
	}
	return string(out)
}

func ratioText(r float64) string { return strconv.FormatFloat(math.Floor(r*100)/100, 'f', 2, 64) }
