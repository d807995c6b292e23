package console

import (
	"github.com/a-h/templ"

	"gatehouse/views/layout"
)

// SecurityPage is a staff member's own sign-in security: whether
// two-factor sign-in is on, with the form to turn it on or off.
type SecurityPage struct {
	Chrome            Chrome
	Email             string
	Enabled           bool
	EnabledAt         string // UTC, "2006-01-02 15:04"
	RecoveryCodesLeft int
	Errors            Errors // of the form that turns it off: code, password
	Error             string // a page-level refusal
}

// TOTPEnrolPage is a set-up in progress: the secret as a QR code and as
// text, and the form that confirms it with a code. It is sent with
// Cache-Control: no-store.
type TOTPEnrolPage struct {
	Chrome Chrome
	QRCode templ.SafeURL // a data:image/png URL the handler drew
	Secret string        // base32, in groups of four
	Errors Errors
}

// RecoveryCodesPage shows new recovery codes, on the one response that
// ever holds them.
type RecoveryCodesPage struct {
	Chrome Chrome
	Codes  []string
}

// TOTPLoginPage is the second step of signing in: the code page.
type TOTPLoginPage struct {
	Page     layout.Page
	ReturnTo string
	Error    string
}
