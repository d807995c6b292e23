package accounts

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/datatypes"
)

// JoinedCustomer is a customer read by another store in the same query as
// a row of its own table. The OpenID Provider's hottest requests (every
// token check, refresh and code exchange) need the token's customer, and
// a second round trip to the database cost them more than the read did.
//
// Such a query selects JoinedColumns(alias) from customers AS alias,
// joined on both the tenant and the customer id, and scans into a struct
// that embeds JoinedCustomer; Customer then gives the customer as ByID
// would. Every column is nullable, so a LEFT JOIN that finds no customer
// (a machine app's token names none) scans too. The row layout stays in
// this package: the other store sees only the select list and this type.
type JoinedCustomer struct {
	ID                *uuid.UUID `gorm:"column:customer__id"`
	TenantID          *uuid.UUID `gorm:"column:customer__tenant_id"`
	Email             *string    `gorm:"column:customer__email"`
	EmailVerified     *bool      `gorm:"column:customer__email_verified"`
	PasswordHash      *string    `gorm:"column:customer__password_hash"`
	Status            *string    `gorm:"column:customer__status"`
	Profile           []byte     `gorm:"column:customer__profile"`
	ProfilePromptedAt *time.Time `gorm:"column:customer__profile_prompted_at"`
	CreatedAt         *time.Time `gorm:"column:customer__created_at"`
	UpdatedAt         *time.Time `gorm:"column:customer__updated_at"`
	LastLoginAt       *time.Time `gorm:"column:customer__last_login_at"`
}

var joinedColumns = []string{
	"id", "tenant_id", "email", "email_verified", "password_hash", "status", "profile",
	"profile_prompted_at", "created_at", "updated_at", "last_login_at",
}

// JoinedColumns is the select list that fills a JoinedCustomer from the
// customers table under alias.
func JoinedColumns(alias string) string {
	cols := make([]string, len(joinedColumns))
	for i, c := range joinedColumns {
		cols[i] = alias + "." + c + " AS customer__" + c
	}
	return strings.Join(cols, ", ")
}

// Dest is where rows.Scan puts the columns JoinedColumns selects, in
// their order, for a query scanned by hand rather than by gorm (the
// token checks, where gorm's reflective scan cost more than the read).
func (j *JoinedCustomer) Dest() []any {
	return []any{
		&j.ID, &j.TenantID, &j.Email, &j.EmailVerified, &j.PasswordHash, &j.Status, &j.Profile,
		&j.ProfilePromptedAt, &j.CreatedAt, &j.UpdatedAt, &j.LastLoginAt,
	}
}

// Customer is the joined customer if it is one of tenantID's, else
// NotFound: the join found none, or (which its condition must rule out)
// found another tenant's.
func (j JoinedCustomer) Customer(tenantID uuid.UUID) (*Customer, error) {
	if j.ID == nil || j.TenantID == nil || *j.TenantID != tenantID || tenantID == uuid.Nil {
		return nil, errNoCustomer
	}
	r := customerRow{
		ID: *j.ID, TenantID: *j.TenantID, PasswordHash: j.PasswordHash, Profile: datatypes.JSON(j.Profile),
		ProfilePromptedAt: j.ProfilePromptedAt, LastLoginAt: j.LastLoginAt,
	}
	if j.Email != nil {
		r.Email = *j.Email
	}
	if j.EmailVerified != nil {
		r.EmailVerified = *j.EmailVerified
	}
	if j.Status != nil {
		r.Status = *j.Status
	}
	if j.CreatedAt != nil {
		r.CreatedAt = *j.CreatedAt
	}
	if j.UpdatedAt != nil {
		r.UpdatedAt = *j.UpdatedAt
	}
	return fromRow(r)
}
