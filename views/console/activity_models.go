package console

// ActivityItem is one audit event as people read it: what happened in
// words, who did it by name or email, from which device and address, and
// what changed.
type ActivityItem struct {
	At      string // "2026-12-01 21:10:05", UTC
	AtISO   string // the same, RFC 3339, for <time datetime>
	Title   string // "Signed in", "Theme changed"
	Action  string // the stable key ("customer.login"), for filtering
	Actor   string // "ana@example.com", "Someone trying ana@example.com"
	Target  string // what it was done to, when that is not already said
	Device  string // "Chrome on macOS"; "" when not recorded
	IP      string
	Changes []Change
	Notes   []Note // other detail, as label and value
}

// ChangeKind says whether a field was changed, added or removed.
type ChangeKind string

// The kinds of change.
const (
	Changed ChangeKind = "changed"
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
)

// Change is one field's before and after. A multi-line value is shown as
// its lines added and removed instead.
type Change struct {
	Field  string
	Kind   ChangeKind
	Before string
	After  string
	Lines  []DiffLine
}

// DiffLine is one line of a multi-line value's diff.
type DiffLine struct {
	Op   string // "+", "-" or " "
	Text string
}

// Note is a detail of an event that is not a change ("Grace period: 1 hour").
type Note struct {
	Label string
	Value string
}
