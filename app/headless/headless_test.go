package headless

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	good := strings.Repeat("a", 43)
	for name, tc := range map[string]struct {
		scope, challenge, method string
		required                 bool
		oauth                    string // "" when accepted
		scopes                   []string
	}{
		"defaults to openid":        {"", good, "", true, "", []string{"openid"}},
		"S256 spelled out":          {"openid email", good, "S256", true, "", []string{"openid", "email"}},
		"duplicates dropped":        {"openid openid profile", good, "", true, "", []string{"openid", "profile"}},
		"plain refused":             {"", good, "plain", true, "invalid_request", nil},
		"challenge required":        {"", "", "", true, "invalid_request", nil},
		"challenge optional later":  {"openid", "", "", false, "", []string{"openid"}},
		"too short":                 {"", "abc", "", true, "invalid_request", nil},
		"not base64url":             {"", strings.Repeat("+", 43), "", true, "invalid_request", nil},
		"too long":                  {"", strings.Repeat("a", 129), "", true, "invalid_request", nil},
		"API scope refused":         {"openid customers:read", good, "", true, "invalid_scope", nil},
		"offline_access is allowed": {"openid offline_access", good, "", true, "", []string{"openid", "offline_access"}},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := parseRequest(tc.scope, tc.challenge, tc.method, tc.required)
			if tc.oauth != "" {
				ref, ok := err.(*Refusal)
				if !ok || ref.OAuth != tc.oauth || ref.Status != 400 {
					t.Fatalf("err = %v, want %s", err, tc.oauth)
				}
				return
			}
			if err != nil || !slices.Equal(r.scopes, tc.scopes) || r.challenge != tc.challenge {
				t.Fatalf("got %+v, %v", r, err)
			}
		})
	}
}
