package tenants

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"gatehouse/apperr"
)

// FieldType is what kind of value a registration field holds.
type FieldType string

// The field types.
const (
	TypeText     FieldType = "text"
	TypeNumber   FieldType = "number"
	TypeDate     FieldType = "date"
	TypeSelect   FieldType = "select"
	TypeCheckbox FieldType = "checkbox"
	TypePhone    FieldType = "phone"
	TypeCountry  FieldType = "country"
)

// FieldTypes lists the types in the order the console offers them.
var FieldTypes = []FieldType{TypeText, TypeNumber, TypeDate, TypeSelect, TypeCheckbox, TypePhone, TypeCountry}

// Capture says when a field is asked for.
type Capture string

// The capture modes.
const (
	// Required fields are on the sign-up form and must be filled; a customer
	// missing one is sent to /profile/complete before going on.
	CaptureRequired Capture = "required"
	// Optional fields are on the sign-up form but may be left empty
	// ("targeted capture"), and are prompted for now and then.
	CaptureOptional Capture = "optional"
	// Later fields are not on the sign-up form; the profile page asks.
	CaptureLater Capture = "later"
)

// Captures lists the modes in the order the console offers them.
var Captures = []Capture{CaptureRequired, CaptureOptional, CaptureLater}

// Field is one registration field of a tenant's customer profile.
type Field struct {
	Key        string     `json:"key"`
	Label      string     `json:"label"`
	Type       FieldType  `json:"type"`
	Capture    Capture    `json:"capture"`
	HelpText   string     `json:"help_text,omitempty"`
	Validation Validation `json:"validation"`
	Options    []Option   `json:"options,omitempty"`
	Position   int        `json:"position"`
	// Claim names the OpenID Connect claim that carries the field's value
	// to apps, and ClaimScope the scope that releases it. Both are empty
	// for a field apps never see.
	Claim      string `json:"claim,omitempty"`
	ClaimScope string `json:"claim_scope,omitempty"`
}

// Validation holds a field's rules; which apply depends on its type.
type Validation struct {
	MinLength int      `json:"min_length,omitempty"` // text
	MaxLength int      `json:"max_length,omitempty"` // text; 0 means 200
	Pattern   string   `json:"pattern,omitempty"`    // text; RE2, whole value
	Min       *float64 `json:"min,omitempty"`        // number
	Max       *float64 `json:"max,omitempty"`        // number
	MinDate   string   `json:"min_date,omitempty"`   // date, YYYY-MM-DD
	MaxDate   string   `json:"max_date,omitempty"`   // date, YYYY-MM-DD
	Country   string   `json:"country,omitempty"`    // phone: default region for numbers without +
}

// Option is one choice of a select field.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// reservedKeys are profile keys Gatehouse itself uses in forms.
var reservedKeys = map[string]bool{
	"email": true, "password": true, "token": true, "return_to": true, "csrf": true,
	"id": true, "tenant": true, "tenant_id": true, "status": true, "mode": true,
	"skip": true, "current_password": true, "new_password": true, "notice": true,
}

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

const defaultMaxLength = 200

// CheckSchema validates a whole field list: each field's definition, and
// that keys are unique. The error names the field key and what is wrong.
func CheckSchema(fields []Field) error {
	seen := map[string]bool{}
	claims := map[string]string{} // claim → the field releasing it
	for _, f := range fields {
		if err := f.check(); err != nil {
			return err
		}
		if seen[f.Key] {
			return apperr.Field("key", "%q is used by two fields", f.Key)
		}
		seen[f.Key] = true
		if f.Claim != "" {
			if claims[f.Claim] != "" {
				return apperr.Field("claim", "the claim %q is already released by the field %q", f.Claim, claims[f.Claim])
			}
			claims[f.Claim] = f.Key
		}
	}
	return nil
}

// check validates one field definition.
func (f Field) check() error {
	if !keyPattern.MatchString(f.Key) {
		return apperr.Field("key", "%q must start with a letter and hold only a-z, 0-9 and _ (at most 40)", f.Key)
	}
	if reservedKeys[f.Key] {
		return apperr.Field("key", "%q is reserved", f.Key)
	}
	label := strings.TrimSpace(f.Label)
	if label == "" || utf8.RuneCountInString(label) > 80 {
		return apperr.Field("label", "the label of %q must be 1 to 80 characters", f.Key)
	}
	if utf8.RuneCountInString(f.HelpText) > 200 {
		return apperr.Field("help_text", "the help text of %q is longer than 200 characters", f.Key)
	}
	switch f.Type {
	case TypeText, TypeNumber, TypeDate, TypeSelect, TypeCheckbox, TypePhone, TypeCountry:
	default:
		return apperr.Field("type", "%q is not a field type", f.Type)
	}
	switch f.Capture {
	case CaptureRequired, CaptureOptional, CaptureLater:
	default:
		return apperr.Field("capture", "%q must be required, optional or later", f.Capture)
	}
	v := f.Validation
	if v.MinLength < 0 || v.MaxLength < 0 || (v.MaxLength > 0 && v.MinLength > v.MaxLength) || v.MaxLength > 2000 {
		return apperr.Field("validation", "the length limits of %q are inconsistent", f.Key)
	}
	if v.Pattern != "" {
		if len(v.Pattern) > 200 {
			return apperr.Field("validation", "the pattern of %q is longer than 200 characters", f.Key)
		}
		if _, err := regexp.Compile(v.Pattern); err != nil {
			return apperr.Field("validation", "the pattern of %q is not a valid regular expression", f.Key)
		}
	}
	if v.Min != nil && v.Max != nil && *v.Min > *v.Max {
		return apperr.Field("validation", "the minimum of %q is above its maximum", f.Key)
	}
	for _, d := range []string{v.MinDate, v.MaxDate} {
		if d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return apperr.Field("validation", "the date limits of %q must be YYYY-MM-DD", f.Key)
			}
		}
	}
	if v.Country != "" {
		if _, ok := countryNames()[v.Country]; !ok {
			return apperr.Field("validation", "%q is not a country code", v.Country)
		}
	}
	if err := f.checkClaim(); err != nil {
		return err
	}
	if f.Type == TypeSelect {
		if len(f.Options) == 0 {
			return apperr.Field("options", "the select field %q needs at least one option", f.Key)
		}
		values := map[string]bool{}
		for _, o := range f.Options {
			if strings.TrimSpace(o.Value) == "" || strings.TrimSpace(o.Label) == "" {
				return apperr.Field("options", "every option of %q needs a value and a label", f.Key)
			}
			if values[o.Value] {
				return apperr.Field("options", "the option %q of %q is given twice", o.Value, f.Key)
			}
			values[o.Value] = true
		}
	}
	return nil
}

// FieldErrors maps a field key to what is wrong with its value, so a form
// can show each message next to its input.
type FieldErrors map[string]string

// ErrorCode makes field errors an Invalid error for the one error mapper.
func (e FieldErrors) ErrorCode() apperr.Code { return apperr.Invalid }

func (e FieldErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e[k])
	}
	return strings.Join(parts, "; ")
}

// Parse checks one submitted value against the field and returns it in its
// stored form: text, a number, an ISO date, an option value, a bool, an
// E.164 phone number or an ISO country code. An empty value returns nil.
func (f Field) Parse(raw string) (any, error) {
	raw = strings.TrimSpace(raw)
	if f.Type == TypeCheckbox {
		switch strings.ToLower(raw) {
		case "", "0", "false", "off", "no":
			return nil, nil
		case "1", "true", "on", "yes":
			return true, nil
		}
		return nil, fmt.Errorf("must be ticked or not")
	}
	if raw == "" {
		return nil, nil
	}
	if !utf8.ValidString(raw) {
		return nil, fmt.Errorf("must be valid text")
	}
	for _, r := range raw {
		if unicode.IsControl(r) {
			return nil, fmt.Errorf("must not contain control characters")
		}
	}
	v := f.Validation
	switch f.Type {
	case TypeText:
		n := utf8.RuneCountInString(raw)
		maxLen := v.MaxLength
		if maxLen == 0 {
			maxLen = defaultMaxLength
		}
		if n < v.MinLength {
			return nil, fmt.Errorf("must be at least %d characters", v.MinLength)
		}
		if n > maxLen {
			return nil, fmt.Errorf("must be at most %d characters", maxLen)
		}
		if v.Pattern != "" {
			re, err := regexp.Compile("^(?:" + v.Pattern + ")$")
			if err != nil || !re.MatchString(raw) {
				return nil, fmt.Errorf("is not in the expected format")
			}
		}
		return raw, nil
	case TypeNumber:
		n, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", "."), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, fmt.Errorf("must be a number")
		}
		if v.Min != nil && n < *v.Min {
			return nil, fmt.Errorf("must be at least %s", strconv.FormatFloat(*v.Min, 'f', -1, 64))
		}
		if v.Max != nil && n > *v.Max {
			return nil, fmt.Errorf("must be at most %s", strconv.FormatFloat(*v.Max, 'f', -1, 64))
		}
		return n, nil
	case TypeDate:
		d, err := time.Parse(time.DateOnly, raw)
		if err != nil {
			return nil, fmt.Errorf("must be a date (YYYY-MM-DD)")
		}
		if v.MinDate != "" && raw < v.MinDate {
			return nil, fmt.Errorf("must be on or after %s", v.MinDate)
		}
		if v.MaxDate != "" && raw > v.MaxDate {
			return nil, fmt.Errorf("must be on or before %s", v.MaxDate)
		}
		return d.Format(time.DateOnly), nil
	case TypeSelect:
		for _, o := range f.Options {
			if o.Value == raw {
				return raw, nil
			}
		}
		return nil, fmt.Errorf("must be one of the offered choices")
	case TypePhone:
		return ParsePhone(raw, v.Country)
	case TypeCountry:
		code := strings.ToUpper(raw)
		if _, ok := countryNames()[code]; !ok {
			return nil, fmt.Errorf("must be a country")
		}
		return code, nil
	}
	return nil, fmt.Errorf("has an unknown type")
}

// ParsePhone turns a phone number into E.164, reading numbers without a
// leading + as numbers of defaultRegion (an ISO country code; "" means the
// number must carry its country code).
func ParsePhone(raw, defaultRegion string) (string, error) {
	region := strings.ToUpper(defaultRegion)
	if region == "" {
		region = "ZZ"
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		if region == "ZZ" && !strings.HasPrefix(strings.TrimSpace(raw), "+") {
			return "", fmt.Errorf("must be a phone number with its country code, like +44 20 7946 0958")
		}
		return "", fmt.Errorf("must be a valid phone number")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// Missing returns the fields of capture mode c that profile has no value for.
func Missing(fields []Field, profile map[string]any, c Capture) []Field {
	var out []Field
	for _, f := range fields {
		if f.Capture != c {
			continue
		}
		if v, ok := profile[f.Key]; !ok || v == nil || v == "" || v == false {
			out = append(out, f)
		}
	}
	return out
}

// Country is one entry of the country picker.
type Country struct {
	Code string // ISO 3166-1 alpha-2
	Name string // English name
}

// countryTable is computed once, on first use: every ISO 3166-1 country
// with its English name, from golang.org/x/text.
var countryTable = sync.OnceValues(func() ([]Country, map[string]string) {
	names := map[string]string{}
	var list []Country
	namer := display.English.Regions()
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || r.String() != code {
				continue
			}
			name := namer.Name(r)
			if name == "" {
				continue
			}
			names[code] = name
			list = append(list, Country{Code: code, Name: name})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, names
})

// Countries lists every country for the country picker, sorted by name.
func Countries() []Country {
	list, _ := countryTable()
	return list
}

func countryNames() map[string]string {
	_, names := countryTable()
	return names
}
