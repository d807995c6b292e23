package accounts

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestDeviceTokens: a device token names its browser for one customer of
// one tenant only, and any change to it, or age, makes it worthless.
func TestDeviceTokens(t *testing.T) {
	d := devices{key: []byte("0123456789abcdef0123456789abcdef")}
	tenant, other := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	cust, cust2 := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := d.issue(tenant, cust, now)
	id, ok := d.id(tok, tenant, cust, now.Add(time.Hour))
	if !ok || len(id) != 32 {
		t.Fatalf("genuine token refused: %q %v", id, ok)
	}
	if again := d.issue(tenant, cust, now); again == tok {
		t.Fatal("two devices got the same token")
	}
	flipped := []byte(tok)
	flipped[10] ^= 1
	if flipped[10] == '-' || flipped[10] == '_' {
		flipped[10] = 'A'
	}
	cases := map[string]struct {
		token          string
		tenant, person uuid.UUID
		at             time.Time
	}{
		"other tenant":   {tok, other, cust, now},
		"other customer": {tok, tenant, cust2, now},
		"tampered":       {string(flipped), tenant, cust, now},
		"truncated":      {tok[:len(tok)-2], tenant, cust, now},
		"expired":        {tok, tenant, cust, now.Add(DeviceLifetime + time.Hour)},
		"other key":      {devices{key: []byte(strings.Repeat("k", 32))}.issue(tenant, cust, now), tenant, cust, now},
		"empty":          {"", tenant, cust, now},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, ok := d.id(c.token, c.tenant, c.person, c.at); ok {
				t.Fatal("accepted")
			}
		})
	}
	if (devices{}).issue(tenant, cust, now) != "" {
		t.Fatal("a token without a key")
	}
}

// TestIPKey: IPv6 addresses throttle by their /64, IPv4 by the address.
func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":             "192.0.2.7",
		"::ffff:192.0.2.7":      "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":  "2001:db8:1:2::/64",
		"not an address at all": "not an address at all",
	} {
		if got := ipKey(in); got != want {
			t.Errorf("ipKey(%q) = %q, want %q", in, got, want)
		}
	}
}
