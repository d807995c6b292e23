// Package apperr is Gatehouse's one domain error type. Every package returns
// these codes, and app/web maps them to an HTTP status and a safe message in
// exactly one place, so no handler decides on its own what a caller may see.
package apperr

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Code classifies an error by what the caller can do about it.
type Code string

// The codes, following wtf's small set; add one only when a caller must react differently.
const (
	Invalid      Code = "invalid"      // the input is wrong; Field names it
	NotFound     Code = "not_found"    // no such thing, or not visible to this caller
	Conflict     Code = "conflict"     // it already exists or changed underneath
	Precondition Code = "precondition" // a conditional request (If-Match) names a version that is no longer current
	Unauthorized Code = "unauthorized" // not signed in, or the credentials are wrong
	Forbidden    Code = "forbidden"    // signed in, but not allowed
	TooMany      Code = "too_many"     // throttled; retry later
	Unavailable  Code = "unavailable"  // a dependency is down or the tenant is suspended
	Internal     Code = "internal"     // a bug or an outage; never shown in detail
)

// Error is a domain error. Message is safe to show to the person who caused it;
// Err, when set, is the underlying cause and is only ever logged.
type Error struct {
	Code    Code
	Field   string
	Message string
	Err     error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a message safe to show.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error that names the offending field, so forms and
// the CLI can put the message next to the right input.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap records err as the hidden cause of an Internal error.
func Wrap(err error, format string, args ...any) *Error {
	return &Error{Code: Internal, Message: fmt.Sprintf(format, args...), Err: err}
}

// Coder is an error type of another package that knows its code, such as a
// set of per-field form errors.
type Coder interface {
	ErrorCode() Code
}

// CodeOf returns the code of the first *Error or Coder in err's chain,
// Internal for any other non-nil error, and "" for nil. An internal error
// whose cause is a dependency out of reach (Unreachable) is Unavailable
// instead: the caller should come back, and nothing is wrong with the code.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Code == Internal && Unreachable(err) {
			return Unavailable
		}
		return e.Code
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	if Unreachable(err) {
		return Unavailable
	}
	return Internal
}

// Unreachable reports whether err says a database or another server could
// not be reached or dropped the connection: a network error, a connection
// closed mid-answer or before a request could leave, or a SQLSTATE of class 08 (connection exception) or
// 57P01-57P03 (the server is shutting down or starting). It looks only at
// standard interfaces, so this leaf imports no driver.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	// pgx says a request never left because the connection is closed
	// through this interface, or (on a connection that broke earlier in
	// the same transaction) with its ErrConnClosed, "conn closed".
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "conn closed" {
			return true
		}
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		code := st.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
	}
	return false
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
