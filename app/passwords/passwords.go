// Package passwords hashes and checks passwords for customers and staff:
// argon2id in PHC format with the parameters SECURITY.md sets, behind a
// semaphore sized to the CPUs so an overload is refused rather than running
// the process out of memory, and the policy every new password must meet.
package passwords

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"gatehouse/apperr"
)

// Params are argon2id's cost settings.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default is OWASP's argon2id floor: 19 MiB, 2 passes, 1 lane.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes and verifies passwords, at most a fixed number at a time.
type Hasher struct {
	params Params
	slots  chan struct{}
	wait   time.Duration
	dummy  string // a real hash, verified against when the account is unknown
}

// NewHasher returns a hasher running at most concurrency hashes at once
// (0 means one per CPU). A caller that cannot get a slot within wait gets
// an Unavailable error to turn into a 503 with Retry-After.
func NewHasher(p Params, concurrency int, wait time.Duration) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	h := &Hasher{params: p, slots: make(chan struct{}, concurrency), wait: wait}
	h.dummy = h.hash("gatehouse-dummy-password", []byte("0123456789abcdef"))
	return h
}

// ErrBusy is returned when every hashing slot stayed taken for the wait.
var ErrBusy = apperr.New(apperr.Unavailable, "We are very busy right now. Please try again in a few seconds.")

func (h *Hasher) acquire(ctx context.Context) error {
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

type holdKey struct{}

// hold is a slot taken by Hold, until its release.
type hold struct {
	h        *Hasher
	released atomic.Bool
}

// Hold takes one hashing slot for the caller and returns a context under
// which this hasher's Hash, Verify and VerifyAny use that slot rather than
// queue for another, and the func that gives it back (safe to call twice).
// A login takes its slot before it opens a database transaction, so that
// requests queueing for the CPU never sit on a database connection.
func (h *Hasher) Hold(ctx context.Context) (context.Context, func(), error) {
	if err := h.acquire(ctx); err != nil {
		return ctx, func() {}, err
	}
	hd := &hold{h: h}
	release := func() {
		if hd.released.CompareAndSwap(false, true) {
			h.release()
		}
	}
	return context.WithValue(ctx, holdKey{}, hd), release, nil
}

// take gets a slot for one hash: the one ctx holds, if it holds one of
// this hasher's, else a fresh one. The func returned gives back what take
// took.
func (h *Hasher) take(ctx context.Context) (func(), error) {
	if hd, ok := ctx.Value(holdKey{}).(*hold); ok && hd.h == h && !hd.released.Load() {
		return func() {}, nil
	}
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	return h.release, nil
}

// Occupancy is the share of hashing slots taken right now, from 0 to 1:
// how hard interactive sign-ins are pressing on the CPUs (app/yield).
func (h *Hasher) Occupancy() float64 { return float64(len(h.slots)) / float64(cap(h.slots)) }

// Hash returns the PHC string of password with a fresh salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", apperr.Wrap(err, "read salt")
	}
	release, err := h.take(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return h.hash(password, salt), nil
}

func (h *Hasher) hash(password string, salt []byte) string {
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches encoded, and whether encoded
// should be replaced by a fresh hash because its parameters are not the
// current ones. An empty encoded (no password, an unknown account) still
// costs one hash, so timing does not tell accounts apart.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	release, err := h.take(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	if encoded == "" {
		h.verifyArgon(h.dummy, password)
		return false, false, nil
	}
	p, match, err := h.verifyArgon(encoded, password)
	if err != nil {
		// Not an argon2id hash we can read: spend the same time, and fail.
		h.verifyArgon(h.dummy, password)
		return false, false, nil
	}
	return match, match && p != h.params, nil
}

// verifyArgon checks password against a PHC argon2id string.
func (h *Hasher) verifyArgon(encoded, password string) (Params, bool, error) {
	p, salt, want, err := parseArgonID(encoded)
	if err != nil {
		return Params{}, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return p, subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parseArgonID reads a PHC argon2id string without hashing anything, so
// telling formats apart costs no argon2 run (and no memory).
func parseArgonID(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("not an argon2id PHC string")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, fmt.Errorf("bad argon2id parameters")
	}
	if p.Memory == 0 || p.Memory > 1<<20 || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return Params{}, nil, nil, fmt.Errorf("argon2id parameters out of range")
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("bad salt")
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return Params{}, nil, nil, fmt.Errorf("bad key")
	}
	return p, salt, key, nil
}

//go:embed common.txt
var commonList string

// Policy is what a new password must meet: a minimum length in code points
// (the tenant may raise it), at most MaxLength, and not on the common list.
// No composition rules and no expiry, as NIST SP 800-63B says.
type Policy struct {
	common map[string]struct{}
}

// MaxLength is the longest password accepted, in code points. Longer ones
// are refused, never truncated.
const MaxLength = 256

// NewPolicy loads the shipped common-password list once.
func NewPolicy() *Policy {
	lines := strings.Split(commonList, "\n")
	common := make(map[string]struct{}, len(lines))
	for _, l := range lines {
		if l != "" {
			common[l] = struct{}{}
		}
	}
	return &Policy{common: common}
}

// Check returns an Invalid error on field explaining why password is not
// acceptable, or nil.
func (p *Policy) Check(field, password string, minLength int, context ...string) error {
	if minLength < 8 {
		minLength = 8
	}
	if !utf8.ValidString(password) {
		return apperr.Field(field, "must be valid text")
	}
	n := utf8.RuneCountInString(password)
	if n < minLength {
		return apperr.Field(field, "must be at least %d characters long", minLength)
	}
	if n > MaxLength {
		return apperr.Field(field, "must be at most %d characters long", MaxLength)
	}
	lower := strings.ToLower(password)
	if _, ok := p.common[lower]; ok {
		return apperr.Field(field, "is one of the most commonly used passwords, which attackers try first; choose another")
	}
	for _, c := range context {
		if c != "" && strings.EqualFold(password, c) {
			return apperr.Field(field, "must not be the same as your email address")
		}
	}
	return nil
}
