package imports_test

import (
	"math/rand"
	"testing"

	"gatehouse/app/accounts"
	"gatehouse/app/imports"
)

// TestPlainEmail checks the import's fast path for ordinary addresses
// against accounts.NormalizeEmail: whatever it accepts, NormalizeEmail
// accepts and normalises the same way, and it does accept the usual
// addresses (else it saves nothing).
func TestPlainEmail(t *testing.T) {
	for _, s := range []string{"ann@example.com", "Ann.Lee+shop@Mail.Example.CO.UK", "o'neil@example.ie", "x-y_z@sub-domain.example.org", "customer0000001@example.com"} {
		got, ok := imports.PlainEmail(s)
		want, err := accounts.NormalizeEmail(s)
		if !ok || err != nil || got != want {
			t.Errorf("PlainEmail(%q) = %q, %v; NormalizeEmail: %q, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"", "@example.com", "ann@", "ann@example", "ann@@example.com", ".ann@example.com", "ann.@example.com", "a..b@example.com",
		"ann@example..com", "ann@.example.com", "ann@example.com.", `"ann"@example.com`, "ann lee@example.com", "Ann <ann@example.com>", "ann@[127.0.0.1]",
		"ann@exa_mple.com", "änn@example.com", "ann@example.com (Ann)"} {
		if got, ok := imports.PlainEmail(s); ok {
			t.Errorf("PlainEmail(%q) = %q: should leave it to NormalizeEmail", s, got)
		}
	}
	// Random addresses, mostly near-valid, over alphabets rich in what
	// matters to RFC 5322.
	const tricky = "aZ09.@-_+'\"<>()[] ,;:\\!#~é\t"
	r := rand.New(rand.NewSource(1))
	pick := func(alphabet string, n int) string {
		b := make([]byte, n)
		for j := range b {
			if r.Intn(20) == 0 {
				b[j] = tricky[r.Intn(len(tricky))]
			} else {
				b[j] = alphabet[r.Intn(len(alphabet))]
			}
		}
		return string(b)
	}
	accepted := 0
	for i := 0; i < 200_000; i++ {
		s := pick("aZ09.-_+'!#~", 1+r.Intn(8)) + "@" + pick("aZ09.-", 1+r.Intn(10))
		got, ok := imports.PlainEmail(s)
		if !ok {
			continue
		}
		accepted++
		want, err := accounts.NormalizeEmail(s)
		if err != nil || got != want {
			t.Fatalf("PlainEmail(%q) = %q; NormalizeEmail: %q, %v", s, got, want, err)
		}
	}
	if accepted < 10_000 {
		t.Fatalf("only %d random strings were plain addresses: the check above tested little", accepted)
	}
}
