package api

import (
	"errors"
	"log/slog"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// ProblemBase prefixes every problem type. The types are stable: clients
// may switch on them. README.md ("JSON API") lists them.
const ProblemBase = "https://gatehouse.dev/problems/"

// The problem types, one per domain error code, plus the API's own.
var problemTypes = map[apperr.Code]problemType{
	apperr.Invalid:      {"validation", "Your request is not valid."},
	apperr.NotFound:     {"not-found", "Not found."},
	apperr.Conflict:     {"conflict", "Conflict."},
	apperr.Precondition: {"precondition-failed", "The resource has changed."},
	apperr.Unauthorized: {"unauthorized", "Authentication required."},
	apperr.Forbidden:    {"forbidden", "Not allowed."},
	apperr.TooMany:      {"too-many-requests", "Too many requests."},
	apperr.Unavailable:  {"unavailable", "Temporarily unavailable."},
	apperr.Internal:     {"internal", "Internal error."},
}

type problemType struct {
	slug  string
	title string
}

// ProblemJSON is an RFC 9457 problem details body.
type ProblemJSON struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// FieldError is one invalid input: the field (a registration field key, a
// JSON member, or a header or query parameter name) and what is wrong.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// typed is an error whose problem type is more specific than its code's,
// such as an Idempotency-Key reused with another body.
type typed struct {
	slug string
	err  *apperr.Error
}

func (t *typed) Error() string                    { return t.err.Error() }
func (t *typed) Unwrap() error                    { return t.err }
func (t *typed) ErrorCode() apperr.Code           { return t.err.Code }
func withType(slug string, e *apperr.Error) error { return &typed{slug: slug, err: e} }

// Problem is the API's one error writer: the status from web.StatusOf
// (the same mapping as the hosted pages), a stable type URI, the safe
// message as detail, every field error, and Retry-After when throttled.
// An internal error's text is only logged, with the request id.
func Problem(c *gin.Context, err error) {
	status := web.StatusOf(err)
	code := apperr.CodeOf(err)
	pt, ok := problemTypes[code]
	if !ok {
		pt, code = problemTypes[apperr.Internal], apperr.Internal
	}
	var tp *typed
	if errors.As(err, &tp) {
		pt.slug = tp.slug
	}
	if status >= 500 && code != apperr.Unavailable {
		loggerOf(c).Error("api_request_failed", "request_id", web.RequestID(c), "method", c.Request.Method, "path", c.FullPath(), "error", err)
	} else if apperr.Unreachable(err) {
		loggerOf(c).Warn("dependency_unreachable", "request_id", web.RequestID(c), "method", c.Request.Method, "path", c.FullPath(), "error", err)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		web.SetRetryAfter(c, err)
	}
	body := ProblemJSON{
		Type: ProblemBase + pt.slug, Title: pt.title, Status: status, Detail: web.PublicMessage(err),
		RequestID: web.RequestID(c), Errors: fieldErrors(err),
	}
	if _, plain := apperr.As(err); code == apperr.Invalid && (!plain || len(body.Errors) > 1) {
		body.Detail = "Some fields are not valid."
		if len(body.Errors) == 1 {
			body.Detail = body.Errors[0].Message
		}
	}
	// Set first: gin's JSON renderer keeps a Content-Type already set.
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, body)
}

const logKey = "api.log"

func loggerOf(c *gin.Context) *slog.Logger {
	v, _ := c.Get(logKey)
	if l, ok := v.(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

// fieldErrors lists what a validation error says about each field.
func fieldErrors(err error) []FieldError {
	var fe tenants.FieldErrors
	if errors.As(err, &fe) {
		out := make([]FieldError, 0, len(fe))
		for k, v := range fe {
			out = append(out, FieldError{Field: k, Message: v})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
		return out
	}
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid && e.Field != "" {
		return []FieldError{{Field: e.Field, Message: e.Message}}
	}
	return nil
}

// NotFound answers a path under /api/v1 that is no route.
func NotFound(c *gin.Context) {
	Problem(c, apperr.New(apperr.NotFound, "There is no such API route."))
}
