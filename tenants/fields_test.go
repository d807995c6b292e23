package tenants

import (
	"strconv"
	"strings"
	"testing"

	"gatehouse/apperr"
)

func f64(v float64) *float64 { return &v }

func TestFieldParse(t *testing.T) {
	tests := []struct {
		name  string
		field Field
		in    string
		want  any
		err   string
	}{
		{"text", Field{Type: TypeText}, "  Ann  ", "Ann", ""},
		{"text too long", Field{Type: TypeText, Validation: Validation{MaxLength: 3}}, "Anne", nil, "at most 3"},
		{"text too short", Field{Type: TypeText, Validation: Validation{MinLength: 2}}, "A", nil, "at least 2"},
		{"text pattern", Field{Type: TypeText, Validation: Validation{Pattern: `[A-Z]{2}\d{2}`}}, "AB12", "AB12", ""},
		{"text pattern is whole-value", Field{Type: TypeText, Validation: Validation{Pattern: `[A-Z]{2}\d{2}`}}, "xAB12x", nil, "format"},
		{"control characters", Field{Type: TypeText}, "a\x00b", nil, "control"},
		{"empty is nil", Field{Type: TypeText}, "   ", nil, ""},
		{"number", Field{Type: TypeNumber}, "3,5", 3.5, ""},
		{"number bounds", Field{Type: TypeNumber, Validation: Validation{Min: f64(1), Max: f64(10)}}, "11", nil, "at most 10"},
		{"not a number", Field{Type: TypeNumber}, "ten", nil, "must be a number"},
		{"NaN", Field{Type: TypeNumber}, "NaN", nil, "must be a number"},
		{"date", Field{Type: TypeDate}, "1990-02-28", "1990-02-28", ""},
		{"bad date", Field{Type: TypeDate}, "1990-02-30", nil, "YYYY-MM-DD"},
		{"date bound", Field{Type: TypeDate, Validation: Validation{MaxDate: "2010-01-01"}}, "2015-05-05", nil, "on or before"},
		{"select", Field{Type: TypeSelect, Options: []Option{{"tea", "Tea"}}}, "tea", "tea", ""},
		{"select unknown", Field{Type: TypeSelect, Options: []Option{{"tea", "Tea"}}}, "gin", nil, "offered choices"},
		{"checkbox on", Field{Type: TypeCheckbox}, "on", true, ""},
		{"checkbox off", Field{Type: TypeCheckbox}, "", nil, ""},
		{"checkbox junk", Field{Type: TypeCheckbox}, "maybe", nil, "ticked"},
		{"phone E.164", Field{Type: TypePhone}, "+44 20 7946 0958", "+442079460958", ""},
		{"phone national with default", Field{Type: TypePhone, Validation: Validation{Country: "GB"}}, "020 7946 0958", "+442079460958", ""},
		{"phone national without default", Field{Type: TypePhone}, "020 7946 0958", nil, "country code"},
		{"phone junk", Field{Type: TypePhone}, "+1 555", nil, "valid phone"},
		{"country", Field{Type: TypeCountry}, "gb", "GB", ""},
		{"not a country", Field{Type: TypeCountry}, "XX", nil, "country"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.field.Parse(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCheckSchema(t *testing.T) {
	ok := Field{Key: "first_name", Label: "First name", Type: TypeText, Capture: CaptureRequired}
	tests := []struct {
		name   string
		fields []Field
		field  string // "" means valid
	}{
		{"ok", []Field{ok}, ""},
		{"bad key", []Field{{Key: "First Name", Label: "x", Type: TypeText, Capture: CaptureRequired}}, "key"},
		{"reserved key", []Field{{Key: "email", Label: "x", Type: TypeText, Capture: CaptureRequired}}, "key"},
		{"duplicate key", []Field{ok, ok}, "key"},
		{"no label", []Field{{Key: "a", Type: TypeText, Capture: CaptureRequired}}, "label"},
		{"bad type", []Field{{Key: "a", Label: "A", Type: "colour", Capture: CaptureRequired}}, "type"},
		{"bad capture", []Field{{Key: "a", Label: "A", Type: TypeText, Capture: "sometimes"}}, "capture"},
		{"select without options", []Field{{Key: "a", Label: "A", Type: TypeSelect, Capture: CaptureOptional}}, "options"},
		{"bad pattern", []Field{{Key: "a", Label: "A", Type: TypeText, Capture: CaptureOptional, Validation: Validation{Pattern: "("}}}, "validation"},
		{"min above max", []Field{{Key: "a", Label: "A", Type: TypeNumber, Capture: CaptureOptional, Validation: Validation{Min: f64(5), Max: f64(1)}}}, "validation"},
		{"bad phone country", []Field{{Key: "a", Label: "A", Type: TypePhone, Capture: CaptureOptional, Validation: Validation{Country: "ZZ"}}}, "validation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSchema(tt.fields)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if e, ok := apperr.As(err); !ok || e.Field != tt.field {
				t.Fatalf("err = %v, want one naming %s", err, tt.field)
			}
		})
	}
}

func TestMissingAndCountries(t *testing.T) {
	fields := []Field{
		{Key: "a", Capture: CaptureRequired}, {Key: "b", Capture: CaptureRequired},
		{Key: "c", Capture: CaptureOptional}, {Key: "d", Capture: CaptureLater},
	}
	missing := Missing(fields, map[string]any{"a": "x", "c": "y"}, CaptureRequired)
	if len(missing) != 1 || missing[0].Key != "b" {
		t.Fatalf("Missing = %+v", missing)
	}
	cs := Countries()
	if len(cs) < 240 {
		t.Fatalf("only %d countries", len(cs))
	}
	names := map[string]string{}
	for _, c := range cs {
		names[c.Code] = c.Name
	}
	if names["GB"] != "United Kingdom" || names["DE"] != "Germany" || names["EU"] != "" {
		t.Fatalf("GB=%q DE=%q EU=%q", names["GB"], names["DE"], names["EU"])
	}
}

// FuzzSignupValues decodes arbitrary submitted values for every field type:
// nothing panics, and whatever is accepted parses again to itself, so the
// stored profile is stable.
func FuzzSignupValues(f *testing.F) {
	for _, s := range []string{"Ann", "3.5", "1990-02-28", "tea", "on", "+442079460958", "gb", "", "\x00", "1e309"} {
		f.Add(s)
	}
	fields := []Field{
		{Type: TypeText, Validation: Validation{MaxLength: 50, Pattern: `[\p{L} '-]+`}},
		{Type: TypeNumber, Validation: Validation{Min: f64(0), Max: f64(200)}},
		{Type: TypeDate},
		{Type: TypeSelect, Options: []Option{{"tea", "Tea"}, {"coffee", "Coffee"}}},
		{Type: TypeCheckbox},
		{Type: TypePhone, Validation: Validation{Country: "GB"}},
		{Type: TypeCountry},
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, fd := range fields {
			v, err := fd.Parse(in)
			if err != nil || v == nil {
				continue
			}
			again, err := fd.Parse(asText(v))
			if err != nil || again != v {
				t.Fatalf("%s: %q parsed to %#v, which parses to %#v, %v", fd.Type, in, v, again, err)
			}
		}
	})
}

func asText(v any) string {
	switch x := v.(type) {
	case bool:
		return "on"
	case float64:
		return strconvFloat(x)
	case string:
		return x
	}
	return ""
}

func strconvFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
