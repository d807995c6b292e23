package apps

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// KeyState is where a tenant's signing key is in its life.
type KeyState string

// The key states.
const (
	KeySigning KeyState = "signing" // signs new tokens
	KeyNext    KeyState = "next"    // published, signs from SignsFrom
	KeyRetired KeyState = "retired" // published until its tokens expire
)

// KeyInfo describes one published signing key of a tenant, for the
// console; the private half never leaves app/oidc.
type KeyInfo struct {
	KID       string
	Alg       string
	SignsFrom time.Time
	State     KeyState
}

// SigningKeys is the tenant's signing keys as the console's apps page sees
// them (app/oidc's Keys).
type SigningKeys interface {
	Summary(ctx context.Context, tenantID uuid.UUID) ([]KeyInfo, error)
	RotateNow(ctx context.Context, tenantID uuid.UUID) error
}
