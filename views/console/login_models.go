package console

import "gatehouse/views/layout"

// ForgotPage is the console's "forgot your password" form. Sent shows the
// one neutral answer, whether or not the address has an account.
type ForgotPage struct {
	Page       layout.Page
	Email      string
	EmailError string
	Sent       bool
}

// ResetPage is where a staff member chooses a new password with the link
// from the reset mail. Broken is an unknown, used or expired link.
type ResetPage struct {
	Page   layout.Page
	Token  string
	Error  string
	Broken bool
}
