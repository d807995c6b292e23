package imports

import (
	"io"
	"strconv"
	"strings"
	"time"

	"gatehouse/app/csvsafe"
	"gatehouse/tenants"
)

// TemplateName is the file name of a tenant's CSV template, after its
// slug (a slug is already safe in a file name).
func TemplateName(t *tenants.Tenant) string { return t.Slug + "-customers-template.csv" }

// TemplateColumns are the columns of a tenant's CSV template, in order:
// the fixed ones the importer knows by name, then each registration field
// by its key, so AutoMap places every column without a hand-made mapping.
func TemplateColumns(fields []tenants.Field) []string {
	cols := []string{string(TargetEmail), string(TargetEmailVerified), string(TargetPasswordHash), string(TargetCreatedAt)}
	for _, f := range fields {
		cols = append(cols, f.Key)
	}
	return cols
}

// WriteTemplate writes a tenant's CSV template: the header row of
// TemplateColumns and one example row. The example's password hash is
// blank (an import without legacy passwords leaves the column unmapped,
// one with them imports no hash for a blank cell), and a field whose rules
// no sample can be sure to satisfy (a pattern, a range) gets a sample only
// if the field itself accepts it, else a blank cell: the template must
// import unchanged.
func WriteTemplate(w io.Writer, fields []tenants.Field, now time.Time) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write(TemplateColumns(fields)); err != nil {
		return err
	}
	row := []string{"jane.doe@example.com", "true", "", now.UTC().Format(time.DateOnly)}
	for _, f := range fields {
		row = append(row, sampleValue(f))
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// sampleValue is an example cell for f, written as the importer reads it
// by default (dates as YYYY-MM-DD), or "" when f would refuse it.
func sampleValue(f tenants.Field) string {
	var v string
	switch f.Type {
	case tenants.TypeText:
		v = textSample(f)
	case tenants.TypeNumber:
		n := 42.0
		if f.Validation.Min != nil && n < *f.Validation.Min {
			n = *f.Validation.Min
		}
		if f.Validation.Max != nil && n > *f.Validation.Max {
			n = *f.Validation.Max
		}
		v = strconv.FormatFloat(n, 'f', -1, 64)
	case tenants.TypeDate:
		v = "1990-05-17"
		if f.Validation.MinDate != "" && v < f.Validation.MinDate {
			v = f.Validation.MinDate
		}
		if f.Validation.MaxDate != "" && v > f.Validation.MaxDate {
			v = f.Validation.MaxDate
		}
	case tenants.TypeSelect:
		if len(f.Options) > 0 {
			v = f.Options[0].Value
		}
	case tenants.TypeCheckbox:
		v = "yes"
	case tenants.TypePhone:
		v = "+44 20 7946 0958"
	case tenants.TypeCountry:
		v = "GB"
	}
	if v == "" {
		return ""
	}
	// The importer reads what the field's own rules accept; a sample they
	// refuse would make the template fail its own dry run.
	check := v
	if f.Type == tenants.TypeCheckbox {
		check = "true"
	}
	if f.Type == tenants.TypePhone {
		p, err := tenants.ParsePhone(v, "")
		if err != nil {
			return ""
		}
		check = p
	}
	if _, err := f.Parse(check); err != nil {
		return ""
	}
	return v
}

// textSample guesses a readable example from the field's key.
func textSample(f tenants.Field) string {
	k := strings.ToLower(f.Key + " " + f.Label)
	switch {
	case strings.Contains(k, "first") || strings.Contains(k, "given"):
		return "Jane"
	case strings.Contains(k, "last") || strings.Contains(k, "family") || strings.Contains(k, "surname"):
		return "Doe"
	case strings.Contains(k, "name"):
		return "Jane Doe"
	case strings.Contains(k, "city") || strings.Contains(k, "town"):
		return "London"
	case strings.Contains(k, "company") || strings.Contains(k, "organi"):
		return "Example Ltd"
	}
	return "example"
}
