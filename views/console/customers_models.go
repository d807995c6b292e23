package console

// CustomersPage is a tenant's customers: a prefix search, an order and a
// page size, and a page of results, keyset-paginated.
type CustomersPage struct {
	Chrome  Chrome
	Slug    string
	Query   string
	Sort    string // "" is A to Z
	Size    string
	Sorts   []Option
	Sizes   []Option
	Total   string // "1,234 customers", "10,000+ customers"
	Problem string // a sort, size or page link that could not be read
	Rows    []CustomerRow
	// The pages either side and the first; "" where there is none.
	NextURL, PrevURL, FirstURL string
	// The sortable columns' header links, which flip their order.
	CreatedSort, LoginSort SortLink
}

// SortLink is a sortable column's header: the link to sort by it (or the
// other way), and its aria-sort state: none, ascending or descending.
type SortLink struct {
	Href  string
	State string
}

// CustomerRow is one customer in the list.
type CustomerRow struct {
	ID        string
	Email     string
	Name      string
	Status    string
	Verified  bool
	Created   string
	LastLogin string // a date, or "never"
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
