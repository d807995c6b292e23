package devshop_test

import (
	"testing"

	"gatehouse/app/devshop"
	"gatehouse/tenants"
)

// TestHostIsReserved: in dev the shop answers on its host below the base
// domain, ahead of the tenants, so no tenant may take that slug.
func TestHostIsReserved(t *testing.T) {
	if err := tenants.ValidateSlug(devshop.Host); err == nil {
		t.Fatalf("a tenant could take the slug %q, and the demo shop would hide it", devshop.Host)
	}
}
