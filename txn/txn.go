// Package txn lets one database transaction span several stores: a
// sign-up's customer row, its verification token and the outbox row of its
// mail commit together or not at all. Run puts the transaction in the
// context; a store asks DB for the handle to use, so a store method called
// outside Run keeps its own connection and its own transactions.
package txn

import (
	"context"

	"gorm.io/gorm"
)

type key struct{}

type state struct {
	tx    *gorm.DB
	after []func()
}

// Run calls fn in one transaction on db, with ctx carrying it. Called
// inside another Run it joins that transaction, so a service method that
// needs one can be used by a caller that already has one. Functions
// registered with AfterCommit run once the outermost transaction has
// committed, and never after a rollback.
func Run(ctx context.Context, db *gorm.DB, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(key{}).(*state); ok {
		return fn(ctx)
	}
	st := &state{}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st.tx = tx
		return fn(context.WithValue(ctx, key{}, st))
	})
	if err != nil {
		return err
	}
	for _, f := range st.after {
		f()
	}
	return nil
}

// DB is the handle a store should use under ctx: the transaction of Run
// if there is one, else db.
func DB(ctx context.Context, db *gorm.DB) *gorm.DB {
	if st, ok := ctx.Value(key{}).(*state); ok {
		return st.tx.WithContext(ctx)
	}
	return db.WithContext(ctx)
}

// InTx reports whether ctx carries a transaction of Run.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(key{}).(*state)
	return ok
}

// AfterCommit runs f once the transaction ctx carries has committed, or
// at once when ctx carries none (the write it follows has committed
// already).
func AfterCommit(ctx context.Context, f func()) {
	if st, ok := ctx.Value(key{}).(*state); ok {
		st.after = append(st.after, f)
		return
	}
	f()
}
