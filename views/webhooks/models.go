// Package webhooks holds the console's pages for a tenant's webhook
// endpoints. The view models carry only what the page shows; a signing
// secret appears in exactly one of them, the page shown right after it was
// made.
package webhooks

// ListPage is GET /t/:slug/webhooks: the endpoints and the register form.
type ListPage struct {
	Base      string // /t/:slug/webhooks
	Endpoints []Row
	Form      Form
	Events    []string // every event type, for the checkboxes
}

// Row is one endpoint in the list.
type Row struct {
	URL         string
	Description string
	Events      string
	Enabled     bool
	ShowURL     string
}

// Form is the register form, with what was typed and the error of one field.
type Form struct {
	URL, Description  string
	Events            map[string]bool
	ErrorField, Error string
}

// ShowPage is one endpoint: its settings, actions and delivery log.
type ShowPage struct {
	Base           string
	URL            string
	Description    string
	Events         string
	Enabled        bool
	DisabledReason string
	RotatingUntil  string // set while the previous secret still signs
	Created        string
	RotateURL      string
	EnabledURL     string
	DeleteURL      string
	Deliveries     []DeliveryRow
}

// DeliveryRow is one line of the delivery log.
type DeliveryRow struct {
	EventID   string
	EventType string
	Status    string
	Response  string // the HTTP status, or "-" when there was no answer
	Attempts  int
	When      string
	Error     string
	ResendURL string
}

// SecretPage shows a signing secret once.
type SecretPage struct {
	Base    string
	ShowURL string
	Title   string
	URL     string
	Secret  string
	Note    string
}

// ConfirmPage asks before deleting an endpoint.
type ConfirmPage struct {
	Base      string
	URL       string
	DeleteURL string
	ShowURL   string
}
