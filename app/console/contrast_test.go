package console

import (
	"math"
	"strings"
	"testing"
)

func TestContrastRatio(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
		ok   bool
	}{
		{"#000000", "#ffffff", 21, true},
		{"#ffffff", "#ffffff", 1, true},
		{"#777777", "#ffffff", 4.48, true}, // the classic just-fails grey
		{"#767676", "#ffffff", 4.54, true}, // the classic just-passes grey
		{"#4f46e5", "#ffffff", 6.29, true}, // the default primary with white text
		{"red", "#ffffff", 0, false},
		{"#ggg000", "#ffffff", 0, false},
	} {
		got, ok := contrastRatio(c.a, c.b)
		if ok != c.ok || math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.2f %v, want %.2f %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestContrastWarnings(t *testing.T) {
	if w := contrastWarnings("#111827", "#f5f7fb", "#ffffff", "#4f46e5"); len(w) != 0 {
		t.Fatalf("the default theme warns: %v", w)
	}
	if w := contrastWarnings("#aaaaaa", "#ffffff", "#ffffff", "#4f46e5"); len(w) == 0 || !strings.HasPrefix(w[0], "Text on the background") {
		t.Fatalf("light grey text: %v", w)
	}
	// A yellow primary fails the button text at rest and on hover, and
	// makes links (derived from the primary) unreadable on white.
	w := contrastWarnings("#111827", "#ffffff", "#ffffff", "#fde047")
	joined := strings.Join(w, "\n")
	for _, want := range []string{"Links on the background", "Button text on the primary colour has", "Links on the page around the card"} {
		if !strings.Contains(joined, want) {
			t.Errorf("#fde047 primary: no warning about %q in:\n%s", want, joined)
		}
	}
	// Dark button text on yellow fixes the buttons, not the links.
	w = contrastWarnings("#111827", "#ffffff", "#111827", "#fde047")
	if joined := strings.Join(w, "\n"); strings.Contains(joined, "Button text") || !strings.Contains(joined, "Links on the background") {
		t.Errorf("#fde047 with dark button text:\n%s", joined)
	}
	// Grey helper text: text #6b7280 passes on white, its 66% mix does not.
	if joined := strings.Join(contrastWarnings("#6b7280", "#ffffff", "#ffffff", "#4f46e5"), "\n"); !strings.Contains(joined, "Helper text on the background") {
		t.Errorf("grey text's helper text:\n%s", joined)
	}
	if got := mixHex("#fde047", "#111827", 0.82); got != "#d3bc41" {
		t.Errorf("mixHex = %s, want #d3bc41 (color-mix in srgb, rounded)", got)
	}
}
