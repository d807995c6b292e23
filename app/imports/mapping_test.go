package imports

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

var testFields = []tenants.Field{
	{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
	{Key: "birthday", Label: "Birthday", Type: tenants.TypeDate, Capture: tenants.CaptureOptional},
	{Key: "phone", Label: "Mobile", Type: tenants.TypePhone, Capture: tenants.CaptureOptional},
	{Key: "newsletter", Label: "Newsletter", Type: tenants.TypeCheckbox, Capture: tenants.CaptureOptional},
	{Key: "tier", Label: "Tier", Type: tenants.TypeSelect, Capture: tenants.CaptureLater,
		Options: []tenants.Option{{Value: "gold", Label: "Gold member"}, {Value: "silver", Label: "Silver member"}}},
	{Key: "country", Label: "Country", Type: tenants.TypeCountry, Capture: tenants.CaptureLater},
	{Key: "visits", Label: "Visits", Type: tenants.TypeNumber, Capture: tenants.CaptureLater},
}

var testColumns = []string{"E-Mail", "Verified", "Hash", "Joined", "First Name", "Birthday", "Mobile", "Newsletter", "Tier", "Country", "Visits", "Notes"}

func TestAutoMap(t *testing.T) {
	got := AutoMap(testColumns, testFields, false)
	want := []ColumnMap{
		{"E-Mail", TargetEmail}, {"Verified", TargetEmailVerified}, {"Hash", TargetIgnore}, {"Joined", TargetCreatedAt},
		{"First Name", FieldTarget("first_name")}, {"Birthday", FieldTarget("birthday")}, {"Mobile", FieldTarget("phone")},
		{"Newsletter", FieldTarget("newsletter")}, {"Tier", FieldTarget("tier")}, {"Country", FieldTarget("country")},
		{"Visits", FieldTarget("visits")}, {"Notes", TargetIgnore},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AutoMap\n got %v\nwant %v", got, want)
	}
	if m := AutoMap(testColumns, testFields, true); m[2].Target != TargetPasswordHash {
		t.Fatalf("with legacy passwords on, Hash maps to %s", m[2].Target)
	}
	if m := AutoMap([]string{"email", "Email Address"}, nil, false); m[1].Target != TargetIgnore {
		t.Fatalf("a second email column must not map: %v", m)
	}
}

func TestMappingCheck(t *testing.T) {
	d := Dialect{Format: FormatCSV, Columns: testColumns}
	ok := Mapping{Mode: ModeUpsert, Columns: AutoMap(testColumns, testFields, false)}
	if err := ok.Check(d, testFields); err != nil {
		t.Fatalf("auto mapping: %v", err)
	}
	cases := []struct {
		name string
		edit func(m *Mapping)
		want string
	}{
		{"missing email column", func(m *Mapping) { m.Columns[0].Target = TargetIgnore },
			`no column holds the email address; the file's columns are "E-Mail", "Verified"`},
		{"two columns to one target", func(m *Mapping) { m.Columns[11].Target = FieldTarget("first_name") },
			`columns "First Name" and "Notes" both go to First name`},
		{"password hashes without opt-in", func(m *Mapping) { m.Columns[2].Target = TargetPasswordHash },
			`column "Hash" holds password hashes: importing them is off by default`},
		{"unknown column", func(m *Mapping) { m.Columns = append(m.Columns, ColumnMap{"Nope", TargetIgnore}) },
			`the file has no column "Nope"`},
		{"unknown field", func(m *Mapping) { m.Columns[11].Target = FieldTarget("shoe_size") },
			`"field:shoe_size", which is not a registration field`},
		{"bad mode", func(m *Mapping) { m.Mode = "merge" }, `"merge" is not a mode`},
		{"bad date layout", func(m *Mapping) { m.DateLayout = "DD/DD/YYYY" }, `"DD/DD/YYYY" is not a date format`},
		{"bad country", func(m *Mapping) { m.DefaultCountry = "XX" }, `"XX" is not a country code`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := ok
			m.Columns = append([]ColumnMap(nil), ok.Columns...)
			tc.edit(&m)
			err := m.Check(d, testFields)
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v, want Invalid containing %q", err, tc.want)
			}
		})
	}
	t.Run("legacy on", func(t *testing.T) {
		m := ok
		m.Columns = append([]ColumnMap(nil), ok.Columns...)
		m.Columns[2].Target = TargetPasswordHash
		m.LegacyPasswords = true
		if err := m.Check(d, testFields); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("json columns need not be known", func(t *testing.T) {
		m := Mapping{Mode: ModeCreate, Columns: []ColumnMap{{"mail", TargetEmail}}}
		if err := m.Check(Dialect{Format: FormatJSONL, Columns: []string{"other"}}, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNormalise(t *testing.T) {
	m := Mapping{Mode: ModeUpsert, Columns: AutoMap(testColumns, testFields, true), DateLayout: "DD/MM/YYYY", DefaultCountry: "DE", LegacyPasswords: true}
	n, err := newNormaliser(m, testFields)
	if err != nil {
		t.Fatal(err)
	}
	n.now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	const bcrypt = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
	row := func(vals ...string) Row {
		f := make([]string, len(testColumns))
		copy(f, vals)
		return Row{Line: 7, Fields: f}
	}
	t.Run("ok", func(t *testing.T) {
		rec, rerr := n.record(row(" Ann@Example.COM ", "Yes", bcrypt, "31/12/2019 13:45", "  Ann ", "1/2/1990", "030 901820", "x", "gold member", "Norway", "3,5"), testColumns)
		if rerr != nil {
			t.Fatal(rerr)
		}
		want := Record{Line: 7, Email: "ann@example.com", EmailVerified: true, PasswordHash: bcrypt,
			CreatedAt: time.Date(2019, 12, 31, 13, 45, 0, 0, time.UTC),
			Profile: map[string]any{"first_name": "Ann", "birthday": "1990-02-01", "phone": "+4930901820",
				"newsletter": true, "tier": "gold", "country": "NO", "visits": 3.5}}
		if !reflect.DeepEqual(rec, want) {
			t.Fatalf("record\n got %+v\nwant %+v", rec, want)
		}
	})
	t.Run("empty values stay out of the profile", func(t *testing.T) {
		rec, rerr := n.record(row("b@x.io", "no", "", "2019-12-31T10:00:00+02:00", "", "", "", "no"), testColumns)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if rec.EmailVerified || rec.PasswordHash != "" || rec.Profile != nil || !rec.CreatedAt.Equal(time.Date(2019, 12, 31, 8, 0, 0, 0, time.UTC)) {
			t.Fatalf("record %+v", rec)
		}
	})
	cases := []struct {
		name   string
		row    Row
		column string
		reason string
	}{
		{"bad email", row("not-an-email"), "E-Mail", `"not-an-email" is not a valid email address`},
		{"no email", row("  "), "E-Mail", "is empty; every row needs an email address"},
		{"bad date", row("a@x.io", "", "", "", "", "1990-02-01"), "Birthday", `"1990-02-01" is not a date in the form DD/MM/YYYY`},
		{"bad hash format", row("a@x.io", "", "md5:abcdef"), "Hash", "not a supported password hash"},
		{"malformed bcrypt", row("a@x.io", "", "$2b$10$short"), "Hash", "malformed bcrypt hash"},
		{"bad boolean", row("a@x.io", "maybe"), "Verified", `"maybe" is not yes or no`},
		{"future signup", row("a@x.io", "", "", "01/01/2030"), "Joined", `"01/01/2030" is in the future`},
		{"bad phone", row("a@x.io", "", "", "", "", "", "12"), "Mobile", `"12" must be a valid phone number`},
		{"not an option", row("a@x.io", "", "", "", "", "", "", "", "bronze"), "Tier", `"bronze" must be one of the offered choices`},
		{"not a number", row("a@x.io", "", "", "", "", "", "", "", "", "", "many"), "Visits", `"many" must be a number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, rerr := n.record(tc.row, testColumns)
			if rerr == nil || rerr.Line != 7 || rerr.Column != tc.column || !strings.Contains(rerr.Reason, tc.reason) {
				t.Fatalf("got %v, want line 7 column %q reason %q", rerr, tc.column, tc.reason)
			}
		})
	}
	t.Run("every problem of a row is listed", func(t *testing.T) {
		_, rerr := n.record(row("bad", "", "", "", "", "31/02/1990", "", "", "", "", "x"), testColumns)
		want := `line 7, column "E-Mail": "bad" is not a valid email address; column "Birthday": "31/02/1990" is not a date in the form DD/MM/YYYY; column "Visits": "x" must be a number`
		if rerr == nil || rerr.Error() != want {
			t.Fatalf("got  %v\nwant %s", rerr, want)
		}
	})
}

func TestJSONColumnsBindLate(t *testing.T) {
	m := Mapping{Mode: ModeCreate, Columns: []ColumnMap{{"mail", TargetEmail}, {"name", FieldTarget("first_name")}}}
	n, err := newNormaliser(m, testFields)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(Dialect{Format: FormatJSONL}, Chunk{FirstLine: 1, Data: []byte("{\"mail\":\"a@x.io\"}\n{\"name\":\"Bo\",\"mail\":\"b@x.io\"}\n")})
	var got []Record
	for {
		row, err := r.Next()
		if err != nil {
			break
		}
		rec, rerr := n.record(row, r.Columns())
		if rerr != nil {
			t.Fatal(rerr)
		}
		got = append(got, rec)
	}
	if len(got) != 2 || got[0].Email != "a@x.io" || got[1].Email != "b@x.io" || got[1].Profile["first_name"] != "Bo" {
		t.Fatalf("records %+v", got)
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"1", "TRUE", "t", "Yes", "y", "on", "x", "verified"} {
		if v, ok := parseBool(s); !v || !ok {
			t.Errorf("parseBool(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "0", "False", "no", "N", "off"} {
		if v, ok := parseBool(s); v || !ok {
			t.Errorf("parseBool(%q) = %v, %v", s, v, ok)
		}
	}
	if _, ok := parseBool("perhaps"); ok {
		t.Error("perhaps is a boolean")
	}
}
