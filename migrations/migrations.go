// Package migrations embeds Gatehouse's versioned, forward-only SQL
// migrations, one folder per dialect, so the binary carries its own schema
// and `gatehouse migrate up` needs no files beside it. The two folders must
// end in the same tables and columns; a test in app/db proves it.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// For returns the migrations of one dialect ("postgres" or "sqlite").
func For(dialect string) (fs.FS, error) {
	return fs.Sub(files, dialect)
}
