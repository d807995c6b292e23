package accounts

import (
	"context"

	"gorm.io/gorm"

	"gatehouse/apperr"
	"gatehouse/txn"
)

// loginTx runs a password login's database work as one transaction. The
// customer with email is read first (nil when there is none, or when lookup
// is false because the address is not valid), then check decides the login
// (throttle and hash, which write nothing to the database; the throttle's
// counts are in Redis), then write records its outcome
// through a store bound to the transaction and the transaction itself (for
// the audit event and the session).
//
// On PostgreSQL all three run in the transaction, the read being its first
// statement, so a login is one commit in all. On SQLite the read and the
// check come just before it. SQLite cannot upgrade a read transaction to a
// write once another connection has committed since its read
// (SQLITE_BUSY_SNAPSHOT), which logins running side by side always have, so
// its transactions take the write lock when they begin; a hash inside one
// would hold the lock and run every login's hash one after another. The
// read and the check write nothing and journal nothing.
func (s TenantStore) loginTx(ctx context.Context, email string, lookup bool, check func(ctx context.Context, c *Customer) error, write func(ctx context.Context, inner TenantStore, tx *gorm.DB, c *Customer) error) error {
	var c *Customer
	decide := func(ctx context.Context, st TenantStore) error {
		if lookup {
			found, err := st.ByEmail(ctx, email)
			switch {
			case err == nil:
				c = found
			case !apperr.Is(err, apperr.NotFound):
				return err
			}
		}
		return check(ctx, c)
	}
	inside := s.db.Dialector.Name() == "postgres"
	if !inside {
		if err := decide(ctx, s); err != nil {
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
			if err := decide(ctx, inner); err != nil {
				return err
			}
		}
		return write(ctx, inner, tx, c)
	})
}
