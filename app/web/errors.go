package web

import (
	"net/http"

	"gatehouse/apperr"
)

// StatusOf is the one mapping from a domain error code to an HTTP status.
func StatusOf(err error) int {
	switch apperr.CodeOf(err) {
	case "":
		return http.StatusOK
	case apperr.Invalid:
		return http.StatusUnprocessableEntity
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Precondition:
		return http.StatusPreconditionFailed
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// PublicMessage is what a caller may read about err: the domain message for
// the codes a caller can act on, and a fixed sentence for anything internal,
// whose detail goes only to the log.
func PublicMessage(err error) string {
	e, ok := apperr.As(err)
	if apperr.CodeOf(err) == apperr.Unavailable && (!ok || e.Code == apperr.Internal) {
		return "The service is briefly unavailable. Please try again in a few seconds."
	}
	if !ok || e.Code == apperr.Internal {
		return "Something went wrong on our side. Please try again."
	}
	return e.Message
}
