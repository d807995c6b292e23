package oidc

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestVerifiedTokens: a remembered signature is found only under the
// tenant it was verified for, and never once the token has expired; a
// full cache makes room rather than growing.
func TestVerifiedTokens(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	acme, bravo := uuid.New(), uuid.New()
	v := newVerifiedTokens()
	v.put(verifiedKeyOf(acme, "tok"), accessClaims{JTI: "1", Expiry: now.Add(time.Minute).Unix()}, now)

	t.Run("ok", func(t *testing.T) {
		if cl, ok := v.get(verifiedKeyOf(acme, "tok"), now); !ok || cl.JTI != "1" {
			t.Fatalf("got %v %v", cl, ok)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		if _, ok := v.get(verifiedKeyOf(bravo, "tok"), now); ok {
			t.Fatal("acme's token found under bravo")
		}
	})
	t.Run("other token", func(t *testing.T) {
		if _, ok := v.get(verifiedKeyOf(acme, "tok2"), now); ok {
			t.Fatal("found a token never verified")
		}
	})
	t.Run("expired", func(t *testing.T) {
		if _, ok := v.get(verifiedKeyOf(acme, "tok"), now.Add(time.Minute)); ok {
			t.Fatal("found at its expiry")
		}
		if _, ok := v.get(verifiedKeyOf(acme, "tok"), now); ok {
			t.Fatal("an expired entry was kept")
		}
	})
	t.Run("full", func(t *testing.T) {
		for i := range maxVerified + 10 {
			v.put(verifiedKeyOf(acme, uuid.NewString()), accessClaims{JTI: string(rune(i)), Expiry: now.Add(time.Hour).Unix()}, now)
		}
		if n := len(v.entries); n > maxVerified {
			t.Fatalf("%d entries, more than %d", n, maxVerified)
		}
	})
}
