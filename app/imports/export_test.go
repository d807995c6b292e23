package imports

import "time"

// SetNow sets the campaigns' clock, for tests of reminders days later.
func (c *Campaigns) SetNow(now func() time.Time) { c.now = now }
