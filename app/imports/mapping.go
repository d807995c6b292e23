package imports

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"gatehouse/app/accounts"
	"gatehouse/app/passwords"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// Mode says what an import does with an email the tenant already has, or
// has not.
type Mode string

// The modes.
const (
	ModeCreate Mode = "create" // add new customers; existing ones are skipped
	ModeUpsert Mode = "upsert" // add new customers and update existing ones
	ModeUpdate Mode = "update" // update existing customers; unknown emails are skipped
)

// DefaultMode is the mode of an import that names none: create, which
// never changes a customer the tenant already has. Overwriting existing
// profiles (upsert, update) has to be asked for.
const DefaultMode = ModeCreate

// ParseMode reads a --mode value; "" is DefaultMode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return DefaultMode, nil
	case ModeCreate, ModeUpsert, ModeUpdate:
		return m, nil
	}
	return "", apperr.Field("mode", "%q is not a mode: use create, upsert or update", clip(s))
}

// Target is where a column's values go.
type Target string

// The fixed targets; a registration field is "field:<key>".
const (
	TargetIgnore        Target = "ignore"
	TargetEmail         Target = "email"
	TargetEmailVerified Target = "email_verified"
	TargetPasswordHash  Target = "password_hash"
	TargetCreatedAt     Target = "created_at"
)

const fieldPrefix = "field:"

// FieldTarget is the target of the registration field key.
func FieldTarget(key string) Target { return Target(fieldPrefix + key) }

// FieldKey returns the registration field key of a field target.
func (t Target) FieldKey() (string, bool) {
	k, ok := strings.CutPrefix(string(t), fieldPrefix)
	return k, ok
}

// ParseTarget reads a target as a person writes it: email, email_verified,
// password_hash, created_at, ignore, a registration field's key, or
// field:KEY when a key is also one of the fixed names.
func ParseTarget(s string, fields []tenants.Field) (Target, error) {
	s = strings.TrimSpace(s)
	switch t := Target(strings.ToLower(s)); t {
	case "", TargetIgnore, "-":
		return TargetIgnore, nil
	case TargetEmail, TargetEmailVerified, TargetPasswordHash, TargetCreatedAt:
		return t, nil
	}
	key := strings.TrimPrefix(s, fieldPrefix)
	for _, f := range fields {
		if f.Key == key {
			return FieldTarget(key), nil
		}
	}
	names := []string{"email", "email_verified", "password_hash", "created_at", "ignore"}
	for _, f := range fields {
		names = append(names, f.Key)
	}
	return "", apperr.Field("map", "%q is not a target: use one of %s", clip(s), strings.Join(names, ", "))
}

// ColumnMap sends one column of the file to a target.
type ColumnMap struct {
	Column string `json:"column"`
	Target Target `json:"target"`
}

// Mapping is how a file becomes customers: where each column goes and how
// values are read. It is saved with each import, and can be saved under a
// name for the next file of the same shape.
type Mapping struct {
	Columns []ColumnMap `json:"columns"`
	Mode    Mode        `json:"mode"`
	// DateLayout is how dates are written, as a pattern of YYYY, MM and DD
	// ("DD/MM/YYYY"); "" is YYYY-MM-DD. created_at may add a time.
	DateLayout string `json:"date_layout,omitempty"`
	// DefaultCountry is the ISO country of phone numbers written without
	// +country code; "" uses each phone field's own setting.
	DefaultCountry string `json:"default_country,omitempty"`
	// LegacyPasswords opts in to importing password hashes from another
	// system. Without it, a password_hash column is refused.
	LegacyPasswords bool `json:"legacy_passwords,omitempty"`
}

// TargetOf returns the target of column, or TargetIgnore.
func (m Mapping) TargetOf(column string) Target {
	for _, c := range m.Columns {
		if c.Column == column {
			return c.Target
		}
	}
	return TargetIgnore
}

// DateLayouts are the date patterns the console offers.
var DateLayouts = []string{"YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "DD-MM-YYYY", "YYYY/MM/DD"}

var layoutPattern = regexp.MustCompile(`^(YYYY|MM|DD)[-/. ](YYYY|MM|DD)[-/. ](YYYY|MM|DD)$`)

// goLayout turns "DD/MM/YYYY" into Go's "2/1/2006", which also reads days
// and months written with one digit.
func goLayout(pattern string) (string, error) {
	if pattern == "" {
		pattern = "YYYY-MM-DD"
	}
	p := strings.ToUpper(strings.TrimSpace(pattern))
	m := layoutPattern.FindStringSubmatch(p)
	if m == nil || m[1] == m[2] || m[2] == m[3] || m[1] == m[3] {
		return "", apperr.Field("date_format", "%q is not a date format: use YYYY, MM and DD with - / . or space between, like DD/MM/YYYY", clip(pattern))
	}
	r := strings.NewReplacer("YYYY", "2006", "MM", "1", "DD", "2")
	return r.Replace(p), nil
}

// Check validates m against the file's columns and the tenant's fields:
// every column exists (for CSV), every target is known and used once,
// exactly one column is the email, and a password_hash column comes with
// the legacy-passwords opt-in.
func (m Mapping) Check(d Dialect, fields []tenants.Field) error {
	if err := m.checkOptions(); err != nil {
		return err
	}
	have := map[string]bool{}
	for _, c := range d.Columns {
		have[c] = true
	}
	used := map[Target]string{}
	email := false
	for _, c := range m.Columns {
		if d.Format == FormatCSV && !have[c.Column] {
			return apperr.Field("map", "the file has no column %q; its columns are %s", clip(c.Column), quoteList(d.Columns))
		}
		if c.Target == TargetIgnore || c.Target == "" {
			continue
		}
		if prev, dup := used[c.Target]; dup {
			return apperr.Field("map", "columns %q and %q both go to %s; map one of them", clip(prev), clip(c.Column), c.Target.Label(fields))
		}
		used[c.Target] = c.Column
		switch c.Target {
		case TargetEmail:
			email = true
		case TargetEmailVerified, TargetCreatedAt:
		case TargetPasswordHash:
			if !m.LegacyPasswords {
				return apperr.Field("legacy_passwords", "column %q holds password hashes: importing them is off by default; turn on legacy passwords to import them", clip(c.Column))
			}
		default:
			key, ok := c.Target.FieldKey()
			if !ok || fieldByKey(fields, key) == nil {
				return apperr.Field("map", "column %q goes to %q, which is not a registration field of this tenant", clip(c.Column), clip(string(c.Target)))
			}
		}
	}
	if !email {
		return apperr.Field("map", "no column holds the email address; the file's columns are %s: map one to email", quoteList(d.Columns))
	}
	return nil
}

// checkOptions validates what does not depend on the file: the mode, the
// date layout and the default country.
func (m Mapping) checkOptions() error {
	if _, err := ParseMode(string(m.Mode)); err != nil || m.Mode == "" {
		return apperr.Field("mode", "%q is not a mode: use create, upsert or update", clip(string(m.Mode)))
	}
	if _, err := goLayout(m.DateLayout); err != nil {
		return err
	}
	if m.DefaultCountry != "" {
		if _, err := tenants.ParsePhone("+1 202 555 0143", m.DefaultCountry); err != nil || !countryCode(m.DefaultCountry) {
			return apperr.Field("country", "%q is not a country code like DE or US", clip(m.DefaultCountry))
		}
	}
	return nil
}

// Label is how the console names a target.
func (t Target) Label(fields []tenants.Field) string {
	switch t {
	case TargetIgnore, "":
		return "Ignore"
	case TargetEmail:
		return "Email"
	case TargetEmailVerified:
		return "Email verified"
	case TargetPasswordHash:
		return "Password hash (legacy)"
	case TargetCreatedAt:
		return "Signed up at"
	}
	if key, ok := t.FieldKey(); ok {
		if f := fieldByKey(fields, key); f != nil {
			return f.Label
		}
		return key
	}
	return string(t)
}

// quoteList names a file's columns in a message: each clipped, and the
// first 20 only, since a file may have up to Limits.MaxColumns.
func quoteList(list []string) string {
	const most = 20
	q := make([]string, 0, min(len(list), most+1))
	for i, s := range list {
		if i == most {
			q = append(q, fmt.Sprintf("and %d more", len(list)-most))
			break
		}
		q = append(q, fmt.Sprintf("%q", clip(s)))
	}
	return strings.Join(q, ", ")
}

func fieldByKey(fields []tenants.Field, key string) *tenants.Field {
	for i := range fields {
		if fields[i].Key == key {
			return &fields[i]
		}
	}
	return nil
}

// squash lower-cases a name and drops everything but letters and digits,
// so "E-Mail Address" and "email_address" compare equal.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var aliases = map[string]Target{
	"email": TargetEmail, "emailaddress": TargetEmail, "mail": TargetEmail, "email1": TargetEmail,
	"emailverified": TargetEmailVerified, "verified": TargetEmailVerified, "isverified": TargetEmailVerified, "emailconfirmed": TargetEmailVerified,
	"passwordhash": TargetPasswordHash, "password": TargetPasswordHash, "passwd": TargetPasswordHash, "hash": TargetPasswordHash,
	"createdat": TargetCreatedAt, "created": TargetCreatedAt, "signupdate": TargetCreatedAt, "signedupat": TargetCreatedAt,
	"registeredat": TargetCreatedAt, "registrationdate": TargetCreatedAt, "joined": TargetCreatedAt, "joinedat": TargetCreatedAt,
}

// AutoMap guesses a mapping from column names: the usual names of the
// fixed targets, and each registration field by key or label. Columns it
// cannot place are ignored; a password column only maps with legacy on.
func AutoMap(columns []string, fields []tenants.Field, legacy bool) []ColumnMap {
	used := map[Target]bool{}
	out := make([]ColumnMap, 0, len(columns))
	for _, col := range columns {
		s := squash(col)
		t := TargetIgnore
		for _, f := range fields {
			if s == squash(f.Key) || s == squash(f.Label) {
				t = FieldTarget(f.Key)
				break
			}
		}
		if a, ok := aliases[s]; ok && t == TargetIgnore {
			t = a
		}
		if t == TargetPasswordHash && !legacy || used[t] {
			t = TargetIgnore
		}
		if t != TargetIgnore {
			used[t] = true
		}
		out = append(out, ColumnMap{Column: col, Target: t})
	}
	return out
}

// Record is one normalised row, ready to become a customer.
type Record struct {
	Line          int64
	Email         string
	EmailVerified bool
	PasswordHash  string         // "" when the file gives none
	CreatedAt     time.Time      // zero when the file gives none
	Profile       map[string]any // stored form of each registration field given
}

// normaliser turns rows into records under one mapping.
type normaliser struct {
	m      Mapping
	layout string
	// timeLayouts are the forms parseTime tries, in order.
	timeLayouts []string
	cols        []string // what the indexes below were bound to
	email       boundCol
	verified    boundCol
	password    boundCol
	created     boundCol
	fields      []fieldCol
	now         func() time.Time
}

type boundCol struct {
	name string
	idx  int // -1 when unmapped or absent from the row
}

type fieldCol struct {
	boundCol
	field tenants.Field
}

func newNormaliser(m Mapping, fields []tenants.Field) (*normaliser, error) {
	layout, err := goLayout(m.DateLayout)
	if err != nil {
		return nil, err
	}
	n := &normaliser{m: m, layout: layout, now: time.Now,
		timeLayouts: []string{layout, layout + " 15:04", layout + " 15:04:05", layout + "T15:04:05", time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05.999999999"}}
	none := boundCol{idx: -1}
	n.email, n.verified, n.password, n.created = none, none, none, none
	for _, c := range m.Columns {
		b := boundCol{name: c.Column, idx: -1}
		switch c.Target {
		case TargetEmail:
			n.email = b
		case TargetEmailVerified:
			n.verified = b
		case TargetPasswordHash:
			n.password = b
		case TargetCreatedAt:
			n.created = b
		default:
			if key, ok := c.Target.FieldKey(); ok {
				if f := fieldByKey(fields, key); f != nil {
					n.fields = append(n.fields, fieldCol{boundCol: b, field: *f})
				}
			}
		}
	}
	return n, nil
}

// bind resolves column names to positions; JSON readers grow their column
// list, so it runs again whenever the list changes.
func (n *normaliser) bind(cols []string) {
	if len(cols) == len(n.cols) && n.cols != nil {
		return
	}
	n.cols = cols
	pos := make(map[string]int, len(cols))
	for i, c := range cols {
		pos[c] = i
	}
	find := func(b *boundCol) {
		b.idx = -1
		if b.name == "" {
			return
		}
		if i, ok := pos[b.name]; ok {
			b.idx = i
		}
	}
	find(&n.email)
	find(&n.verified)
	find(&n.password)
	find(&n.created)
	for i := range n.fields {
		find(&n.fields[i].boundCol)
	}
}

// emailOf returns the normalised email of row, or a reason it has none.
func (n *normaliser) emailOf(row Row) (string, string) {
	raw := strings.TrimSpace(row.Get(n.email.idx))
	if raw == "" {
		return "", "is empty; every row needs an email address"
	}
	if e, ok := plainEmail(raw); ok {
		return e, ""
	}
	e, err := accounts.NormalizeEmail(raw)
	if err != nil {
		return "", fmt.Sprintf("%q is not a valid email address", clip(raw))
	}
	return e, ""
}

// plainEmail is accounts.NormalizeEmail for the addresses nearly every
// file holds, without the cost of a full RFC 5322 parse, which an import
// pays twice a row: a dot-atom local part and a dotted domain of ASCII
// letters, digits and hyphens. Every string it accepts is one
// NormalizeEmail accepts, normalised the same way (TestPlainEmail); for
// any other it says no and the caller asks NormalizeEmail.
func plainEmail(s string) (string, bool) {
	if len(s) > 254 {
		return "", false
	}
	at := strings.IndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return "", false
	}
	local, domain := s[:at], s[at+1:]
	if !dotAtom(local, true) || !dotAtom(domain, false) || !strings.Contains(domain, ".") {
		return "", false
	}
	return strings.ToLower(s), true
}

// dotAtom reports whether s is non-empty atoms of plain characters joined
// by single dots; local allows the atext symbols of a local part, else
// only letters, digits and hyphens are plain.
func dotAtom(s string, local bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case local && strings.IndexByte("!#$%&'*+/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// record normalises row. Every problem in the row is reported at once,
// in column order, under the first bad column.
func (n *normaliser) record(row Row, cols []string) (Record, *RowError) {
	n.bind(cols)
	rec := Record{Line: row.Line}
	var problems []problem
	if e, why := n.emailOf(row); why != "" {
		problems = append(problems, problem{n.email.name, n.email.idx, why})
	} else {
		rec.Email = e
	}
	if n.verified.idx >= 0 {
		v, ok := parseBool(row.Get(n.verified.idx))
		if !ok {
			problems = append(problems, problem{n.verified.name, n.verified.idx, fmt.Sprintf("%q is not yes or no (use true/false, yes/no, 1/0)", clip(row.Get(n.verified.idx)))})
		}
		rec.EmailVerified = v
	}
	if n.password.idx >= 0 {
		if h := strings.TrimSpace(row.Get(n.password.idx)); h != "" {
			if err := passwords.CheckImportable(h); err != nil {
				problems = append(problems, problem{n.password.name, n.password.idx, err.Error()})
			}
			rec.PasswordHash = h
		}
	}
	if n.created.idx >= 0 {
		if raw := strings.TrimSpace(row.Get(n.created.idx)); raw != "" {
			at, err := n.parseTime(raw)
			if err != nil {
				problems = append(problems, problem{n.created.name, n.created.idx, err.Error()})
			}
			rec.CreatedAt = at
		}
	}
	for _, fc := range n.fields {
		if fc.idx < 0 {
			continue
		}
		v, err := n.fieldValue(fc.field, row.Get(fc.idx))
		if err != nil {
			problems = append(problems, problem{fc.name, fc.idx, err.Error()})
			continue
		}
		if v != nil {
			if rec.Profile == nil {
				rec.Profile = make(map[string]any, len(n.fields))
			}
			rec.Profile[fc.field.Key] = v
		}
	}
	if len(problems) == 0 {
		return rec, nil
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].idx < problems[j].idx })
	reason := problems[0].reason
	for _, p := range problems[1:] {
		reason += fmt.Sprintf("; column %q: %s", clip(p.column), p.reason)
	}
	// The column's name is clipped too: it is stored with every rejected row.
	return rec, &RowError{Line: row.Line, Column: clip(problems[0].column), Reason: reason}
}

type problem struct {
	column string
	idx    int
	reason string
}

// fieldValue reads one registration field's cell in the import's
// conventions (its date layout, default country, yes/no spellings, option
// labels, country names), then lets the field's own rules decide.
func (n *normaliser) fieldValue(f tenants.Field, raw string) (any, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	switch f.Type {
	case tenants.TypeDate:
		d, err := time.Parse(n.layout, raw)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date in the form %s", clip(raw), n.pattern())
		}
		raw = d.Format(time.DateOnly)
	case tenants.TypeCheckbox:
		v, ok := parseBool(raw)
		if !ok {
			return nil, fmt.Errorf("%q is not yes or no", clip(raw))
		}
		if !v {
			return nil, nil
		}
		raw = "true"
	case tenants.TypePhone:
		country := n.m.DefaultCountry
		if country == "" {
			country = f.Validation.Country
		}
		p, err := tenants.ParsePhone(raw, country)
		if err != nil {
			return nil, fmt.Errorf("%q %s", clip(raw), err.Error())
		}
		raw = p
	case tenants.TypeSelect:
		for _, o := range f.Options {
			if strings.EqualFold(o.Value, raw) || strings.EqualFold(o.Label, raw) {
				raw = o.Value
				break
			}
		}
	case tenants.TypeCountry:
		if len(raw) != 2 {
			if code, ok := countryByName()[strings.ToLower(raw)]; ok {
				raw = code
			}
		}
	}
	v, err := f.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q %s", clip(raw), err.Error())
	}
	return v, nil
}

func (n *normaliser) pattern() string {
	if n.m.DateLayout == "" {
		return "YYYY-MM-DD"
	}
	return strings.ToUpper(n.m.DateLayout)
}

// parseTime reads a signup time: the import's date layout, optionally with
// a time, or RFC 3339. Times without a zone are UTC. A time in the future
// is refused.
func (n *normaliser) parseTime(raw string) (time.Time, error) {
	var at time.Time
	var err error
	for _, l := range n.timeLayouts {
		if at, err = time.Parse(l, raw); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date in the form %s (a time may follow)", clip(raw), n.pattern())
	}
	at = at.UTC()
	if at.After(n.now().Add(24 * time.Hour)) {
		return time.Time{}, fmt.Errorf("%q is in the future", clip(raw))
	}
	if at.Year() < 1970 {
		return time.Time{}, fmt.Errorf("%q is before 1970", clip(raw))
	}
	return at, nil
}

// parseBool reads the usual spellings of yes and no; empty is no.
func parseBool(raw string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "1", "true", "t", "yes", "y", "on", "x", "checked", "verified", "ja", "oui", "si", "sí":
		return true, true
	case "", "0", "false", "f", "no", "n", "off", "unchecked", "unverified", "nein", "non":
		return false, true
	}
	return false, false
}

// clip shortens a value from a file for a message or a page. Everything
// shown of a file is clipped: a row may hold up to Limits.MaxRecord bytes,
// which a page or an error row must not repeat.
func clip(s string) string { return clipTo(s, 60) }

// clipTo keeps s when it has at most n characters, and otherwise its first
// n-3 and an ellipsis. It walks only as far as it needs, so a long value
// costs no copy.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut, count := 0, 0
	for i := range s {
		if count == n-3 {
			cut = i
		}
		if count == n {
			return s[:cut] + "…"
		}
		count++
	}
	return s
}

var countryByName = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, c := range tenants.Countries() {
		m[strings.ToLower(c.Name)] = c.Code
	}
	return m
})

func countryCode(code string) bool {
	for _, c := range tenants.Countries() {
		if c.Code == strings.ToUpper(code) {
			return true
		}
	}
	return false
}
