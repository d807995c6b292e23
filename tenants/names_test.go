package tenants

import (
	"strconv"
	"strings"
	"testing"

	"gatehouse/apperr"
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
		{"shop", false},
		{"coffee-shop", true},
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
		"demo.localhost:8080.evil.com":       "",
		"demo.localhost:0":                   "",
	}
	for in, want := range tests {
		if got := NormalizeHost(in); got != want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseHost(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error // nil: well formed
	}{
		{"bare name", "demo.localhost", "demo.localhost", nil},
		{"name and port", "Demo.LocalHost:8080", "demo.localhost", nil},
		{"trailing dot and port", "login.acme.test.:443", "login.acme.test", nil},
		{"lowest port", "demo.localhost:1", "demo.localhost", nil},
		{"highest port", "demo.localhost:65535", "demo.localhost", nil},
		{"IPv4 and port", "10.0.0.7:8080", "10.0.0.7", nil},
		{"IPv6 names no tenant", "[::1]:8080", "", nil},
		{"bare IPv6 names no tenant", "[2001:db8::1]", "", nil},
		{"no Host names no tenant", "", "", nil},
		{"name after the port", "demo.localhost:8080.evil.com", "", errHostPort},
		{"letters for a port", "demo.localhost:http", "", errHostPort},
		{"empty port", "demo.localhost:", "", errHostPort},
		{"port zero", "demo.localhost:0", "", errHostPort},
		{"port out of range", "demo.localhost:65536", "", errHostPort},
		{"six-digit port", "demo.localhost:000080", "", errHostPort},
		{"signed port", "demo.localhost:+80", "", errHostPort},
		{"two ports", "demo.localhost:80:80", "", errHostPort},
		{"IPv6 with a bad port", "[::1]:80x", "", errHostPort},
		{"port and no name", ":8080", "", errHostName},
		{"underscore", "bad_host.example", "", errHostName},
		{"empty label", "a..b:80", "", errHostName},
		{"path", "evil.com/path", "", errHostName},
		{"userinfo", "user@demo.localhost", "", errHostName},
		{"unbracketed IPv6", "::1", "", errHostPort},
		{"IPv6 zone", "[fe80::1%25eth0]:80", "", errHostName},
		{"not an address in brackets", "[demo.localhost]:80", "", errHostName},
		{"text after the bracket", "[::1]x", "", errHostName},
		{"unclosed bracket", "[::1:80", "", errHostName},
		{"label too long", strings.Repeat("a", 64) + ".example:80", "", errHostName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHost(tt.in)
			if got != tt.want || err != tt.err {
				t.Fatalf("ParseHost(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
			}
			if e, _ := apperr.As(err); err != nil && (e == nil || e.Code != apperr.Invalid || e.Field != "Host") {
				t.Fatalf("ParseHost(%q): %v is not an Invalid error naming Host", tt.in, err)
			}
			if n := NormalizeHost(tt.in); n != got {
				t.Fatalf("NormalizeHost(%q) = %q, ParseHost says %q", tt.in, n, got)
			}
		})
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
		if name, _ := ParseHost(in); name != out {
			t.Fatalf("NormalizeHost(%q) = %q, ParseHost says %q", in, out, name)
		}
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

// FuzzParseHost checks ParseHost against a plain statement of what it
// accepts: a header it takes as a tenant name is that name (in any case),
// then an optional trailing dot, then nothing or a colon and a decimal port
// from 1 to 65535. Anything else that it calls well formed names no tenant.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"demo.localhost:8080", "demo.localhost:8080.evil.com", "A.B.:443", "[::1]:80",
		"x..y", "demo.localhost:", "demo.localhost:65536", ":80", "10.0.0.1:1", "[fe80::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name, err := ParseHost(in)
		if err != nil {
			if name != "" {
				t.Fatalf("ParseHost(%q) refused it but named %q", in, name)
			}
			return
		}
		if name == "" {
			if in != "" && !strings.HasPrefix(in, "[") {
				t.Fatalf("ParseHost(%q) accepted a header that is neither empty nor IPv6 and names nothing", in)
			}
			return
		}
		rest, ok := strings.CutPrefix(strings.ToLower(in), name)
		if !ok || name != strings.ToLower(in[:len(name)]) {
			t.Fatalf("ParseHost(%q) = %q, which does not begin the header", in, name)
		}
		rest = strings.TrimPrefix(rest, ".")
		if rest == "" {
			return
		}
		port, ok := strings.CutPrefix(rest, ":")
		n, err := strconv.Atoi(port)
		if !ok || err != nil || n < 1 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			t.Fatalf("ParseHost(%q) = %q, but %q follows the name", in, name, rest)
		}
	})
}
