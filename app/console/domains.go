package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"strings"

	"github.com/google/uuid"

	"gatehouse/apperr"
)

// DomainVerifier proves control of a custom domain: the tenant publishes a
// TXT record _gatehouse.<domain> holding a token derived from the master
// key, the tenant and the domain, so nothing needs storing and a token for
// one tenant or domain is worthless for another.
type DomainVerifier struct {
	Key       []byte
	LookupTXT func(ctx context.Context, name string) ([]string, error)
}

// RecordName is the TXT record's name.
func RecordName(host string) string { return "_gatehouse." + host }

// Token is the record's expected value.
func (v DomainVerifier) Token(tenantID uuid.UUID, host string) string {
	mac := hmac.New(sha256.New, v.Key)
	mac.Write([]byte(tenantID.String() + "|" + host))
	return "gatehouse-verification=" + hex.EncodeToString(mac.Sum(nil)[:16])
}

// Check looks the record up and returns nil when one of its values is the
// token, or an Invalid error on field "domain" saying what was found.
func (v DomainVerifier) Check(ctx context.Context, tenantID uuid.UUID, host string) error {
	want := v.Token(tenantID, host)
	records, err := v.LookupTXT(ctx, RecordName(host))
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && (dnsErr.IsNotFound || dnsErr.IsTimeout || dnsErr.IsTemporary) {
			return apperr.Field("domain", "no TXT record %s was found yet; DNS changes can take a while to spread", RecordName(host))
		}
		return apperr.Field("domain", "the TXT record %s could not be read: %v", RecordName(host), err)
	}
	for _, r := range records {
		if hmac.Equal([]byte(strings.TrimSpace(r)), []byte(want)) {
			return nil
		}
	}
	if len(records) == 0 {
		return apperr.Field("domain", "no TXT record %s was found yet; DNS changes can take a while to spread", RecordName(host))
	}
	return apperr.Field("domain", "the TXT record %s does not hold the expected value", RecordName(host))
}
