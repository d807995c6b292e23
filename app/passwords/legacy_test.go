package passwords

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Vectors made by other implementations: PHP's password_hash (bcrypt
// $2y$, from the PHP manual) and Python's hashlib/OpenSSL (PBKDF2, scrypt)
// written in Django's and passlib's formats.
const legacyPassword = "correct horse battery"

var legacyVectors = []struct {
	name, hash, password string
}{
	{"argon2i (PHP)", "$argon2i$v=19$m=1024,t=2,p=2$YzJBSzV4TUhkMzc3d3laeg$zqU/1IN0/AogfP4cmSJI1vc8lpXRW9/S0sYY2i2jHT0", "rasmuslerdorf"},
	{"bcrypt 2y (PHP)", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf"},
	{"django pbkdf2_sha256", "pbkdf2_sha256$1000$seasalt$DrdiWD40lyBuydnjvZiDrdQMx1S1mOA9O0QYex0R6ww=", legacyPassword},
	{"django pbkdf2_sha1", "pbkdf2_sha1$1000$seasalt$LPTbYn9/9ALjztx0Dtq5V+DLYLg=", legacyPassword},
	{"passlib pbkdf2-sha256", "$pbkdf2-sha256$1000$AQIDBAUGBwgJCgsMDQ4PEA$OZisqJloVWQ/xF8cg5vJoGqp86fPH5Ob3F8cZLPh8Zs", legacyPassword},
	{"passlib pbkdf2 (sha1)", "$pbkdf2$1000$AQIDBAUGBwgJCgsMDQ4PEA$5PM.Zen1DSQs25dD1sgBr.v5JZY", legacyPassword},
	{"phc pbkdf2-sha512", "$pbkdf2-sha512$i=1000,l=64$AQIDBAUGBwgJCgsMDQ4PEA$FqGPPZsHYNoZ7voU8eUI1Oom+nVJtSix4ejbLoOnr/NnmVrwQas6d78yCgKjNORvJfDsQ2aTCYd3bsDyBjh3vg", legacyPassword},
	{"passlib scrypt", "$scrypt$ln=10,r=8,p=1$AQIDBAUGBwgJCgsMDQ4PEA$a56cMwd8HVAfRmojkkAR0z2hOLB9cXfHCZKONM6dq5o", legacyPassword},
	{"django scrypt", "scrypt$1024$seasalt$8$1$fTwdYrxXK5/OG6iyAYN++CxTZgMb6MHXR6rhVXIgSHjQ7FiXuVEFz4EvVUsmygTk21KAcS7joGurlDlxzzruZA==", legacyPassword},
}

func TestVerifyLegacy(t *testing.T) {
	vectors := legacyVectors
	b2a, _ := bcrypt.GenerateFromPassword([]byte(legacyPassword), 4)
	b2b := "$2b$" + string(b2a[4:])
	vectors = append(vectors,
		struct{ name, hash, password string }{"bcrypt 2a", string(b2a), legacyPassword},
		struct{ name, hash, password string }{"bcrypt 2b", b2b, legacyPassword},
		struct{ name, hash, password string }{"argon2i", argonOf(t, false, legacyPassword), legacyPassword},
		struct{ name, hash, password string }{"argon2id with other parameters", argonOf(t, true, legacyPassword), legacyPassword},
	)
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if err := CheckImportable(v.hash); err != nil {
				t.Fatalf("CheckImportable: %v", err)
			}
			ok, err := VerifyLegacy(v.hash, v.password)
			if err != nil || !ok {
				t.Fatalf("right password: ok=%v err=%v", ok, err)
			}
			ok, err = VerifyLegacy(v.hash, v.password+"x")
			if err != nil || ok {
				t.Fatalf("wrong password: ok=%v err=%v", ok, err)
			}
		})
	}
}

// argonOf makes an argon2 PHC string with parameters unlike Gatehouse's.
func argonOf(t *testing.T, id bool, password string) string {
	t.Helper()
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 1, time.Second)
	s, err := h.Hash(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	if id {
		return s
	}
	// Recompute as argon2i with the same salt.
	parts := strings.Split(s, "$")
	salt, _ := b64(parts[4])
	ah := argonHash{memory: 64, time: 1, threads: 1, salt: salt, key: make([]byte, 32)}
	copy(ah.key, argonKeyI(password, salt))
	return "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + b64enc(ah.key)
}

func TestCheckImportableRejects(t *testing.T) {
	cases := []struct{ name, hash, want string }{
		{"plain text", "hunter2", "not a supported password hash"},
		{"md5 crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "not a supported password hash"},
		{"sha1 hex", "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "not a supported password hash"},
		{"bcrypt too short", "$2b$10$abc", "malformed bcrypt hash: it has 10 characters, not 60"},
		{"bcrypt cost too high", "$2b$20$" + strings.Repeat("a", 53), "cost 20 is above the 16"},
		{"bcrypt bad alphabet", "$2b$10$" + strings.Repeat("!", 53), "outside bcrypt's alphabet"},
		{"argon2 old version", "$argon2i$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", `version "v=16" is not supported`},
		{"argon2 huge memory", "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "above the limits"},
		{"argon2 missing parts", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ", "expected $argon2id$v=19"},
		{"pbkdf2 unknown digest", "$pbkdf2-md5$1000$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", `digest "md5"`},
		{"pbkdf2 too many iterations", "pbkdf2_sha256$99999999$salt$DrdiWD40lyBuydnjvZiDrdQMx1S1mOA9O0QYex0R6ww=", "outside 1 to 10000000"},
		{"pbkdf2 bad base64", "pbkdf2_sha256$1000$salt$***", "the hash is not base64"},
		{"scrypt N not a power of two", "scrypt$1000$salt$8$1$fTwdYrxXK5/OG6iyAYN++CxTZgMb6MHXR6rhVXIgSHg=", "N must be a power of two"},
		{"scrypt too much memory", "$scrypt$ln=24,r=8,p=1$c2FsdA$a56cMwd8HVAfRmojkkAR0z2hOLB9cXfHCZKONM6dq5o", "more memory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckImportable(tc.hash)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckImportable(%q) = %v, want %q", tc.hash, err, tc.want)
			}
			if ok, err := VerifyLegacy(tc.hash, "x"); ok || err == nil {
				t.Fatalf("VerifyLegacy = %v, %v; want an error", ok, err)
			}
		})
	}
}

func TestIsLegacyFormat(t *testing.T) {
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 1, time.Second)
	own, _ := h.Hash(context.Background(), "x")
	if IsLegacyFormat(own) || IsLegacyFormat("") || IsLegacyFormat("plain") {
		t.Fatal("own argon2id, empty or plain text reported as legacy")
	}
	for _, v := range legacyVectors {
		if !IsLegacyFormat(v.hash) {
			t.Errorf("%s not reported as legacy", v.name)
		}
	}
	if err := CheckImportable(own); err != nil {
		t.Fatalf("own argon2id is not importable: %v", err)
	}
}

func TestVerifyAnyRehashesLegacy(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 1, time.Second)
	bc, _ := bcrypt.GenerateFromPassword([]byte("s3cret-enough"), 4)
	ok, rehash, err := h.VerifyAny(ctx, string(bc), "s3cret-enough")
	if err != nil || !ok || !rehash {
		t.Fatalf("legacy match: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	ok, rehash, err = h.VerifyAny(ctx, string(bc), "wrong")
	if err != nil || ok || rehash {
		t.Fatalf("legacy mismatch: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	own, _ := h.Hash(ctx, "s3cret-enough")
	ok, rehash, err = h.VerifyAny(ctx, own, "s3cret-enough")
	if err != nil || !ok || rehash {
		t.Fatalf("own hash: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	ok, _, err = h.VerifyAny(ctx, "$2b$99$broken", "x")
	if err != nil || ok {
		t.Fatalf("malformed legacy: ok=%v err=%v", ok, err)
	}
}

func TestBcryptComparesTheFirst72Bytes(t *testing.T) {
	long := strings.Repeat("a", 72)
	// What a legacy C implementation stored for a longer password.
	bc, err := bcrypt.GenerateFromPassword([]byte(long), 4)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := VerifyLegacy(string(bc), long+"tail"); !ok {
		t.Fatal("a password longer than 72 bytes must match on its first 72, as the legacy system hashed it")
	}
}

func argonKeyI(password string, salt []byte) []byte {
	return argon2.Key([]byte(password), salt, 1, 64, 1, 32)
}

func b64enc(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
