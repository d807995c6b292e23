package hosted

import "gatehouse/views/layout"

// Notice is a one-line message at the top of a page ("Your password was
// changed."). Kind is "info", "success", "warning" or "error".
type Notice struct {
	Kind    string
	Message string
}

// Option is one choice of a select or country field.
type Option struct {
	Value string
	Label string
}

// FormField is one registration field as a form input, built by the
// handler from the tenant's schema and the customer's current value.
type FormField struct {
	Key      string // the form field name
	Label    string
	Type     string // text, number, date, select, checkbox, phone, country
	Help     string
	Required bool   // must be filled ("required" capture)
	Value    string // the value to show again (for checkbox: "true" when ticked)
	Options  []Option
	Error    string
	// Limits the browser can enforce too; the server checks them anyway.
	MinLength, MaxLength int
	Min, Max             string // number or date bounds, as the input's min/max attributes
}

// Provider is a social or brand sign-in button.
type Provider struct {
	Key  string // "google", "oidc"…
	Name string // "Google", "Acme ID"
	URL  string // /social/<key>?return_to=…
}

// LoginForm is the log-in half of /login.
type LoginForm struct {
	Email         string
	EmailError    string
	PasswordError string
	Error         string // form-level ("Email or password is incorrect.")
	// NeedsVerification shows, under Error, a button (POST
	// /verify-email/resend with the email) to send the link again.
	NeedsVerification bool
}

// SignupForm is the sign-up half of /login.
type SignupForm struct {
	Email             string
	EmailError        string
	PasswordError     string
	Error             string
	Fields            []FormField // required and optional fields, in schema order
	MinPasswordLength int
}

// LoginPage is GET /login: one URL for log-in and sign-up. Mode picks the
// visible half: "login" or "signup". The switch is a plain link to
// /login?mode=…, enhanced with hx-get so HTMX swaps only the panel
// (LoginPanel) without a page load or a URL change.
type LoginPage struct {
	// Page is the document shell; Title is filled in when empty.
	Page      layout.Page
	Brand     Brand
	Mode      string
	ReturnTo  string // carried in both forms as a hidden return_to
	Notice    Notice
	Login     LoginForm
	Signup    SignupForm
	Providers []Provider
	// PasswordFormsHidden is the "brand login only" mode: only Providers.
	PasswordFormsHidden bool
}

// SignInMethod is one way the customer signs in, listed on /account.
type SignInMethod struct {
	Name   string // "Password", "Google"
	Detail string // "set", the provider's email…
	// UnlinkURL, when set, is the POST action of a "Remove" button; empty
	// for the password and for the last way to sign in.
	UnlinkURL string
}

// ProfileForm is the profile editor on /account.
type ProfileForm struct {
	Fields []FormField // every schema field
	Error  string
}

// PasswordForm changes (or, for social-only accounts, adds) a password.
type PasswordForm struct {
	// Off hides the section: the tenant signs customers in only through
	// its own provider, so a password could not be used.
	Off               bool
	HasPassword       bool // false: no "current password" input, the button says "Add a password"
	CurrentError      string
	NewError          string
	Error             string
	MinPasswordLength int
}

// AccountPage is GET /account: the signed-in customer's profile.
type AccountPage struct {
	Page          layout.Page
	Brand         Brand
	Email         string
	EmailVerified bool // false shows a banner with a resend button (POST /verify-email/resend)
	Notice        Notice
	Profile       ProfileForm  // POST /account
	Password      PasswordForm // POST /account/password
	Methods       []SignInMethod
	// LinkProviders are the enabled providers not linked yet; their URL
	// starts a link (/social/<key>?link=1).
	LinkProviders []Provider
	// Apps are the brand's apps the customer has signed in to.
	Apps []SignedInApp
}

// SignedInApp is an app on /account that holds the customer's sign-in;
// RevokeURL is the POST action of its "Sign out of this app" button.
type SignedInApp struct {
	Name      string
	RevokeURL string
}

// ProfileCompletePage is GET /profile/complete: the fields a customer must
// (Required) or may (Optional) fill before going on to ReturnTo.
type ProfileCompletePage struct {
	Page     layout.Page
	Brand    Brand
	Required []FormField
	Optional []FormField
	// CanSkip shows a "Not now" button (POST /profile/complete with
	// skip=1); false when a required field is missing.
	CanSkip  bool
	ReturnTo string
	Error    string
}

// ForgotPage is GET|POST /password/forgot.
type ForgotPage struct {
	Page       layout.Page
	Brand      Brand
	Email      string
	EmailError string
	// Sent replaces the form with "If an account exists for that address,
	// we have sent a link" — the same words whether or not it exists.
	Sent bool
}

// ResetPage is GET|POST /password/reset.
type ResetPage struct {
	Page              layout.Page
	Brand             Brand
	Token             string // hidden input; never shown
	PasswordError     string
	Error             string
	MinPasswordLength int
	// Invalid replaces the form with "This link has expired or was already
	// used" and a link to /password/forgot.
	Invalid bool
	// Action is where the form posts: /password/reset, or /password/set
	// for the "set your password" link an imported customer receives.
	Action string
}

func (v ResetPage) action() string {
	if v.Action == "" {
		return "/password/reset"
	}
	return v.Action
}

// VerifyPage is GET /verify-email: the outcome of a verification link.
type VerifyPage struct {
	Page    layout.Page
	Brand   Brand
	OK      bool
	Message string
	// SignedIn picks the follow-up link: /account when signed in, else /login.
	SignedIn bool
}

// SocialLinkPage is the view model of GET /social/link.
type SocialLinkPage struct {
	Page     layout.Page
	Brand    Brand
	Provider string // "Google"
	Email    string
	Token    string // hidden input; the pending link's id
	Error    string
	// ByMail confirms by a mailed link instead of the password: the tenant
	// takes no passwords (brand login only).
	ByMail bool
	// Sent says the link is on its way; Confirm is the page the mailed
	// link opens, whose button attaches the provider.
	Sent, Confirm bool
}
