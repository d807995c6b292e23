package hosted

import "gatehouse/views/layout"

// neutral prepares the shell of a page that must not look like, or name, any
// tenant: it drops the theme sheet whatever the caller passed, sets the
// title, and keeps the page out of search indexes.
func neutral(p layout.Page, title string) layout.Page {
	p.Title = title
	p.ThemeCSSURL = ""
	p.NoIndex = true
	return p
}
