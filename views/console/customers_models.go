package console

// CustomersPage is a tenant's customers: a prefix search and a page of
// results, keyset-paginated.
type CustomersPage struct {
	Chrome  Chrome
	Slug    string
	Query   string
	Rows    []CustomerRow
	NextURL string // the next page; "" on the last
}

// CustomerRow is one customer in the list.
type CustomerRow struct {
	ID       string
	Email    string
	Name     string
	Status   string
	Verified bool
	Created  string
}

// CustomerPage is one customer, with what support can do to them.
type CustomerPage struct {
	Chrome     Chrome
	Slug       string
	ID         string
	Email      string
	Status     string
	Verified   bool
	Created    string
	LastLogin  string
	Profile    []ProfileInput
	Errors     Errors
	Identities []IdentityRow
	Sessions   []SessionRow
	Events     []ActivityItem
	CanWrite   bool
	CanDelete  bool
	// ConfirmDelete shows the typed-confirmation form for deleting.
	ConfirmDelete bool
	DeleteError   string
}

// ProfileInput is one registration field on the staff's profile editor.
type ProfileInput struct {
	Key      string
	Label    string
	Type     string // text, number, date, select, checkbox, phone, country
	Value    string
	Required bool
	Options  []Option
}

// IdentityRow is a linked sign-in.
type IdentityRow struct {
	Provider string
	Name     string
	Email    string
}

// SessionRow is one live session.
type SessionRow struct {
	ID       string
	Host     string
	IP       string
	Agent    string
	Created  string
	LastSeen string
}
