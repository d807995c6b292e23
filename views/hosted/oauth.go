package hosted

import "gatehouse/views/layout"

// OAuthErrorPage is the view model of the provider's branded error page.
type OAuthErrorPage struct {
	Page    layout.Page
	Brand   Brand
	Message string
}

// ConsentPage is the view model of the consent page for third-party apps.
type ConsentPage struct {
	Page      layout.Page
	Brand     Brand
	AppName   string
	RequestID string
	Scopes    []string // what each requested scope reveals, in words
}
