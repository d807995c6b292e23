// Package apitest checks JSON API traffic against the OpenAPI document the
// real server serves, with kin-openapi. Every API test sends its requests
// through a Client (or calls Validate itself), so a route, schema, status
// or header that the document does not describe fails the test.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"gatehouse/app/apptest"
)

// Doc is the served document, loaded and validated, with a router that
// finds each request's operation.
type Doc struct {
	T      *openapi3.T
	router routers.Router
}

// Load fetches /api/v1/openapi.json from the server on host, checks that
// it is a valid OpenAPI document, and points its server at that host.
func Load(t testing.TB, srv *apptest.Server, host string) *Doc {
	t.Helper()
	resp, body := srv.Get(t, host, "/api/v1/openapi.json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d %.300s", resp.StatusCode, body)
	}
	return Parse(t, []byte(body), srv.URL(host, "/api/v1"))
}

// Parse loads a document from its bytes, validates it, and serves it at
// base (an absolute URL ending in /api/v1).
func Parse(t testing.TB, raw []byte, base string) *Doc {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi.json: router: %v", err)
	}
	return &Doc{T: doc, router: r}
}

// Validate checks one exchange: the request (with its body) must match an
// operation of the document, and the response (status, headers, body) must
// be one the operation declares. Security requirements are not evaluated
// here: whether a token is accepted is what the tests themselves assert.
func Validate(t testing.TB, doc *Doc, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t.Helper()
	if err := ValidateRequest(doc, req, reqBody); err != nil {
		t.Fatalf("%s %s: request does not match openapi.json: %v", req.Method, req.URL.Path, err)
	}
	if err := ValidateResponse(doc, req, reqBody, resp, respBody); err != nil {
		t.Fatalf("%s %s: response %d does not match openapi.json: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, respBody)
	}
}

var opts = &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}

func input(doc *Doc, req *http.Request, reqBody []byte) (*openapi3filter.RequestValidationInput, error) {
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := doc.router.FindRoute(r)
	if err != nil {
		return nil, err
	}
	return &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}, nil
}

// ValidateRequest reports how req differs from the document, or nil.
func ValidateRequest(doc *Doc, req *http.Request, reqBody []byte) error {
	in, err := input(doc, req, reqBody)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// ValidateResponse reports how resp differs from what the document
// declares for req's operation, or nil.
func ValidateResponse(doc *Doc, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	in, err := input(doc, req, reqBody)
	if err != nil {
		return err
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: opts,
	}
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// Client calls the API on one tenant host of the real server and
// validates every exchange against the served document. Each call takes
// the (sub)test it belongs to.
type Client struct {
	srv  *apptest.Server
	host string
	Doc  *Doc
}

// New loads the document from host and returns a client for it.
func New(t testing.TB, srv *apptest.Server, host string) *Client {
	return &Client{srv: srv, host: host, Doc: Load(t, srv, host)}
}

// Request is one call: Body is marshalled as JSON unless it is []byte or
// a string (sent as is, for malformed-input tests).
type Request struct {
	Method      string
	Path        string // below /api/v1, with its query: "/customers?limit=2"
	Token       string
	Body        any
	ContentType string // default application/json when there is a body
	Header      map[string]string
	// BadInput marks a request the test makes invalid on purpose: it is
	// not required to match the document (the response still must).
	BadInput bool
}

// Response is the answer, with the body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Problem is an RFC 9457 body as the API writes it.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// Problem decodes the body as a problem.
func (r Response) Problem(t testing.TB) Problem {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("not a problem body: %v: %s", err, r.Body)
	}
	return p
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.Body)
	}
}

// FieldNamed reports whether the problem names field.
func (p Problem) FieldNamed(field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// Do sends r and validates the exchange.
func (c *Client) Do(t testing.TB, r Request) Response {
	t.Helper()
	var body []byte
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = b
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	u := c.srv.URL(c.host, "/api/v1"+r.Path)
	req, err := http.NewRequest(r.Method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, respBody := c.srv.Do(t, req)
	if !r.BadInput {
		if err := ValidateRequest(c.Doc, req, body); err != nil {
			t.Fatalf("%s %s: request does not match openapi.json: %v", r.Method, r.Path, err)
		}
	}
	if err := ValidateResponse(c.Doc, req, body, resp, []byte(respBody)); err != nil {
		t.Fatalf("%s %s: response %d does not match openapi.json: %v\n%.500s", r.Method, r.Path, resp.StatusCode, err, respBody)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: []byte(respBody)}
}

// Get is Do for a GET with a token.
func (c *Client) Get(t testing.TB, path, token string) Response {
	t.Helper()
	return c.Do(t, Request{Method: http.MethodGet, Path: path, Token: token})
}

// Path escapes one path segment, for ids and emails in URLs.
func Path(s string) string { return url.PathEscape(s) }
