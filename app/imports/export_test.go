package imports

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// SetNow sets the campaigns' clock, for tests of reminders days later.
func (c *Campaigns) SetNow(now func() time.Time) { c.now = now }

// ScratchTables lists the job's scratch tables that exist ("file",
// "scan", "dups"), for tests that scratch is released.
func (s *Store) ScratchTables(ctx context.Context, jobID uuid.UUID) ([]string, error) {
	var out []string
	for _, kind := range []string{scratchFile, scratchScan, scratchDups} {
		ok, err := s.scratchExists(ctx, s.sql, kind, jobID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, kind)
		}
	}
	return out, nil
}

// ScratchName is the table of one kind of a job's scratch.
func ScratchName(kind string, jobID uuid.UUID) string { return scratchName(kind, jobID) }

// PlainEmail is the normaliser's fast path for ordinary addresses.
func PlainEmail(s string) (string, bool) { return plainEmail(s) }
