package apps

import "time"

// SetClock lets tests move the store's clock, to watch a grace period end.
func SetClock(s *Store, now func() time.Time) { s.now = now }
