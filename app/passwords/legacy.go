package passwords

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Legacy password hashes are the ones a brand brings from its old system,
// opted in per import. They are verified at login and replaced by an
// argon2id hash on the first success. Each format's cost parameters are
// bounded, so a crafted hash cannot make a login take minutes or
// gigabytes.
//
// Supported forms:
//   - bcrypt: $2a$, $2b$, $2y$ (cost 4-16);
//   - argon2i and argon2id in PHC form, $argon2i$v=19$m=…,t=…,p=…$salt$hash;
//   - PBKDF2 with SHA-1, SHA-256 or SHA-512: passlib's
//     $pbkdf2-sha256$29000$salt$hash (and $pbkdf2$ for SHA-1), the PHC
//     form $pbkdf2-sha256$i=29000,l=32$salt$hash, and Django's
//     pbkdf2_sha256$iterations$salt$hash and pbkdf2_sha1$…;
//   - scrypt: passlib/PHC $scrypt$ln=…,r=…,p=…$salt$hash and Django's
//     scrypt$N$salt$r$p$hash.

// ErrUnknownHash is returned for a hash in no supported format.
var ErrUnknownHash = errors.New("not a supported password hash: expected bcrypt ($2a$, $2b$, $2y$), argon2i/argon2id (PHC), PBKDF2 (PHC or Django pbkdf2_sha256$…) or scrypt")

// Bounds on legacy cost parameters.
const (
	maxBcryptCost     = 16
	maxPBKDF2Iter     = 10_000_000
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 16
	maxScryptMemory   = 1 << 30 // 128·N·r bytes
)

// legacyHash is a parsed legacy hash, ready to check a password against.
type legacyHash interface {
	verify(password string) bool
}

// IsLegacyFormat reports whether encoded looks like one of the legacy
// formats (whatever its parameters), as opposed to Gatehouse's own
// argon2id or nothing at all.
func IsLegacyFormat(encoded string) bool {
	switch {
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"),
		strings.HasPrefix(encoded, "$argon2i$"),
		strings.HasPrefix(encoded, "$pbkdf2"), strings.HasPrefix(encoded, "pbkdf2_"),
		strings.HasPrefix(encoded, "$scrypt$"), strings.HasPrefix(encoded, "scrypt$"):
		return true
	case strings.HasPrefix(encoded, "$argon2id$"):
		// Gatehouse's own hasher reads argon2id; only a form it refuses is legacy.
		_, _, _, err := parseArgonID(encoded)
		return err != nil
	}
	return false
}

// CheckImportable returns nil when encoded is a hash Gatehouse can verify
// at login (its own argon2id or a legacy format with parameters in range),
// and otherwise an error saying what is wrong, for an import's error report.
func CheckImportable(encoded string) error {
	if strings.HasPrefix(encoded, "$argon2id$") {
		if _, _, _, err := parseArgonID(encoded); err == nil {
			return nil
		}
	}
	_, err := parseLegacy(encoded)
	return err
}

// VerifyLegacy reports whether password matches a legacy hash. A hash in
// no supported format, or a malformed one, is an error.
func VerifyLegacy(encoded, password string) (bool, error) {
	h, err := parseLegacy(encoded)
	if err != nil {
		return false, err
	}
	return h.verify(password), nil
}

// VerifyAny checks password against Gatehouse's own argon2id hashes and,
// for customers imported with legacy hashes, against those. A match on a
// legacy hash always asks for a rehash, so the account moves to argon2id
// at its first successful login. Legacy checks take a hashing slot like
// any other. It is the drop-in replacement for Verify at customer login.
func (h *Hasher) VerifyAny(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	if !IsLegacyFormat(encoded) {
		return h.Verify(ctx, encoded, password)
	}
	lh, perr := parseLegacy(encoded)
	release, err := h.take(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	if perr != nil {
		// Unreadable: spend the time of a real check, and fail.
		h.verifyArgon(h.dummy, password)
		return false, false, nil
	}
	match := lh.verify(password)
	return match, match, nil
}

func parseLegacy(encoded string) (legacyHash, error) {
	switch {
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return parseBcrypt(encoded)
	case strings.HasPrefix(encoded, "$argon2i$"), strings.HasPrefix(encoded, "$argon2id$"):
		return parseArgon(encoded)
	case strings.HasPrefix(encoded, "$pbkdf2"):
		return parsePBKDF2PHC(encoded)
	case strings.HasPrefix(encoded, "pbkdf2_"):
		return parsePBKDF2Django(encoded)
	case strings.HasPrefix(encoded, "$scrypt$"):
		return parseScryptPHC(encoded)
	case strings.HasPrefix(encoded, "scrypt$"):
		return parseScryptDjango(encoded)
	}
	return nil, ErrUnknownHash
}

func malformed(format, why string) error {
	return fmt.Errorf("malformed %s hash: %s", format, why)
}

// --- bcrypt ---

type bcryptHash []byte

func parseBcrypt(encoded string) (legacyHash, error) {
	if len(encoded) != 60 {
		return nil, malformed("bcrypt", fmt.Sprintf("it has %d characters, not 60", len(encoded)))
	}
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return nil, malformed("bcrypt", "the cost is not a number from 4 to 31")
	}
	if cost > maxBcryptCost {
		return nil, malformed("bcrypt", fmt.Sprintf("cost %d is above the %d Gatehouse accepts", cost, maxBcryptCost))
	}
	for _, c := range encoded[7:] {
		if !strings.ContainsRune("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", c) {
			return nil, malformed("bcrypt", "it holds characters outside bcrypt's alphabet")
		}
	}
	return bcryptHash(encoded), nil
}

func (b bcryptHash) verify(password string) bool {
	// bcrypt implementations read at most 72 bytes; the legacy system
	// hashed exactly those, so compare exactly those.
	p := []byte(password)
	if len(p) > 72 {
		p = p[:72]
	}
	return bcrypt.CompareHashAndPassword(b, p) == nil
}

// --- argon2 ---

type argonHash struct {
	id           bool
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseArgon(encoded string) (legacyHash, error) {
	parts := strings.Split(encoded, "$")
	name := "argon2"
	if len(parts) > 1 {
		name = parts[1]
	}
	if len(parts) != 6 {
		return nil, malformed(name, "expected $"+name+"$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[2] != "v=19" {
		return nil, malformed(name, fmt.Sprintf("version %q is not supported; only v=19 is", parts[2]))
	}
	var h argonHash
	h.id = parts[1] == "argon2id"
	var m, t, p uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, malformed(name, fmt.Sprintf("parameter %q is not a number", kv))
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		default:
			return nil, malformed(name, fmt.Sprintf("unknown parameter %q", k))
		}
	}
	if m == 0 || t == 0 || p == 0 || p > 255 || m < 8*p {
		return nil, malformed(name, "m, t and p must all be given and m ≥ 8·p")
	}
	if m > maxArgonMemoryKiB || t > maxArgonTime {
		return nil, malformed(name, fmt.Sprintf("m=%d,t=%d is above the limits Gatehouse accepts (m ≤ %d, t ≤ %d)", m, t, maxArgonMemoryKiB, maxArgonTime))
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(p)
	var err error
	if h.salt, err = b64(parts[4]); err != nil || len(h.salt) < 8 {
		return nil, malformed(name, "the salt is not base64 of at least 8 bytes")
	}
	if h.key, err = b64(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 128 {
		return nil, malformed(name, "the hash is not base64 of 16 to 128 bytes")
	}
	return h, nil
}

func (h argonHash) verify(password string) bool {
	var got []byte
	if h.id {
		got = argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	} else {
		got = argon2.Key([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	}
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// --- PBKDF2 ---

type pbkdf2Hash struct {
	h     func() hash.Hash
	iter  int
	salt  []byte
	key   []byte
	label string
}

func digestOf(name string) (func() hash.Hash, bool) {
	switch name {
	case "sha1", "":
		return sha1.New, true
	case "sha256":
		return sha256.New, true
	case "sha512":
		return sha512.New, true
	}
	return nil, false
}

// parsePBKDF2PHC reads $pbkdf2-sha256$29000$salt$hash (passlib, "adapted"
// base64 with . for +) and $pbkdf2-sha256$i=29000,l=32$salt$hash (PHC).
func parsePBKDF2PHC(encoded string) (legacyHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 {
		return nil, malformed("PBKDF2", "expected $pbkdf2-sha256$iterations$salt$hash")
	}
	alg, _ := strings.CutPrefix(parts[1], "pbkdf2")
	alg = strings.TrimPrefix(alg, "-")
	h, ok := digestOf(alg)
	if !ok {
		return nil, malformed("PBKDF2", fmt.Sprintf("digest %q is not sha1, sha256 or sha512", alg))
	}
	iter := 0
	if n, err := strconv.Atoi(parts[2]); err == nil {
		iter = n
	} else {
		for _, kv := range strings.Split(parts[2], ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "i" {
				iter, _ = strconv.Atoi(v)
			}
		}
	}
	salt, err := b64(parts[3])
	if err != nil {
		return nil, malformed("PBKDF2", "the salt is not base64")
	}
	key, err := b64(parts[4])
	if err != nil {
		return nil, malformed("PBKDF2", "the hash is not base64")
	}
	return checkPBKDF2(pbkdf2Hash{h: h, iter: iter, salt: salt, key: key, label: "PBKDF2"})
}

// parsePBKDF2Django reads Django's pbkdf2_sha256$iterations$salt$hash,
// whose salt is used as written and whose hash is padded base64.
func parsePBKDF2Django(encoded string) (legacyHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 {
		return nil, malformed("Django PBKDF2", "expected pbkdf2_sha256$iterations$salt$hash")
	}
	h, ok := digestOf(strings.TrimPrefix(parts[0], "pbkdf2_"))
	if !ok {
		return nil, malformed("Django PBKDF2", fmt.Sprintf("%q is not pbkdf2_sha1, pbkdf2_sha256 or pbkdf2_sha512", parts[0]))
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil {
		return nil, malformed("Django PBKDF2", "the iteration count is not a number")
	}
	key, err := b64(parts[3])
	if err != nil {
		return nil, malformed("Django PBKDF2", "the hash is not base64")
	}
	if parts[2] == "" {
		return nil, malformed("Django PBKDF2", "the salt is empty")
	}
	return checkPBKDF2(pbkdf2Hash{h: h, iter: iter, salt: []byte(parts[2]), key: key, label: "Django PBKDF2"})
}

func checkPBKDF2(p pbkdf2Hash) (legacyHash, error) {
	if p.iter < 1 || p.iter > maxPBKDF2Iter {
		return nil, malformed(p.label, fmt.Sprintf("%d iterations is outside 1 to %d", p.iter, maxPBKDF2Iter))
	}
	if len(p.key) < 16 || len(p.key) > 128 {
		return nil, malformed(p.label, "the hash must be 16 to 128 bytes")
	}
	if len(p.salt) == 0 {
		return nil, malformed(p.label, "the salt is empty")
	}
	return p, nil
}

func (p pbkdf2Hash) verify(password string) bool {
	got, err := pbkdf2.Key(p.h, password, p.salt, p.iter, len(p.key))
	return err == nil && subtle.ConstantTimeCompare(got, p.key) == 1
}

// --- scrypt ---

type scryptHash struct {
	n, r, p   int
	salt, key []byte
}

// parseScryptPHC reads $scrypt$ln=16,r=8,p=1$salt$hash.
func parseScryptPHC(encoded string) (legacyHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 {
		return nil, malformed("scrypt", "expected $scrypt$ln=…,r=…,p=…$salt$hash")
	}
	var s scryptHash
	for _, kv := range strings.Split(parts[2], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, malformed("scrypt", fmt.Sprintf("parameter %q is not a number", kv))
		}
		switch k {
		case "ln":
			if n < 1 || n > 30 {
				return nil, malformed("scrypt", "ln must be 1 to 30")
			}
			s.n = 1 << n
		case "r":
			s.r = n
		case "p":
			s.p = n
		default:
			return nil, malformed("scrypt", fmt.Sprintf("unknown parameter %q", k))
		}
	}
	var err error
	if s.salt, err = b64(parts[3]); err != nil || len(s.salt) == 0 {
		return nil, malformed("scrypt", "the salt is not base64")
	}
	if s.key, err = b64(parts[4]); err != nil {
		return nil, malformed("scrypt", "the hash is not base64")
	}
	return checkScrypt(s)
}

// parseScryptDjango reads Django's scrypt$N$salt$r$p$hash.
func parseScryptDjango(encoded string) (legacyHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return nil, malformed("Django scrypt", "expected scrypt$N$salt$r$p$hash")
	}
	var s scryptHash
	var err1, err2, err3 error
	s.n, err1 = strconv.Atoi(parts[1])
	s.r, err2 = strconv.Atoi(parts[3])
	s.p, err3 = strconv.Atoi(parts[4])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, malformed("Django scrypt", "N, r and p must be numbers")
	}
	if parts[2] == "" {
		return nil, malformed("Django scrypt", "the salt is empty")
	}
	s.salt = []byte(parts[2])
	var err error
	if s.key, err = b64(parts[5]); err != nil {
		return nil, malformed("Django scrypt", "the hash is not base64")
	}
	return checkScrypt(s)
}

func checkScrypt(s scryptHash) (legacyHash, error) {
	if s.n < 2 || s.n&(s.n-1) != 0 {
		return nil, malformed("scrypt", "N must be a power of two")
	}
	if s.r < 1 || s.r > 32 || s.p < 1 || s.p > 16 {
		return nil, malformed("scrypt", "r must be 1 to 32 and p 1 to 16")
	}
	if int64(128)*int64(s.n)*int64(s.r) > maxScryptMemory || s.n > 1<<20 {
		return nil, malformed("scrypt", "N and r ask for more memory than Gatehouse allows (1 GiB)")
	}
	if len(s.key) < 16 || len(s.key) > 128 {
		return nil, malformed("scrypt", "the hash must be 16 to 128 bytes")
	}
	return s, nil
}

func (s scryptHash) verify(password string) bool {
	got, err := scrypt.Key([]byte(password), s.salt, s.n, s.r, s.p, len(s.key))
	return err == nil && subtle.ConstantTimeCompare(got, s.key) == 1
}

// b64 decodes the base64 dialects password hashes use: standard or URL
// alphabet, padded or not, and passlib's "adapted" alphabet with . for +.
func b64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.ReplaceAll(s, ".", "+")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
