package console

// StaffPage is a tenant's staff list with the invitation form.
type StaffPage struct {
	Chrome    Chrome
	Slug      string
	Members   []MemberRow
	Pending   []PendingRow
	Invite    InviteForm
	CanManage bool
	Error     string
}

// MemberRow is one staff member of the tenant.
type MemberRow struct {
	ID        string
	Email     string
	Role      string
	RoleLabel string
	Status    string // active, invited, disabled
	LastLogin string
	You       bool
	Roles     []Option
}

// PendingRow is an invitation not yet accepted. It says nothing about
// whether the invitee has an account elsewhere.
type PendingRow struct {
	StaffID   string
	Email     string
	RoleLabel string
	InvitedBy string
	Expires   string
}

// InviteForm invites someone by email.
type InviteForm struct {
	Email  string
	Roles  []Option
	Errors Errors
}

// AuditPage is a tenant's audit log, filtered, newest first.
type AuditPage struct {
	Chrome  Chrome
	Slug    string
	Filter  AuditFilter
	Rows    []ActivityItem
	NextURL string // the next (older) page; "" on the last
	Errors  Errors
}

// AuditFilter narrows the log.
type AuditFilter struct {
	Actor  string
	Action string
	Target string
	From   string // YYYY-MM-DD
	To     string // YYYY-MM-DD, inclusive
}

// OutboxPage lists the dev outbox.
type OutboxPage struct {
	Chrome  Chrome
	Entries []OutboxRow
}

// OutboxRow is one stored mail.
type OutboxRow struct {
	Name    string
	To      string
	Subject string
	Time    string
}

// OutboxMessagePage shows one stored mail.
type OutboxMessagePage struct {
	Chrome  Chrome
	Name    string
	From    string
	To      string
	Subject string
	Date    string
	Text    string
	HasHTML bool
}
