package tenants_test

import (
	"strings"
	"testing"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

func TestMailTextNormalize(t *testing.T) {
	for _, tc := range []struct {
		name, subject, intro, field, want string
	}{
		{"ok", "  Welcome to {brand}  ", "Hi {email}\r\nThanks", "", ""},
		{"empty is the default", "", "", "", ""},
		{"unknown placeholder", "Hi {name}", "", "subject", "{name} is not a placeholder"},
		{"unknown placeholder in intro", "", "Hi {first_name}", "intro", "{first_name} is not a placeholder"},
		{"unclosed brace", "", "Hi {brand", "intro", "does not close a placeholder"},
		{"tag", "", "Click <a href=x>here</a>", "intro", "plain text"},
		{"entity", "Tom &amp; Jerry", "", "subject", "plain text"},
		{"two lines of subject", "a\nb", "", "subject", "one line"},
		{"control character", "", "a\x07b", "intro", "control character"},
		{"subject too long", strings.Repeat("é", tenants.MaxMailSubject+1), "", "subject", "at most 150"},
		{"intro too long", "", strings.Repeat("x", tenants.MaxMailIntro+1), "intro", "at most 1000"},
		{"a lone less-than is text", "2 < 3", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tenants.MailText{Subject: tc.subject, Intro: tc.intro}.Normalize()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if strings.ContainsAny(got.Intro, "\r") || got.Subject != strings.TrimSpace(got.Subject) {
					t.Fatalf("not normalised: %+v", got)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Field != tc.field || !strings.Contains(e.Message, tc.want) {
				t.Fatalf("got %v, want %s: %s", err, tc.field, tc.want)
			}
		})
	}
}
