package api

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/assets"
)

// Reference serves the readable API reference at /api/v1/docs: Redoc,
// vendored from npm into assets/static (assets/vendor-redoc.sh), rendering
// the document served beside it. Nothing comes from a CDN.
type Reference struct {
	page []byte
}

var referencePage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Gatehouse JSON API reference</title>
</head>
<body>
<redoc spec-url="{{.Spec}}"></redoc>
<noscript><p>This reference needs JavaScript. The document itself is at <a href="{{.Spec}}">{{.Spec}}</a>.</p></noscript>
<script src="{{.Script}}"></script>
</body>
</html>
`))

// NewReference builds the page once, with the content-hashed script URL.
func NewReference(a *assets.Assets) (*Reference, error) {
	var buf bytes.Buffer
	err := referencePage.Execute(&buf, struct{ Spec, Script string }{Base + "/openapi.json", a.URL("redoc.standalone.js")})
	return &Reference{page: buf.Bytes()}, err
}

// referenceCSP is the site's policy with inline styles allowed: Redoc
// writes its styles at run time. Scripts still come only from this host,
// and the page has no form and no data of the tenant's.
const referenceCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; worker-src 'self' blob:; form-action 'none'; frame-ancestors 'none'; " +
	"base-uri 'none'; object-src 'none'"

func (r *Reference) serve(c *gin.Context) {
	c.Header("Content-Security-Policy", referenceCSP)
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "text/html; charset=utf-8", r.page)
}
