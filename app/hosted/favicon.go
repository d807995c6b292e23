package hosted

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
)

// FaviconPath is the tenant's icon on its own host. Every hosted page links
// it with the tenant's version, and /favicon.ico sends browsers that ask
// for the conventional name to it.
const FaviconPath = "/favicon"

// faviconURL is the icon's address for t as it is now: it changes whenever
// the tenant does (a new theme or logo touches it), so it may be cached.
func faviconURL(t *tenants.Tenant) string {
	return FaviconPath + "?v=" + faviconVersion(t)
}

func faviconVersion(t *tenants.Tenant) string {
	return strconv.FormatInt(t.UpdatedAt.UnixMilli(), 36)
}

// Favicon answers GET /favicon and /favicon.ico on a tenant's host. A tenant
// with a logo gets its logo; the others a monogram, the first letter of
// the brand's name on its primary colour, drawn as SVG from validated
// theme colours only (no user text reaches it unescaped).
func (p *Pages) Favicon(c *gin.Context) {
	t := tenants.FromGin(c)
	if c.Request.URL.Path != FaviconPath || c.Query("v") != faviconVersion(t) {
		c.Header("Cache-Control", "no-cache")
		c.Redirect(http.StatusFound, faviconURL(t))
		return
	}
	if logo := p.Brand(c.Request.Context(), t).LogoURL; logo != "" {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
		c.Redirect(http.StatusFound, logo)
		return
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "image/svg+xml", []byte(Monogram(Brand(t).Title(), t.Theme.PrimaryColor, t.Theme.ButtonTextColor)))
}

// Monogram draws initial-on-colour as a 64×64 rounded SVG. Colours that
// are not #rrggbb fall back to the default theme's.
func Monogram(name, background, foreground string) string {
	d := tenants.DefaultTheme()
	if c, err := tenants.ParseColor(background); err == nil {
		background = c
	} else {
		background = d.PrimaryColor
	}
	if c, err := tenants.ParseColor(foreground); err == nil {
		foreground = c
	} else {
		foreground = d.ButtonTextColor
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">`+
		`<rect width="64" height="64" rx="14" fill="%s"/>`+
		`<text x="32" y="44" text-anchor="middle" font-family="system-ui, sans-serif" font-size="34" font-weight="700" fill="%s">%s</text></svg>`,
		background, foreground, html.EscapeString(initial(name)))
}

// initial is the first letter or digit of name, upper-cased; "?" when it
// has none.
func initial(name string) string {
	for _, r := range strings.TrimSpace(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return string(unicode.ToUpper(r))
		}
	}
	return "?"
}
