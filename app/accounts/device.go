package accounts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/google/uuid"
)

// DeviceLifetime is how long a device cookie marks a browser as one the
// customer has signed in from. It is long on purpose: the cookie only
// exempts its browser from throttles that strangers trip, it signs nobody in.
const DeviceLifetime = 365 * 24 * time.Hour

// devices issues and checks device cookies (OWASP's "device cookies"): a
// random nonce bound to a tenant and a customer, signed with a key derived
// from the master key, so no server state is needed and a cookie for one
// account or tenant proves nothing for another.
type devices struct {
	key []byte
}

const deviceVersion = 1

// payload: version, tenant id, customer id, issued (unix seconds), nonce.
const devicePayload = 1 + 16 + 16 + 8 + 16

// issue returns a new device token for customer c of tenant t, or "" when
// no key is configured.
func (d devices) issue(tenantID, customerID uuid.UUID, now time.Time) string {
	if len(d.key) == 0 {
		return ""
	}
	b := make([]byte, devicePayload, devicePayload+sha256.Size)
	b[0] = deviceVersion
	copy(b[1:17], tenantID[:])
	copy(b[17:33], customerID[:])
	binary.BigEndian.PutUint64(b[33:41], uint64(now.Unix()))
	if _, err := rand.Read(b[41:]); err != nil {
		return ""
	}
	b = append(b, d.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// id returns the device id of token when it is a genuine, unexpired device
// token of this tenant and customer.
func (d devices) id(token string, tenantID, customerID uuid.UUID, now time.Time) (string, bool) {
	if len(d.key) == 0 || token == "" || len(token) > 200 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != devicePayload+sha256.Size || b[0] != deviceVersion {
		return "", false
	}
	if !hmac.Equal(b[devicePayload:], d.mac(b[:devicePayload])) {
		return "", false
	}
	if !hmac.Equal(b[1:17], tenantID[:]) || !hmac.Equal(b[17:33], customerID[:]) {
		return "", false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[33:41])), 0)
	if now.Sub(issued) > DeviceLifetime || issued.After(now.Add(time.Hour)) {
		return "", false
	}
	return hex.EncodeToString(b[41:devicePayload]), true
}

func (d devices) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, d.key)
	m.Write(payload)
	return m.Sum(nil)
}
