package social

import (
	"errors"
	"strings"

	"golang.org/x/oauth2"

	"gatehouse/app/outbound"
	"gatehouse/apperr"
)

// The reasons a federated sign-in fails, as logs (`social_failed`), audit
// events (`social.failed`) and the console show them. They are stable keys:
// alerts and dashboards match on them.
const (
	ReasonDiscovery     = "discovery"      // the discovery document or JWKS could not be fetched or was wrong
	ReasonTokenExchange = "token_exchange" // the token endpoint refused the code or could not be reached
	ReasonInvalidClient = "invalid_client" // the token endpoint refused our client id or secret
	ReasonIDToken       = "id_token"       // the id_token failed verification (signature, issuer, audience, expiry, nonce)
	ReasonUserinfo      = "userinfo"       // the userinfo call failed, or named another subject
	ReasonTimeout       = "timeout"        // the provider did not answer in time
)

// Failure is a sign-in that failed at the provider's end, with the reason
// the admin needs and a detail (never a token or secret) for the log. The
// customer sees only the one message of its code.
type Failure struct {
	Reason string
	Detail string
	code   apperr.Code
}

func (f *Failure) Error() string { return "social: " + f.Reason + ": " + f.Detail }

// ErrorCode maps the failure for the error mapper: the customer is told the
// provider could not be reached, or that the sign-in could not be verified.
func (f *Failure) ErrorCode() apperr.Code { return f.code }

// fail builds a Failure from the error a library returned. A timeout is
// reported as such whatever step it hit, because "the provider is slow or
// down" is what the admin must hear; an address refused by the outbound
// guard is said plainly in the detail.
func fail(reason string, err error) *Failure {
	detail := ""
	if err != nil {
		detail = err.Error()
		if outbound.IsTimeout(err) {
			reason = ReasonTimeout
		}
		if outbound.IsBlocked(err) {
			detail = "refused by the outbound address guard: " + detail
		}
	}
	if len(detail) > 300 {
		detail = detail[:300]
	}
	code := apperr.Unavailable
	if reason == ReasonIDToken {
		code = apperr.Unauthorized
	}
	return &Failure{Reason: reason, Detail: detail, code: code}
}

// tokenFailure tells invalid_client (a wrong secret, the admin's to fix)
// from every other refusal of the token endpoint.
func tokenFailure(err error) *Failure {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" {
			return fail(ReasonInvalidClient, errors.New(re.ErrorCode+" "+re.ErrorDescription))
		}
		if re.ErrorCode != "" {
			return fail(ReasonTokenExchange, errors.New(re.ErrorCode+" "+re.ErrorDescription))
		}
	}
	if err != nil && strings.Contains(err.Error(), "invalid_client") {
		return fail(ReasonInvalidClient, err)
	}
	return fail(ReasonTokenExchange, err)
}

// failureOf returns the Failure in err, if any.
func failureOf(err error) (*Failure, bool) {
	var f *Failure
	ok := errors.As(err, &f)
	return f, ok
}
