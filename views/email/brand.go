// Package email holds the templ components of Gatehouse's mail: a branded
// HTML layout, the message bodies and their plain-text twins. Text parts are
// templ components too, so a body and its text version are written side by
// side and both get templ's escaping; app/mail's RenderText undoes the
// escaping for text/plain.
package email

// Brand is the view model of a tenant's look in mail. It has only what a
// mail needs, so nothing secret can reach a template. The colours must
// already be validated as #rrggbb; the components check again and fall back
// to neutral colours rather than trust them.
type Brand struct {
	Name            string // shown in the header and the footer
	PrimaryColor    string // header bar and buttons, #rrggbb
	ButtonTextColor string // text on PrimaryColor, #rrggbb
	LogoURL         string // http(s) URL of the logo; empty shows the name
	SiteURL         string // linked from the footer; may be empty
}
