package oidc

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/google/uuid"
)

// verifiedTokens remembers which access tokens of which tenant had a good
// signature, so that a token presented again (every API call and userinfo
// request of an app presents the same one until it expires) costs a hash
// instead of an ES256 or RS256 verification. It remembers only the
// signature: the token's row is still read on every request, so a revoked
// token, a disabled customer or a deleted app is refused at once. An
// entry is kept per tenant (a token of tenant A is looked up only under
// A) and never past the token's own expiry.
type verifiedTokens struct {
	mu      sync.Mutex
	entries map[verifiedKey]accessClaims
}

type verifiedKey struct {
	tenant uuid.UUID
	sum    [sha256.Size]byte
}

// maxVerified bounds the memory a flood of distinct good tokens can take
// (about 200 bytes each). Only tokens whose signature verified get in, so
// nobody can fill it with forgeries.
const maxVerified = 20000

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{entries: map[verifiedKey]accessClaims{}}
}

func verifiedKeyOf(tenant uuid.UUID, raw string) verifiedKey {
	return verifiedKey{tenant: tenant, sum: sha256.Sum256([]byte(raw))}
}

// get returns the claims of a token of tenant whose signature verified
// earlier and which has not expired at now.
func (v *verifiedTokens) get(k verifiedKey, now time.Time) (accessClaims, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	cl, ok := v.entries[k]
	if !ok {
		return accessClaims{}, false
	}
	if cl.Expiry <= now.Unix() {
		delete(v.entries, k)
		return accessClaims{}, false
	}
	return cl, true
}

// put remembers a token whose signature has just verified. When the map is
// full the expired entries go first, and if that is not enough, all of them.
func (v *verifiedTokens) put(k verifiedKey, cl accessClaims, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.entries) >= maxVerified {
		for key, e := range v.entries {
			if e.Expiry <= now.Unix() {
				delete(v.entries, key)
			}
		}
		if len(v.entries) >= maxVerified {
			clear(v.entries)
		}
	}
	v.entries[k] = cl
}
