package hosted

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"gatehouse/views/components"
	"gatehouse/views/layout"
)

// Modes of LoginPage.Mode.
const (
	modeLogin  = "login"
	modeSignup = "signup"
)

// loginPanelID is the id of the element LoginPanel renders; the tabs swap it.
const loginPanelID = "login-panel"

// mode returns the visible half of /login; anything but "signup" is the
// log-in form, so a bad ?mode= shows the common case.
func (v LoginPage) mode() string {
	if v.Mode == modeSignup {
		return modeSignup
	}
	return modeLogin
}

// tabURL is the link of the tab for mode: /login?mode=…, carrying return_to
// so a customer who switches tabs still lands where they were going.
func (v LoginPage) tabURL(mode string) string {
	q := url.Values{"mode": {mode}}
	if v.ReturnTo != "" {
		q.Set("return_to", v.ReturnTo)
	}
	return "/login?" + q.Encode()
}

// titled fills in a page title that names the brand, unless the handler set
// one.
func titled(p layout.Page, b Brand, title string) layout.Page {
	if p.Title == "" {
		p.Title = title
		if t := b.Title(); t != "" {
			p.Title = title + " · " + t
		}
	}
	return p
}

// private returns titled(...) kept out of search indexes: these pages show a
// customer's data or sit behind a token.
func private(p layout.Page, b Brand, title string) layout.Page {
	p = titled(p, b, title)
	p.NoIndex = true
	return p
}

func (v AccountPage) page() layout.Page {
	return private(v.Page, v.Brand, "Your account")
}

func (v ProfileCompletePage) page() layout.Page {
	return private(v.Page, v.Brand, "Complete your profile")
}

func (v ForgotPage) page() layout.Page {
	return titled(v.Page, v.Brand, "Forgot your password")
}

func (v ResetPage) page() layout.Page {
	return private(v.Page, v.Brand, "Choose a new password")
}

func (v VerifyPage) page() layout.Page {
	return private(v.Page, v.Brand, "Confirm your email")
}

// passwordHint is the hint under a new-password input.
func passwordHint(minLength int) string {
	if minLength <= 0 {
		return ""
	}
	return "At least " + strconv.Itoa(minLength) + " characters."
}

// kind returns how a field is drawn: "select" for select and country (both
// are lists of Options), "checkbox", or "input" for everything else.
func (f FormField) kind() string {
	switch f.Type {
	case "select", "country":
		return "select"
	case "checkbox":
		return "checkbox"
	default:
		return "input"
	}
}

// id keeps schema keys out of the namespace of the page's own ids (email,
// password, return_to…), whatever the tenant names its fields.
func (f FormField) id() string      { return "field-" + f.Key }
func (f FormField) hintID() string  { return f.id() + "-hint" }
func (f FormField) errorID() string { return f.id() + "-error" }
func (f FormField) checked() bool   { return f.Value == "true" }
func (f FormField) invalid() bool   { return f.Error != "" }
func (f FormField) fieldClass() string {
	if f.invalid() {
		return "field has-error"
	}
	return "field"
}

// describedBy ties the hint and the error to the control, as
// components.Field does.
func (f FormField) describedBy() string {
	var ids []string
	if f.Help != "" {
		ids = append(ids, f.hintID())
	}
	if f.Error != "" {
		ids = append(ids, f.errorID())
	}
	return strings.Join(ids, " ")
}

// placeholder reports whether a select starts with a blank "Choose…":
// always when the field may be left empty, and for a required field whose
// value is not one of the options, so the browser cannot silently submit the
// first option in the customer's name.
func (f FormField) placeholder() bool {
	return !f.Required || !slices.ContainsFunc(f.Options, func(o Option) bool { return o.Value == f.Value })
}

// autocompleteTokens maps common schema keys to the autocomplete tokens that
// browsers and password managers fill. Keys not listed get no token: a
// wrong guess would fill a tenant's custom field with unrelated data.
var autocompleteTokens = map[string]string{
	"name": "name", "full_name": "name", "fullname": "name",
	"first_name": "given-name", "firstname": "given-name", "given_name": "given-name",
	"last_name": "family-name", "lastname": "family-name", "family_name": "family-name", "surname": "family-name",
	"middle_name": "additional-name", "nickname": "nickname", "username": "username",
	"birthdate": "bday", "birthday": "bday", "date_of_birth": "bday", "dob": "bday",
	"gender": "sex", "sex": "sex",
	"company": "organization", "organization": "organization", "organisation": "organization",
	"job_title": "organization-title",
	"address":   "street-address", "street_address": "street-address",
	"city": "address-level2", "postal_code": "postal-code", "postcode": "postal-code", "zip": "postal-code",
	"website": "url", "url": "url", "language": "language",
}

// autocomplete returns the field's autocomplete token: fixed for phone and
// country, looked up by key otherwise.
func (f FormField) autocomplete() string {
	switch f.Type {
	case "phone":
		return "tel"
	case "country":
		return "country"
	}
	return autocompleteTokens[strings.ToLower(f.Key)]
}

// input returns the components.Input for a field drawn as an <input>: text,
// number, date and phone (unknown types fall back to text). The length
// limits go to text-like inputs and the bounds to number and date inputs,
// the only ones browsers apply them to.
func (f FormField) input() components.Input {
	in := components.Input{
		Name:         f.Key,
		ID:           f.id(),
		Label:        f.Label,
		Type:         "text",
		Value:        f.Value,
		Autocomplete: f.autocomplete(),
		Hint:         f.Help,
		Error:        f.Error,
		Required:     f.Required,
		MarkOptional: true,
	}
	switch f.Type {
	case "number", "date":
		in.Type = f.Type
		attrs := templ.Attributes{}
		if f.Min != "" {
			attrs["min"] = f.Min
		}
		if f.Max != "" {
			attrs["max"] = f.Max
		}
		if f.Type == "number" {
			// The schema may allow decimals; the server checks the range.
			attrs["step"] = "any"
		}
		in.Attrs = attrs
		return in
	case "phone":
		in.Type = "tel"
	}
	in.MinLength, in.MaxLength = f.MinLength, f.MaxLength
	return in
}

// initial is the letter of a provider or sign-in method badge.
func initial(name string) string {
	return Brand{Name: name}.initial()
}

// newPasswordLabel names the new-password input: "New password" next to the
// current one, plain "Password" when the account has none yet.
func newPasswordLabel(hasPassword bool) string {
	if hasPassword {
		return "New password"
	}
	return "Password"
}

// verifyMessage is the handler's message, or a default for the outcome.
func verifyMessage(v VerifyPage) string {
	if v.Message != "" {
		return v.Message
	}
	if v.OK {
		return "Thank you: your email address is confirmed."
	}
	return "The link has expired or was already used."
}
