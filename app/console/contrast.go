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

// contrastWarnings says which of the theme's two text pairs fall below
// WCAG AA: body text on the background, and button text on the primary.
func contrastWarnings(text, background, buttonText, primary string) []string {
	var out []string
	if r, ok := contrastRatio(text, background); ok && r < wcagAA {
		out = append(out, "Text on the background has a contrast of "+ratioText(r)+":1, below the 4.5:1 that WCAG AA asks for; some customers will struggle to read it.")
	}
	if r, ok := contrastRatio(buttonText, primary); ok && r < wcagAA {
		out = append(out, "Button text on the primary colour has a contrast of "+ratioText(r)+":1, below the 4.5:1 that WCAG AA asks for.")
	}
	return out
}

func ratioText(r float64) string { return strconv.FormatFloat(math.Floor(r*100)/100, 'f', 2, 64) }
