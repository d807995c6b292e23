package console

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/audit"
	"gatehouse/tenants"
	views "gatehouse/views/console"
)

// activityTitles names, in words, every action the code records. An action
// missing here still reads as words (actionTitle), only less well.
var activityTitles = map[string]string{
	"customer.login":                    "Signed in",
	"customer.login.failed":             "Sign-in failed",
	"customer.logout":                   "Signed out",
	"customer.signup":                   "Signed up",
	"customer.signup.existing":          "Sign-up tried with an existing email",
	"customer.created":                  "Customer created",
	"customer.updated":                  "Customer updated",
	"customer.deleted":                  "Customer deleted",
	"customer.disabled":                 "Customer disabled",
	"customer.status.changed":           "Status changed",
	"customer.profile.updated":          "Profile updated",
	"customer.profile.completed":        "Profile completed",
	"customer.password.changed":         "Password changed",
	"customer.password.change_failed":   "Password change failed",
	"customer.password.reset":           "Password reset",
	"customer.password.reset_requested": "Password reset requested",
	"customer.password.reset_sent":      "Password reset link sent",
	"customer.password.set":             "Password chosen",
	"customer.email.verified":           "Email verified",
	"customer.verification.sent":        "Verification email sent",
	"customer.login.attempts_notified":  "Warned about failed sign-ins",
	"customer.identity.linked":          "Sign-in method linked",
	"customer.identity.unlinked":        "Sign-in method unlinked",
	"customer.session.revoked":          "Session ended",
	"customer.sessions.revoked":         "All sessions ended",
	"customer.tokens.revoked":           "App tokens revoked",
	"customer.app.revoked":              "App access revoked",
	"customer.exported":                 "Data exported",
	"social.failed":                     "Social sign-in failed",
	"oidc.consent.granted":              "App access granted",
	"oidc.app.revoked":                  "App access revoked",
	"oidc.code.replayed":                "Authorization code used twice",
	"oidc.refresh_token.reused":         "Refresh token reused",
	"staff.login":                       "Staff signed in",
	"staff.login.failed":                "Staff sign-in failed",
	"staff.login.totp_failed":           "Wrong two-factor code",
	"staff.recovery_code.used":          "Recovery code used",
	"staff.totp.enabled":                "Two-factor sign-in turned on",
	"staff.totp.disabled":               "Two-factor sign-in turned off",
	"staff.created":                     "Staff account created",
	"staff.invited":                     "Staff invited",
	"staff.invite.accepted":             "Invitation accepted",
	"staff.invite.revoked":              "Invitation withdrawn",
	"staff.role.granted":                "Role granted",
	"staff.role.changed":                "Role changed",
	"staff.removed":                     "Staff removed",
	"staff.password.set":                "Staff password set",
	"staff.password.reset_requested":    "Staff password reset requested",
	"staff.password.reset":              "Staff password reset",
	"tenant.created":                    "Tenant created",
	"tenant.suspended":                  "Tenant suspended",
	"tenant.resumed":                    "Tenant resumed",
	"theme.updated":                     "Theme changed",
	"mail_text.updated":                 "Email wording changed",
	"mail_text.reset":                   "Email wording reset to default",
	"theme.logo.updated":                "Logo changed",
	"theme.logo.removed":                "Logo removed",
	"settings.updated":                  "Settings changed",
	"field.added":                       "Field added",
	"field.updated":                     "Field changed",
	"field.removed":                     "Field removed",
	"field.moved":                       "Fields reordered",
	"domain.added":                      "Domain added",
	"domain.verified":                   "Domain verified",
	"domain.removed":                    "Domain removed",
	"social.updated":                    "Social sign-in changed",
	"app.created":                       "App created",
	"app.deleted":                       "App deleted",
	"app.secret.rotated":                "App secret replaced",
	"app.backchannel_logout.updated":    "Back-channel logout changed",
	"signing_key.rotated":               "Signing keys rotated",
	"webhook.endpoint.created":          "Webhook added",
	"webhook.endpoint.deleted":          "Webhook deleted",
	"webhook.endpoint.disabled":         "Webhook turned off after failures",
	"webhook.endpoint.enabled_changed":  "Webhook turned on or off",
	"webhook.secret.rotated":            "Webhook secret replaced",
	"webhook.delivery.resent":           "Webhook delivery resent",
	"import.uploaded":                   "Import file uploaded",
	"import.upload_failed":              "Import file refused",
	"import.mapping.saved":              "Import mapping saved",
	"import.dry_run.started":            "Import dry run started",
	"import.dry_run.finished":           "Import dry run finished",
	"import.started":                    "Import started",
	"import.finished":                   "Import finished",
	"import.completed":                  "Import completed",
	"import.failed":                     "Import failed",
	"import.paused":                     "Import paused",
	"import.resumed":                    "Import resumed",
	"import.cancelled":                  "Import cancelled",
	"campaign.started":                  "Password campaign started",
	"campaign.stopped":                  "Password campaign stopped",
	"campaign.finished":                 "Password campaign finished",
}

// tryingActions are attempts a stranger can make: their actor is whoever
// typed, never the account they tried.
var tryingActions = map[string]bool{
	"customer.login.failed":   true,
	"staff.login.failed":      true,
	"staff.login.totp_failed": true,
	"social.failed":           true,
}

// requestedByAnyone are actions that anyone who knows an address can
// start, though the event names the account: the form asks for no proof.
var requestedByAnyone = map[string]bool{
	"customer.password.reset_requested": true,
	"staff.password.reset_requested":    true,
}

// actionTitle is an action in words: its known title, or the key made
// readable ("import.mapping.saved" reads "Import mapping saved").
func actionTitle(action string) string {
	if t, ok := activityTitles[action]; ok {
		return t
	}
	return sentence(strings.NewReplacer(".", " ", "_", " ", "-", " ").Replace(action))
}

// sentence capitalises s's first letter.
func sentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return ""
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// whoIs names a customer by id for the activity, "" when unknown.
type whoIs func(id uuid.UUID) string

// activityItem is event e as the console shows it. who names customers.
func activityItem(e audit.Event, who whoIs) views.ActivityItem {
	it := views.ActivityItem{
		At: e.At.UTC().Format("2006-01-02 15:04:05"), AtISO: e.At.UTC().Format(time.RFC3339),
		Title: actionTitle(e.Action), Action: e.Action, Actor: actorName(e, who), Target: e.Target,
		Device: audit.DeviceName(e.UserAgent), IP: e.IP,
	}
	if it.Target == it.Actor || strings.HasSuffix(it.Actor, " "+e.Target) || strings.Contains(it.Actor, "("+e.Target+")") {
		it.Target = ""
	}
	if e.Action == "webhook.endpoint.enabled_changed" {
		if on, ok := e.Detail["after"].(bool); ok {
			it.Title = map[bool]string{true: "Webhook turned on", false: "Webhook turned off"}[on]
		}
	}
	it.Changes, it.Notes = changesOf(e)
	return it
}

// actorName is who did something, by name or email. A stranger's attempt
// reads as someone trying the account, never as the account's owner.
func actorName(e audit.Event, who whoIs) string {
	kind, id, _ := strings.Cut(e.Actor, ":")
	switch {
	case kind == "staff" && id != "":
		return id
	case tryingActions[e.Action] || requestedByAnyone[e.Action] || kind == "anonymous" || e.Actor == "":
		if tryingActions[e.Action] && strings.Contains(e.Target, "@") {
			return "Someone trying " + e.Target
		}
		return "Someone (unknown)"
	case kind == "customer":
		if uid, err := uuid.Parse(id); err == nil && who != nil {
			if n := who(uid); n != "" {
				return n
			}
		}
		return "A customer no longer here"
	case kind == "app" || kind == "client":
		return "App " + id
	case kind == "system":
		return "Gatehouse (automatic)"
	case kind == "cli":
		return "An operator (command line)"
	}
	return e.Actor
}

// activity turns a page of t's events into activity items, naming the
// customers who acted by name and email. Each customer is looked up
// once, in t only: an id of another tenant names nobody.
func (h *Handlers) activity(ctx context.Context, t *tenants.Tenant, events []audit.Event) []views.ActivityItem {
	names := map[uuid.UUID]string{}
	who := func(id uuid.UUID) string {
		if n, ok := names[id]; ok {
			return n
		}
		n := ""
		if h.d.Customers != nil {
			if cu, err := h.d.Customers.Customer(ctx, t, id); err == nil {
				n = customerName(cu)
			}
		}
		names[id] = n
		return n
	}
	out := make([]views.ActivityItem, 0, len(events))
	for _, e := range events {
		out = append(out, activityItem(e, who))
	}
	return out
}

// customerName is "Ana Lima (ana@example.com)", or the email alone.
func customerName(cu *accounts.Customer) string {
	first, _ := cu.Profile["first_name"].(string)
	last, _ := cu.Profile["last_name"].(string)
	if name := strings.TrimSpace(first + " " + last); name != "" {
		return name + " (" + cu.Email + ")"
	}
	return cu.Email
}

// changesOf splits an event's detail into the changes its before and
// after describe, field by field, and the rest as notes.
func changesOf(e audit.Event) ([]views.Change, []views.Note) {
	d := e.Detail
	var notes []views.Note
	keys := make([]string, 0, len(d))
	for k := range d {
		if k != "before" && k != "after" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		notes = append(notes, views.Note{Label: fieldLabel(k), Value: noteValue(k, d[k])})
	}
	before, hasBefore := d["before"]
	after, hasAfter := d["after"]
	if !hasBefore && !hasAfter {
		return nil, notes
	}
	bm, bIsMap := asMap(before)
	am, aIsMap := asMap(after)
	if (bIsMap || !hasBefore) && (aIsMap || !hasAfter) {
		return diffMaps(flatten("", bm), flatten("", am)), notes
	}
	// A single value: the field is what the action is about.
	ch := views.Change{Field: scalarField(e), Kind: views.Changed, Before: valueText(before), After: valueText(after)}
	switch {
	case !hasBefore:
		ch.Kind, ch.Before = views.Added, ""
	case !hasAfter:
		ch.Kind, ch.After = views.Removed, ""
	}
	return []views.Change{withLines(ch)}, notes
}

// scalarField names the one value a before and after of e describe.
func scalarField(e audit.Event) string {
	switch {
	case strings.HasPrefix(e.Action, "staff.role.") || e.Action == "staff.removed":
		return "Role"
	case strings.HasPrefix(e.Action, "tenant."), e.Action == "customer.status.changed":
		return "Status"
	case e.Action == "webhook.endpoint.enabled_changed":
		return "On"
	case e.Action == "settings.updated" && e.Target != "":
		return fieldLabel(e.Target)
	}
	return "Value"
}

// asMap reads v as an object; a struct stored as JSON comes back as one.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case nil:
		return nil, false
	}
	return nil, false
}

// flatten turns nested objects into one level, "Parent › child".
func flatten(prefix string, m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		name := fieldLabel(k)
		if prefix != "" {
			name = prefix + " › " + name
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			for sk, sv := range flatten(name, sub) {
				out[sk] = sv
			}
			continue
		}
		out[name] = v
	}
	return out
}

// diffMaps lists the fields that differ between before and after, in
// order of name: changed, added (only after) or removed (only before).
func diffMaps(before, after map[string]any) []views.Change {
	names := map[string]bool{}
	for k := range before {
		names[k] = true
	}
	for k := range after {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var out []views.Change
	for _, k := range sorted {
		b, inB := before[k]
		a, inA := after[k]
		ch := views.Change{Field: k, Before: valueText(b), After: valueText(a)}
		switch {
		case inB && inA:
			if ch.Before == ch.After {
				continue
			}
			ch.Kind = views.Changed
		case inA:
			ch.Kind, ch.Before = views.Added, ""
		default:
			ch.Kind, ch.After = views.Removed, ""
		}
		// An empty field that came or went says nothing.
		if ch.Kind != views.Changed && ch.Before == "" && ch.After == "" {
			continue
		}
		out = append(out, withLines(ch))
	}
	return out
}

// withLines shows a multi-line value as lines added and removed.
func withLines(ch views.Change) views.Change {
	if !strings.Contains(ch.Before, "\n") && !strings.Contains(ch.After, "\n") {
		return ch
	}
	ch.Lines = lineDiff(splitLines(ch.Before), splitLines(ch.After))
	return ch
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// maxDiffLines bounds the line diff's table (its cost is the product of
// the two lengths); longer values are shown whole, removed then added.
const maxDiffLines = 400

// lineDiff is a longest-common-subsequence diff of two lists of lines.
func lineDiff(a, b []string) []views.DiffLine {
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		out := make([]views.DiffLine, 0, len(a)+len(b))
		for _, l := range a {
			out = append(out, views.DiffLine{Op: "-", Text: l})
		}
		for _, l := range b {
			out = append(out, views.DiffLine{Op: "+", Text: l})
		}
		return out
	}
	// lcs[i][j] is the common length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []views.DiffLine
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, views.DiffLine{Op: " ", Text: a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, views.DiffLine{Op: "-", Text: a[i]})
			i++
		default:
			out = append(out, views.DiffLine{Op: "+", Text: b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, views.DiffLine{Op: "-", Text: a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, views.DiffLine{Op: "+", Text: b[j]})
	}
	return out
}

// fieldLabel makes a detail key readable: "min_password_length" reads
// "Min password length", a Go field name "ClientID" reads "Client id".
func fieldLabel(k string) string {
	var b strings.Builder
	prev := rune(0)
	for i, r := range k {
		if r == '_' || r == '-' {
			b.WriteByte(' ')
			prev = ' '
			continue
		}
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(prev) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
		prev = r
	}
	return sentence(b.String())
}

// noteValue is a note's value in words.
func noteValue(k string, v any) string {
	if n, ok := v.(float64); ok && strings.HasSuffix(k, "_seconds") {
		return (time.Duration(n) * time.Second).String()
	}
	if s, ok := v.(string); ok && (k == "sent" || k == "reason" || k == "method" || k == "mode") {
		return strings.ToLower(sentence(strings.ReplaceAll(s, "_", " ")))
	}
	return valueText(v)
}

// maxValue is how much of one value is shown.
const maxValue = 2000

// valueText is a detail value as text: yes/no for booleans, lists joined,
// objects as "key: value" pairs.
func valueText(v any) string {
	s := valueString(v)
	if utf8.RuneCountInString(s) > maxValue {
		s = string([]rune(s)[:maxValue]) + "…"
	}
	return s
}

func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, 0, len(x))
		for _, el := range x {
			parts = append(parts, valueString(el))
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if s := valueString(x[k]); s != "" {
				parts = append(parts, fieldLabel(k)+": "+s)
			}
		}
		if len(parts) == 0 {
			return ""
		}
		return "(" + strings.Join(parts, "; ") + ")"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// customerActivity is the activity on cu's page: the customer is the
// page's subject, so an event about them names no target.
func (h *Handlers) customerActivity(ctx context.Context, t *tenants.Tenant, cu *accounts.Customer, events []audit.Event) []views.ActivityItem {
	items := h.activity(ctx, t, events)
	for i, e := range events {
		if strings.EqualFold(e.Target, cu.Email) {
			items[i].Target = ""
		}
	}
	return items
}
