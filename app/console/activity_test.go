package console

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/audit"
	views "gatehouse/views/console"
)

const macChrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// asStored gives a detail the shape it has after the database: JSON
// numbers are float64, structs are objects.
func asStored(t *testing.T, d map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestActivityItem(t *testing.T) {
	ana := uuid.MustParse("018f0000-0000-7000-8000-000000000001")
	gone := uuid.MustParse("018f0000-0000-7000-8000-000000000002")
	who := func(id uuid.UUID) string {
		if id == ana {
			return "Ana Lima (ana@example.com)"
		}
		return ""
	}
	at := time.Date(2026, 12, 1, 21, 10, 5, 0, time.UTC)
	for _, c := range []struct {
		name  string
		e     audit.Event
		title string
		actor string
		check func(t *testing.T, it views.ActivityItem)
	}{
		{"customer sign-in", audit.Event{Actor: "customer:" + ana.String(), Action: "customer.login", Target: "ana@example.com", IP: "203.0.113.7", UserAgent: macChrome},
			"Signed in", "Ana Lima (ana@example.com)", func(t *testing.T, it views.ActivityItem) {
				if it.Device != "Chrome on macOS" || it.IP != "203.0.113.7" || it.Target != "" {
					t.Errorf("device %q, ip %q, target %q", it.Device, it.IP, it.Target)
				}
			}},
		{"a stranger's failed sign-in", audit.Event{Actor: "anonymous", Action: "customer.login.failed", Target: "ana@example.com", IP: "198.51.100.9"},
			"Sign-in failed", "Someone trying ana@example.com", nil},
		{"a failed sign-in with no address", audit.Event{Actor: "anonymous", Action: "social.failed", Target: "google"},
			"Social sign-in failed", "Someone (unknown)", func(t *testing.T, it views.ActivityItem) {
				if it.Target != "google" {
					t.Errorf("target %q", it.Target)
				}
			}},
		{"a reset anyone can ask for", audit.Event{Actor: "customer:" + ana.String(), Action: "customer.password.reset_requested", Target: "ana@example.com", Detail: map[string]any{"sent": "reset_link"}},
			"Password reset requested", "Someone (unknown)", func(t *testing.T, it views.ActivityItem) {
				if want := []views.Note{{Label: "Sent", Value: "reset link"}}; !reflect.DeepEqual(it.Notes, want) {
					t.Errorf("notes %+v", it.Notes)
				}
			}},
		{"a customer since deleted", audit.Event{Actor: "customer:" + gone.String(), Action: "customer.logout"},
			"Signed out", "A customer no longer here", nil},
		{"theme change by staff", audit.Event{Actor: "staff:owner@acme.test", Action: "theme.updated", Target: "acme",
			Detail: map[string]any{"before": map[string]any{"primary_color": "#4f46e5", "logo_url": ""}, "after": map[string]any{"primary_color": "#0f766e", "logo_url": "https://cdn.example.com/l.png"}}},
			"Theme changed", "owner@acme.test", func(t *testing.T, it views.ActivityItem) {
				want := []views.Change{
					{Field: "Logo url", Kind: views.Changed, Before: "", After: "https://cdn.example.com/l.png"},
					{Field: "Primary color", Kind: views.Changed, Before: "#4f46e5", After: "#0f766e"},
				}
				if !reflect.DeepEqual(it.Changes, want) {
					t.Errorf("changes %+v", it.Changes)
				}
			}},
		{"a role, before and after as values", audit.Event{Actor: "staff:owner@acme.test", Action: "staff.role.changed", Target: "new.hire@example.com", Detail: map[string]any{"before": "admin", "after": "support"}},
			"Role changed", "owner@acme.test", func(t *testing.T, it views.ActivityItem) {
				if want := []views.Change{{Field: "Role", Kind: views.Changed, Before: "admin", After: "support"}}; !reflect.DeepEqual(it.Changes, want) {
					t.Errorf("changes %+v", it.Changes)
				}
				if it.Target != "new.hire@example.com" {
					t.Errorf("target %q", it.Target)
				}
			}},
		{"created: every field added, nested ones named by path", audit.Event{Actor: "staff:owner@acme.test", Action: "app.created", Target: "app_1",
			Detail: map[string]any{"after": map[string]any{"name": "Shop", "redirect_uris": []any{"https://a.example/cb", "https://b.example/cb"}, "pkce": true, "limits": map[string]any{"per_minute": 60}}}},
			"App created", "owner@acme.test", func(t *testing.T, it views.ActivityItem) {
				want := []views.Change{
					{Field: "Limits › Per minute", Kind: views.Added, After: "60"},
					{Field: "Name", Kind: views.Added, After: "Shop"},
					{Field: "Pkce", Kind: views.Added, After: "yes"},
					{Field: "Redirect uris", Kind: views.Added, After: "https://a.example/cb, https://b.example/cb"},
				}
				if !reflect.DeepEqual(it.Changes, want) {
					t.Errorf("changes %+v", it.Changes)
				}
			}},
		{"deleted: fields removed", audit.Event{Actor: "staff:owner@acme.test", Action: "domain.removed", Target: "login.acme.example",
			Detail: map[string]any{"before": map[string]any{"hostname": "login.acme.example", "verified": true}}},
			"Domain removed", "owner@acme.test", func(t *testing.T, it views.ActivityItem) {
				want := []views.Change{{Field: "Hostname", Kind: views.Removed, Before: "login.acme.example"}, {Field: "Verified", Kind: views.Removed, Before: "yes"}}
				if !reflect.DeepEqual(it.Changes, want) {
					t.Errorf("changes %+v", it.Changes)
				}
			}},
		{"a multi-line value as lines", audit.Event{Actor: "staff:owner@acme.test", Action: "field.updated", Target: "bio",
			Detail: map[string]any{"before": map[string]any{"Help": "one\ntwo\nthree"}, "after": map[string]any{"Help": "one\n2\nthree\nfour"}}},
			"Field changed", "owner@acme.test", func(t *testing.T, it views.ActivityItem) {
				want := []views.DiffLine{{Op: " ", Text: "one"}, {Op: "-", Text: "two"}, {Op: "+", Text: "2"}, {Op: " ", Text: "three"}, {Op: "+", Text: "four"}}
				if len(it.Changes) != 1 || !reflect.DeepEqual(it.Changes[0].Lines, want) {
					t.Errorf("changes %+v", it.Changes)
				}
			}},
		{"a switch turned on", audit.Event{Actor: "staff:owner@acme.test", Action: "webhook.endpoint.enabled_changed", Target: "https://hooks.example/x", Detail: map[string]any{"before": false, "after": true}},
			"Webhook turned on", "owner@acme.test", func(t *testing.T, it views.ActivityItem) {
				if want := []views.Change{{Field: "On", Kind: views.Changed, Before: "no", After: "yes"}}; !reflect.DeepEqual(it.Changes, want) {
					t.Errorf("changes %+v", it.Changes)
				}
			}},
		{"notes in words", audit.Event{Actor: "staff:owner@acme.test", Action: "app.secret.rotated", Target: "app_1", Detail: map[string]any{"grace_seconds": 3600}},
			"App secret replaced", "owner@acme.test", func(t *testing.T, it views.ActivityItem) {
				if want := []views.Note{{Label: "Grace seconds", Value: "1h0m0s"}}; !reflect.DeepEqual(it.Notes, want) || it.Changes != nil {
					t.Errorf("notes %+v, changes %+v", it.Notes, it.Changes)
				}
			}},
		{"an unknown action still reads", audit.Event{Actor: "app:shop", Action: "customer.magic_link.sent"},
			"Customer magic link sent", "App shop", nil},
		{"the system", audit.Event{Actor: "system", Action: "webhook.endpoint.disabled", Detail: map[string]any{"reason": "too_many_failures"}},
			"Webhook turned off after failures", "Gatehouse (automatic)", func(t *testing.T, it views.ActivityItem) {
				if want := []views.Note{{Label: "Reason", Value: "too many failures"}}; !reflect.DeepEqual(it.Notes, want) {
					t.Errorf("notes %+v", it.Notes)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.e.At = at
			c.e.Detail = asStored(t, c.e.Detail)
			it := activityItem(c.e, who)
			if it.Title != c.title || it.Actor != c.actor || it.Action != c.e.Action || it.At != "2026-12-01 21:10:05" {
				t.Errorf("title %q, actor %q, action %q, at %q", it.Title, it.Actor, it.Action, it.At)
			}
			if c.check != nil {
				c.check(t, it)
			}
		})
	}
}

// Every action some code records has a title in words, not the fallback.
func TestActivityTitlesCoverRecordedActions(t *testing.T) {
	for _, a := range recordedActions(t) {
		if _, ok := activityTitles[a]; !ok {
			t.Errorf("no title for %q (it would read %q)", a, actionTitle(a))
		}
	}
}

func TestFieldLabel(t *testing.T) {
	for in, want := range map[string]string{"min_password_length": "Min password length", "ClientID": "Client id", "Options": "Options", "brand_login_only": "Brand login only"} {
		if got := fieldLabel(in); got != want {
			t.Errorf("fieldLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
