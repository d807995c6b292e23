package tenants

import (
	"strings"
	"testing"

	"gatehouse/apperr"
)

func TestFieldClaimRules(t *testing.T) {
	base := Field{Key: "favourite_drink", Label: "Favourite drink", Type: TypeText, Capture: CaptureOptional}
	for name, c := range map[string]struct {
		claim, scope string
		field        string // "" when valid
		message      string
	}{
		"ok":                  {"favourite_drink", "coffee", "", ""},
		"ok scope with colon": {"drink", "brand:coffee", "", ""},
		"neither":             {"", "", "", ""},
		"registered iss":      {"iss", "coffee", "claim", "registered"},
		"registered email":    {"email_verified", "coffee", "claim", "registered"},
		"registered sid":      {"sid", "coffee", "claim", "registered"},
		"upper case":          {"Drink", "coffee", "claim", "must start with a letter"},
		"starts with digit":   {"1drink", "coffee", "claim", "must start with a letter"},
		"too long":            {strings.Repeat("a", 41), "coffee", "claim", "at most 40"},
		"scope without claim": {"", "coffee", "claim", "name the claim"},
		"claim without scope": {"drink", "", "claim_scope", "name the scope"},
		"standard scope":      {"drink", "openid", "claim_scope", "standard scope"},
		"offline_access":      {"drink", "offline_access", "claim_scope", "standard scope"},
		"scope with space":    {"drink", "my scope", "claim_scope", "must start with a letter"},
	} {
		t.Run(name, func(t *testing.T) {
			f := base
			f.Claim, f.ClaimScope = c.claim, c.scope
			err := CheckSchema([]Field{f})
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Field != c.field || !strings.Contains(e.Message, c.message) {
				t.Fatalf("got %v; want field %s with %q", err, c.field, c.message)
			}
		})
	}
	t.Run("two fields, one claim", func(t *testing.T) {
		a, b := base, base
		a.Claim, a.ClaimScope = "drink", "coffee"
		b.Key, b.Claim, b.ClaimScope = "other", "drink", "tea"
		if e, ok := apperr.As(CheckSchema([]Field{a, b})); !ok || e.Field != "claim" {
			t.Fatalf("duplicate claim: %v", e)
		}
	})
	t.Run("custom scopes group their fields", func(t *testing.T) {
		a, b, c := base, base, base
		a.Claim, a.ClaimScope = "drink", "coffee"
		b.Key, b.Claim, b.ClaimScope = "size", "cup_size", "coffee"
		c.Key = "secret"
		tn := &Tenant{Fields: []Field{a, b, c}}
		got := tn.CustomScopes()
		if len(got) != 1 || got[0].Name != "coffee" || len(got[0].Fields) != 2 || !tn.HasCustomScope("coffee") || tn.HasCustomScope("secret") {
			t.Fatalf("custom scopes %+v", got)
		}
	})
}
