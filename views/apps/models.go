// Package apps holds the console's pages for a tenant's OAuth apps. The view
// models carry only what the page shows; a secret appears in exactly one
// of them, the page shown right after it was made.
package apps

// ListPage is GET /t/:slug/apps: the tenant's apps and the create form.
type ListPage struct {
	Base   string // /t/:slug/apps
	Issuer string
	Apps   []Row
	Form   Form
	// Keys are the tenant's published signing keys; KeysShown shows the
	// panel with its "rotate now" form, posting to RotateKeysURL.
	Keys          []KeyRow
	KeysShown     bool
	RotateKeysURL string
}

// Snippet is one copy-ready block for an app's developer, such as its
// discovery URL or a curl call. ID names its element for the copy button.
type Snippet struct {
	ID, Label, Text string
}

// KeyRow is one published signing key.
type KeyRow struct {
	KID, Alg, State, SignsFrom string
}

// Row is one app in the list.
type Row struct {
	ClientID   string
	Name       string
	Type       string
	Redirects  string
	FirstParty bool
	HasSecret  bool
	Created    string
	RotateURL  string
	DeleteURL  string
	// Backchannel is the app's back-channel logout URI, set at
	// BackchannelURL; only apps that sign customers in (SignsIn) have one.
	Backchannel    string
	BackchannelURL string
	SignsIn        bool
	// Snippets are what to paste into the app's code for its type.
	Snippets []Snippet
}

// Form is the create form, with what was typed and the error of one field.
type Form struct {
	Name, Type, RedirectURIs, PostLogoutURIs, CORSOrigins, Scopes string
	Backchannel                                                   string
	FirstParty                                                    bool
	ErrorField, Error                                             string
	// RowClientID, RowValue and RowError are a refused change to one
	// listed app's back-channel logout URI, shown next to its field.
	RowClientID, RowValue, RowError string
}

// SecretPage shows a new client secret once, with what to do with it.
type SecretPage struct {
	Base     string
	Title    string
	ClientID string
	Secret   string
	Issuer   string
	Note     string
}

// ConfirmPage asks before deleting an app.
type ConfirmPage struct {
	Base      string
	Name      string
	ClientID  string
	DeleteURL string
}
