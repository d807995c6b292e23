package oidc

import (
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestAccessTokenTyped: RFC 9068 §4's typ check takes at+jwt in either
// spelling and any case, and nothing else (id_tokens say JWT, logout
// tokens logout+jwt).
func TestAccessTokenTyped(t *testing.T) {
	for typ, want := range map[string]bool{
		"at+jwt": true, "AT+JWT": true, "application/at+jwt": true, "Application/At+JWT": true,
		"JWT": false, "logout+jwt": false, "": false, "at+jwt ": false, "application/jwt": false,
	} {
		hdr := jose.Header{ExtraHeaders: map[jose.HeaderKey]any{}}
		if typ != "" {
			hdr.ExtraHeaders[jose.HeaderType] = typ
		}
		if got := accessTokenTyped(hdr); got != want {
			t.Errorf("typ %q: got %v, want %v", typ, got, want)
		}
	}
	if accessTokenTyped(jose.Header{ExtraHeaders: map[jose.HeaderKey]any{jose.HeaderType: 1}}) {
		t.Error("a non-string typ was taken")
	}
}
