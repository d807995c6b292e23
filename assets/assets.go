// Package assets serves Gatehouse's static files (CSS, the vendored htmx and
// images) from the binary, under content-addressed names.
//
// Every file in static/ is hashed once, when New runs, and is then reachable
// at /static/<stem>.<hash>.<ext>: app.css becomes /static/app.3f2a1b9c0d.css.
// Because the name changes whenever the bytes change, those URLs are cached
// by browsers for a year without revalidation, and a deploy can never serve a
// page that points at yesterday's stylesheet. No node, CDN or build step is
// needed at run time; htmx is vendored by vendor-htmx.sh and committed.
package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed static
var embedded embed.FS

// Prefix is the URL path under which Handler serves files. Mount Handler on
// Prefix+"*" (gin: "/static/*filepath"); it expects to see the full path.
const Prefix = "/static/"

// hashLen is how many hex characters of the SHA-256 go into a file name:
// 40 bits is plenty to tell versions of one file apart, and keeps URLs short.
const hashLen = 10

// Cache-Control values. Hashed names never change content, so they are
// immutable; the plain name is kept for tools and humans and must revalidate.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNoCache   = "no-cache"
)

// Assets is the set of embedded static files, hashed and ready to serve.
// It is immutable after New, so one value is shared by every request.
type Assets struct {
	// byName maps the logical name ("app.css") to the file.
	byName map[string]*file
	// byPath maps every servable path below Prefix, hashed and plain, to
	// the file and whether that path is the hashed one.
	byPath map[string]route
}

type route struct {
	f      *file
	hashed bool
}

// file is one embedded file with everything a response needs, computed once.
type file struct {
	name        string // logical name, e.g. "app.css"
	hashedName  string // e.g. "app.3f2a1b9c0d.css"
	url         string // Prefix + hashedName
	contentType string
	etag        string // strong ETag of the identity bytes
	body        []byte
	gzBody      []byte // nil when gzip would not help
	gzETag      string
}

// New reads and hashes every file embedded under static/. It fails only if
// the embedded tree is unreadable, which would be a build mistake.
func New() (*Assets, error) {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		return nil, fmt.Errorf("assets: %w", err)
	}
	return newFromFS(sub)
}

// newFromFS builds Assets from any file system, so tests can use a fixture.
func newFromFS(fsys fs.FS) (*Assets, error) {
	a := &Assets{byName: map[string]*file{}, byPath: map[string]route{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		f := newFile(name, body)
		a.byName[name] = f
		a.byPath[f.hashedName] = route{f: f, hashed: true}
		a.byPath[name] = route{f: f}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("assets: reading embedded files: %w", err)
	}
	return a, nil
}

func newFile(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	full := hex.EncodeToString(sum[:])
	hashed := hashedName(name, full[:hashLen])
	f := &file{
		name:        name,
		hashedName:  hashed,
		url:         Prefix + hashed,
		contentType: contentType(name, body),
		etag:        `"` + full[:32] + `"`,
		body:        body,
	}
	if compressible(f.contentType) {
		if gz := gzipBytes(body); len(gz) < len(body)*9/10 {
			f.gzBody = gz
			f.gzETag = `"` + full[:32] + `-gz"`
		}
	}
	return f
}

// hashedName puts the hash before the last extension, so the name still ends
// in .css or .js: "htmx.min.js" becomes "htmx.min.<hash>.js" and a name with
// no extension gets the hash appended.
func hashedName(name, hash string) string {
	dir, base := path.Split(name)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if stem == "" { // a dot file such as ".well-known"; embed skips these anyway
		return dir + base + "." + hash
	}
	return dir + stem + "." + hash + ext
}

// contentTypes pins the types Gatehouse serves, so they do not depend on the
// host's mime tables (/etc/mime.types differs between distributions).
var contentTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".avif":  "image/avif",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
	".ts":    "text/plain; charset=utf-8", // the SDK's .d.ts; .ts would otherwise be video/mp2t
}

func contentType(name string, body []byte) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return http.DetectContentType(body)
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") ||
		strings.HasPrefix(contentType, "application/json") ||
		strings.HasPrefix(contentType, "image/svg+xml")
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(b)                                       // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

// URL returns the content-addressed URL of the embedded file name, such as
// "/static/app.3f2a1b9c0d.css" for "app.css". Names are paths relative to
// static/ ("img/logo.svg").
//
// It panics when name is not embedded. Asset names are constants written in
// code, so a wrong one is a programming error; panicking makes it fail the
// first test that renders the page, instead of shipping a page with a broken
// stylesheet. Use Has to check a name that comes from elsewhere.
func (a *Assets) URL(name string) string {
	f, ok := a.byName[name]
	if !ok {
		panic(fmt.Sprintf("assets: no embedded file %q", name))
	}
	return f.url
}

// Has reports whether name is an embedded file, for callers that must not
// panic in URL.
func (a *Assets) Has(name string) bool {
	_, ok := a.byName[name]
	return ok
}

// Names lists the embedded files by logical name, sorted, for diagnostics
// and tests.
func (a *Assets) Names() []string {
	names := make([]string, 0, len(a.byName))
	for n := range a.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler serves the embedded files under Prefix.
//
//   - /static/<hashed name> is served with a year-long immutable
//     Cache-Control, because its content can never change.
//   - /static/<plain name> is served with Cache-Control: no-cache, so a
//     hand-typed or legacy URL still works but always revalidates.
//   - Anything else, including a hashed name whose hash is not the current
//     one (a page from before a deploy), is a 404: serving the new bytes under
//     an old immutable name would poison caches.
//
// Responses carry a strong ETag (If-None-Match gives a 304), a pinned
// Content-Type, X-Content-Type-Options: nosniff, and a gzip body precomputed
// in New when the client accepts it. Only GET and HEAD are allowed.
func (a *Assets) Handler() http.Handler {
	return http.HandlerFunc(a.serve)
}

func (a *Assets) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	rt, ok := a.byPath[rel]
	if !ok {
		http.NotFound(w, r)
		return
	}
	cache := cacheNoCache
	if rt.hashed {
		cache = cacheImmutable
	}
	serveFile(w, r, rt.f, cache)
}

// SDKPrefix holds the browser SDK's files (static/sdk/). Brands' pages on
// other origins load them, as ES modules, which browsers fetch with CORS.
const SDKPrefix = "sdk/"

// cacheAlias is the Cache-Control of a stable alias such as
// /sdk/v1/gatehouse.js: short, so a deploy reaches every brand's pages
// within minutes, yet most page views need no request at all.
const cacheAlias = "public, max-age=300"

// Alias serves the embedded file name at a stable URL of the caller's
// choosing (the SDK's /sdk/v1/gatehouse.js), with a short Cache-Control
// instead of the hashed name's year. It panics when name is not embedded,
// as URL does.
func (a *Assets) Alias(name string) http.Handler {
	f, ok := a.byName[name]
	if !ok {
		panic(fmt.Sprintf("assets: no embedded file %q", name))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		// The hashed URL of the same bytes, for tools that pin a version.
		w.Header().Set("Link", "<"+f.url+`>; rel="canonical"`)
		serveFile(w, r, f, cacheAlias)
	})
}

func serveFile(w http.ResponseWriter, r *http.Request, f *file, cache string) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cache)
	if strings.HasPrefix(f.name, SDKPrefix) {
		// Public code, fetched without credentials: any origin may load it.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	body, etag := f.body, f.etag
	if f.gzBody != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			body, etag = f.gzBody, f.gzETag
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match, Range and HEAD. The zero modtime
	// leaves out Last-Modified: the ETag is the validator.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip, honouring
// q=0 ("gzip;q=0" and "*;q=0" refuse it).
func acceptsGzip(values []string) bool {
	gzip, star := -1.0, -1.0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			if p := strings.TrimSpace(params); p != "" {
				if qv, ok := strings.CutPrefix(strings.ReplaceAll(p, " ", ""), "q="); ok {
					q = parseQ(qv)
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzip = q
			case "*":
				star = q
			}
		}
	}
	if gzip >= 0 {
		return gzip > 0
	}
	return star > 0
}

// parseQ reads a qvalue ("0", "0.5", "1.000"); anything malformed counts as 1,
// the default, since a client that sent gzip at all most likely wants it.
func parseQ(s string) float64 {
	q, err := strconv.ParseFloat(s, 64)
	if err != nil || q < 0 || q > 1 {
		return 1
	}
	return q
}
