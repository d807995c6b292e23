// Package layout holds the HTML document shell every Gatehouse page renders
// into. It knows nothing about tenants: callers pass the URLs it needs, so the
// same shell serves hosted pages, the console and the neutral error pages.
package layout

// Page is the part of a view model that the document shell needs. Handlers
// fill it from assets.URL and the tenant's theme; every field is optional
// except Title.
type Page struct {
	// Title is the text of <title>. Pages that know their own title fill it
	// in when it is empty.
	Title string
	// Lang is the document language (BCP 47); empty means "en".
	Lang string
	// CSSURL is the hashed URL of app.css, linked first.
	CSSURL string
	// ThemeCSSURL is the tenant's theme sheet, linked after CSSURL so its
	// --gh-* custom properties win; empty on pages that must look neutral.
	ThemeCSSURL string
	// HTMXURL is the hashed URL of the vendored htmx; when empty the page
	// loads no script at all, and must then work without it.
	HTMXURL string
	// IconURL is the page's favicon: the tenant's icon on hosted pages, the
	// console's on console pages; empty links none.
	IconURL string
	// UIURL is the hashed URL of ui.js (copy buttons, show password),
	// loaded deferred; pages work without it.
	UIURL string
	// NoIndex asks search engines not to index the page (error pages,
	// account pages, anything behind a token).
	NoIndex bool
}

// lang returns the document language, defaulting to English so <html> is
// never without one (screen readers pick their voice from it).
func (p Page) lang() string {
	if p.Lang == "" {
		return "en"
	}
	return p.Lang
}

// htmxConfig is read by htmx from <meta name="htmx-config">. It keeps htmx
// inside the CSP and out of the browser's storage:
//   - includeIndicatorStyles: htmx would inject an inline <style>, which
//     style-src 'self' blocks; app.css carries the same rules.
//   - allowEval, allowScriptTags: script-src 'self' forbids eval and inline
//     scripts anyway; turning them off makes htmx not try.
//   - historyCacheSize 0: htmx would otherwise copy pages, with customers'
//     profile data, into localStorage for the back button.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0}`
