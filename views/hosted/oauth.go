package hosted

import "gatehouse/views/layout"

// OAuthErrorPage is the view model of the provider's branded error page.
type OAuthErrorPage struct {
	Page    layout.Page
	Brand   Brand
	Message string
}
