package passwords

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/apperr"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestPolicy(t *testing.T) {
	p := NewPolicy()
	tests := []struct {
		name, password string
		min            int
		want           string // "" means accepted
	}{
		{"ok", "correct horse battery", 8, ""},
		{"exactly the minimum", "zq8!kd2m", 8, ""},
		{"too short", "zq8!kd2", 8, "at least 8 characters"},
		{"tenant raised the minimum", "zq8!kd2mw", 15, "at least 15 characters"},
		{"minimum never below 8", "zq8!kd2", 4, "at least 8 characters"},
		{"counted in code points", "ääääääää", 8, ""},
		{"emoji are characters too", "🔑🔑🔑🔑🔑🔑🔑", 8, "at least 8 characters"},
		{"64 characters are allowed", strings.Repeat("x1", 32), 8, ""},
		{"over the maximum", strings.Repeat("y", MaxLength+1), 8, "at most"},
		{"common", "password123", 8, "most commonly used"},
		{"common in any case", "PassWord123", 8, "most commonly used"},
		{"no composition rules", "alllowercaseletters", 8, ""},
		{"same as the email", "me@example.com", 8, "same as your email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check("password", tt.password, tt.min, "me@example.com")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Field != "password" || !strings.Contains(e.Message, tt.want) {
				t.Fatalf("err = %v, want a password error saying %q", err, tt.want)
			}
		})
	}
}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 2, time.Second)
	hash, err := h.Hash(ctx, "s3cret passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", hash)
	}
	if ok, rehash, err := h.Verify(ctx, hash, "s3cret passphrase"); !ok || rehash || err != nil {
		t.Fatalf("Verify = %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(ctx, hash, "s3cret passphrasE"); ok {
		t.Fatal("a wrong password verified")
	}
	if ok, _, err := h.Verify(ctx, "", "anything"); ok || err != nil {
		t.Fatalf("empty hash: %v %v", ok, err)
	}
	if ok, _, err := h.Verify(ctx, "$2b$10$notargon", "anything"); ok || err != nil {
		t.Fatalf("foreign hash: %v %v", ok, err)
	}
	stronger := NewHasher(Params{Memory: 128, Time: 2, Threads: 1}, 2, time.Second)
	if ok, rehash, _ := stronger.Verify(ctx, hash, "s3cret passphrase"); !ok || !rehash {
		t.Fatalf("changed parameters must ask for a rehash: ok=%v rehash=%v", ok, rehash)
	}
	if Default != (Params{Memory: 19 * 1024, Time: 2, Threads: 1}) {
		t.Fatalf("default parameters drifted from SECURITY.md: %+v", Default)
	}
}

// TestHasherRefusesOverload: with every slot taken, a caller gets a busy
// error instead of queueing without bound.
func TestHasherRefusesOverload(t *testing.T) {
	h := NewHasher(fast, 1, 50*time.Millisecond)
	h.slots <- struct{}{} // one hash in flight, holding the only slot
	_, err := h.Hash(context.Background(), "whatever passphrase")
	if err != ErrBusy || !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	<-h.slots
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "whatever passphrase"); err != nil && err != ErrBusy {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(Default, 0, time.Minute)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "benchmark passphrase"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestFormatChecksRunNoHash: telling an argon2id hash from a legacy one
// must not run argon2 (19 MiB outside the semaphore, on every login).
func TestFormatChecksRunNoHash(t *testing.T) {
	h := NewHasher(Default, 1, time.Second)
	hash, err := h.Hash(context.Background(), "some passphrase")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		if IsLegacyFormat(hash) {
			t.Fatal("our own argon2id hash reads as legacy")
		}
		if err := CheckImportable(hash); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
		t.Fatalf("format checks allocated %d bytes: they ran argon2", grown)
	}
}
