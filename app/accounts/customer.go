// Package accounts is customer accounts on a brand's host: sign-up and
// log-in on one URL, server-side sessions, the profile and progressive
// profiling, email verification, and forgot/reset password. The service
// holds the rules; the handlers bind forms, call it once and render.
package accounts

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"gatehouse/apperr"
)

// Status of a customer account.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// Customer is one end customer of one tenant. The password hash is
// unexported: nothing outside this package can read it, so it cannot reach
// a template or a JSON body.
type Customer struct {
	ID                uuid.UUID
	TenantID          uuid.UUID
	Email             string
	EmailVerified     bool
	Status            string
	Profile           map[string]any
	ProfilePromptedAt *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	LastLoginAt       *time.Time

	passwordHash string
}

// HasPassword reports whether the customer can log in with a password.
func (c *Customer) HasPassword() bool { return c.passwordHash != "" }

// Identity is a social or federated sign-in linked to a customer.
type Identity struct {
	Provider string
	Subject  string
	Email    string
}

// NormalizeEmail trims and case-folds an address and checks it is a plain
// address (no display name, no comments), at most 254 bytes.
func NormalizeEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", apperr.Field("email", "Enter your email address.")
	}
	if len(s) > 254 || !utf8.ValidString(s) {
		return "", apperr.Field("email", "Enter a valid email address.")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", apperr.Field("email", "Enter a valid email address, like name@example.com.")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || !strings.Contains(s[at+1:], ".") || strings.ContainsAny(s, " \t\r\n\"<>") {
		return "", apperr.Field("email", "Enter a valid email address, like name@example.com.")
	}
	return strings.ToLower(s), nil
}
