// Package api is Gatehouse's JSON API, mounted at /api/v1 on every tenant
// host: customer management for a brand's back-end (machine tokens),
// self-service for a signed-in customer (the customer's own token), and
// imports. Callers authenticate with bearer access tokens from the tenant's
// OpenID Provider; there are no cookies, so there is no CSRF. Every error
// is an RFC 9457 problem, written by Problem. The OpenAPI document that
// describes all of it is assembled from the fragments in openapi/ and
// served at /api/v1/openapi.json.
package api
