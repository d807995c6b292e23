package console

import (
	"math"
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
	if w := contrastWarnings("#aaaaaa", "#ffffff", "#ffffff", "#4f46e5"); len(w) != 1 {
		t.Fatalf("light grey text: %v", w)
	}
	if w := contrastWarnings("#111827", "#ffffff", "#ffffff", "#ffff00"); len(w) != 1 {
		t.Fatalf("white on yellow button: %v", w)
	}
}
