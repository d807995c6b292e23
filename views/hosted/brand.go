// Package hosted holds the pages customers see on a brand's host (log in,
// sign up, account, password reset) and the neutral pages (not found,
// unavailable, server error) that must not reveal or look like any tenant.
//
// The view models here are plain structs filled by handlers from domain
// values; nothing in this package knows about stores or gorm.
package hosted

import (
	"strings"
	"unicode"

	"gatehouse/views/layout"
)

// Brand is what a hosted page shows of its tenant. Handlers fill it from the
// tenant's settings; all of it is rendered as escaped text or sanitized URLs.
type Brand struct {
	// Name is the tenant's name, the fallback for DisplayName.
	Name string
	// DisplayName is the name customers see, when it differs from Name.
	DisplayName string
	// Headline is the greeting above the forms ("Welcome back").
	Headline string
	// SignupCopy is the short pitch shown on the sign-up tab.
	SignupCopy string
	// LogoURL is the logo image; when empty, a badge with the brand's
	// initial is shown instead.
	LogoURL string
}

// Title returns the name to show customers: DisplayName, or Name when no
// display name is set.
func (b Brand) Title() string {
	if s := strings.TrimSpace(b.DisplayName); s != "" {
		return s
	}
	return strings.TrimSpace(b.Name)
}

// headline returns the brand's greeting, or a generic one that still names
// the brand.
func (b Brand) headline() string {
	if s := strings.TrimSpace(b.Headline); s != "" {
		return s
	}
	if t := b.Title(); t != "" {
		return "Welcome to " + t
	}
	return "Welcome"
}

// initial returns the letter for the logo badge: the first letter or digit
// of the title, upper-cased, or "" when there is none (no badge is drawn).
func (b Brand) initial() string {
	for _, r := range b.Title() {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return string(unicode.ToUpper(r))
		}
	}
	return ""
}

// page returns the shell with a default title that names the brand.
func (v LoginPage) page() layout.Page {
	p := v.Page
	if p.Title == "" {
		p.Title = "Log in"
		if t := v.Brand.Title(); t != "" {
			p.Title = "Log in · " + t
		}
	}
	return p
}
