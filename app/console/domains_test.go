package console_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/google/uuid"

	"gatehouse/app/console"
	"gatehouse/apperr"
)

func TestDomainVerifier(t *testing.T) {
	tenantA, tenantB := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	records := map[string][]string{}
	v := console.DomainVerifier{Key: []byte("test key"), LookupTXT: func(_ context.Context, name string) ([]string, error) {
		if r, ok := records[name]; ok {
			return r, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}}
	ctx := context.Background()
	host := "login.acme.test"
	token := v.Token(tenantA, host)
	if !strings.HasPrefix(token, "gatehouse-verification=") || token == v.Token(tenantB, host) || token == v.Token(tenantA, "other.acme.test") {
		t.Fatalf("tokens must differ per tenant and domain: %q", token)
	}

	t.Run("no record", func(t *testing.T) {
		err := v.Check(ctx, tenantA, host)
		if e, ok := apperr.As(err); !ok || e.Field != "domain" || !strings.Contains(e.Message, "_gatehouse.login.acme.test") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong value", func(t *testing.T) {
		records["_gatehouse."+host] = []string{"v=spf1 -all", v.Token(tenantB, host)}
		if err := v.Check(ctx, tenantA, host); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("another tenant's token verified: %v", err)
		}
	})
	t.Run("ok among other records", func(t *testing.T) {
		records["_gatehouse."+host] = []string{"v=spf1 -all", " " + token + " "}
		if err := v.Check(ctx, tenantA, host); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("resolver failure", func(t *testing.T) {
		broken := console.DomainVerifier{Key: []byte("k"), LookupTXT: func(context.Context, string) ([]string, error) { return nil, errors.New("boom") }}
		if err := broken.Check(ctx, tenantA, host); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("err = %v", err)
		}
	})
}
