package web

import "testing"

func TestSafeReturnTo(t *testing.T) {
	tests := []struct {
		in   string
		safe bool
	}{
		{"/account", true},
		{"/account?tab=profile#x", true},
		{"/oauth/authorize?client_id=a&redirect_uri=https%3A%2F%2Fapp.example", true},
		{"", false},
		{"account", false},
		{"https://evil.example/", false},
		{"//evil.example/", false},
		{"/\\evil.example/", false},
		{"/%2F%2Fevil.example", false}, // harmless in a browser, but refused: decoded it reads as a network path
		{"/a b", false},
		{"/a\nb", false},
		{"/a\tb", false},
		{"javascript:alert(1)", false},
		{"/javascript:alert(1)", true},
		{"\\\\evil.example", false},
		{"/" + string(make([]byte, 2001)), false},
	}
	for _, tt := range tests {
		got := SafeReturnTo(tt.in)
		if (got != "") != tt.safe {
			t.Errorf("SafeReturnTo(%q) = %q, want safe=%v", tt.in, got, tt.safe)
		}
	}
}

// FuzzSafeReturnTo checks that anything accepted is a same-host path that a
// browser resolves against the current origin.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/account", "//x", "/\\x", "https://x", "/a?b=c#d", "/%2f%2fx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeReturnTo(in)
		if out == "" {
			return
		}
		if out != in || out[0] != '/' || (len(out) > 1 && (out[1] == '/' || out[1] == '\\')) {
			t.Fatalf("SafeReturnTo(%q) = %q", in, out)
		}
		for i := 0; i < len(out); i++ {
			if out[i] < 0x21 || out[i] == 0x7f || out[i] == '\\' {
				t.Fatalf("SafeReturnTo(%q) kept byte %#x", in, out[i])
			}
		}
	})
}
