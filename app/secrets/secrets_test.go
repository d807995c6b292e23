package secrets

import (
	"bytes"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	box, err := NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal("client-secret", "social:tenant-a:google")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "client-secret") {
		t.Fatal("sealed value shows the plaintext")
	}
	if got, err := box.Open(sealed, "social:tenant-a:google"); err != nil || got != "client-secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	t.Run("other tenant's context", func(t *testing.T) {
		if _, err := box.Open(sealed, "social:tenant-b:google"); err != ErrOpen {
			t.Fatalf("opened under another context: %v", err)
		}
	})
	t.Run("other key", func(t *testing.T) {
		other, _ := NewBox(bytes.Repeat([]byte{8}, 32))
		if _, err := other.Open(sealed, "social:tenant-a:google"); err != ErrOpen {
			t.Fatalf("opened with another key: %v", err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		b := []byte(sealed)
		b[len(b)-2] ^= 1
		if _, err := box.Open(string(b), "social:tenant-a:google"); err != ErrOpen {
			t.Fatalf("opened a tampered value: %v", err)
		}
	})
	if _, err := NewBox([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
}
