package tenants

import (
	"strings"
	"testing"

	"gatehouse/app/apperr"
)

func TestValidateSlug(t *testing.T) {
	tests := []struct {
		slug string
		ok   bool
	}{
		{"acme", true},
		{"a1", true},
		{"acme-coffee-2", true},
		{strings.Repeat("a", 40), true},
		{"a", false},
		{strings.Repeat("a", 41), false},
		{"Bad Slug", false},
		{"ACME", false},
		{"acme_coffee", false},
		{"-acme", false},
		{"acme-", false},
		{"console", false},
		{"www", false},
		{"api", false},
		{"admin", false},
		{"static", false},
		{"acmé", false},
	}
	for _, tt := range tests {
		err := ValidateSlug(tt.slug)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateSlug(%q) = %v, want ok=%v", tt.slug, err, tt.ok)
		}
		if err != nil {
			if e, _ := apperr.As(err); e == nil || e.Field != "slug" {
				t.Errorf("ValidateSlug(%q): error %v does not name the slug field", tt.slug, err)
			}
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := map[string]string{
		"demo.localhost:8080":                "demo.localhost",
		"Demo.LocalHost":                     "demo.localhost",
		"login.acme.test.":                   "login.acme.test",
		"login.acme.test.:443":               "login.acme.test",
		"":                                   "",
		"a..b":                               "",
		".a":                                 "",
		"bad_host.example":                   "",
		"evil.com/path":                      "",
		"[::1]:8080":                         "",
		"x" + strings.Repeat(".y", 200):      "",
		strings.Repeat("a", 64) + ".example": "",
	}
	for in, want := range tests {
		if got := NormalizeHost(in); got != want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateDomain(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"login.acme.test", "login.acme.test", true},
		{"  Login.Acme.Test ", "login.acme.test", true},
		{"acme", "", false},
		{"https://login.acme.test", "", false},
		{"login.acme.test:8443", "", false},
		{"login.acme.test/path", "", false},
		{"-bad.acme.test", "", false},
		{"10.0.0.1", "", false},
		{"acme.localhost", "", false},
		{"localhost", "", false},
	}
	for _, tt := range tests {
		got, err := ValidateDomain(tt.in, "localhost")
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ValidateDomain(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzNormalizeHost checks that whatever a client puts in Host, the result
// is either rejected or a plain lower-case DNS name that normalises to itself.
func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"demo.localhost:8080", "A.B.", "[::1]:80", "x..y", "ü.example", "a-b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := NormalizeHost(in)
		if out == "" {
			return
		}
		if NormalizeHost(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, NormalizeHost(out))
		}
		for _, r := range out {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
				t.Fatalf("%q -> %q holds %q", in, out, r)
			}
		}
	})
}
