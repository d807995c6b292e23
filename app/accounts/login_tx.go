package accounts

import (
	"context"

	"gorm.io/gorm"

	"gatehouse/apperr"
	"gatehouse/txn"
)

// loginTx runs a password login's database work as one transaction: fn
// gets a store bound to it, the transaction itself (for the audit event
// and the session) and the customer with email (nil when there is none,
// or when lookup is false because the address is not valid).
//
// On PostgreSQL the read is the transaction's first statement, so a login
// is one commit in all. On SQLite it comes just before: SQLite cannot
// upgrade a read transaction to a write once another connection has
// committed since its read (SQLITE_BUSY_SNAPSHOT), and logins running side
// by side always have. The read there writes nothing and journals nothing.
func (s TenantStore) loginTx(ctx context.Context, email string, lookup bool, fn func(ctx context.Context, inner TenantStore, tx *gorm.DB, c *Customer) error) error {
	var c *Customer
	read := func(st TenantStore) error {
		if !lookup {
			return nil
		}
		found, err := st.ByEmail(ctx, email)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		c = found
		return err
	}
	inside := s.db.Dialector.Name() == "postgres"
	if !inside {
		if err := read(s); err != nil {
			return err
		}
	}
	// txn.Run puts the transaction in the context, so that what the
	// login starts on the way (a notification's outbox row, the session)
	// joins it rather than waiting for its lock on another connection.
	return txn.Run(ctx, s.db, func(ctx context.Context) error {
		tx := txn.DB(ctx, s.db)
		inner := TenantStore{db: tx, tenantID: s.tenantID, events: s.events, inTx: true}
		if inside {
			if err := read(inner); err != nil {
				return err
			}
		}
		return fn(ctx, inner, tx, c)
	})
}
