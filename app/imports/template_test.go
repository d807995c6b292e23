package imports_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"gatehouse/app/imports"
	"gatehouse/tenants"
)

// TestCSVTemplate: the import page links a CSV template built from the
// tenant's registration fields; it downloads as an attachment named after
// the tenant, with the importer's own column names and one example row;
// uploaded unchanged, AutoMap places every column and a dry run accepts
// its row. Another tenant's template has its own fields only.
func TestCSVTemplate(t *testing.T) {
	f := newFixture(t)
	lo, hi := 18.0, 120.0
	fields := append(append([]tenants.Field{}, demoFields...),
		tenants.Field{Key: "age", Label: "Age", Type: tenants.TypeNumber, Capture: tenants.CaptureOptional, Validation: tenants.Validation{Min: &lo, Max: &hi}},
		tenants.Field{Key: "plan", Label: "Plan", Type: tenants.TypeSelect, Capture: tenants.CaptureOptional, Options: []tenants.Option{{Value: "gold", Label: "Gold"}, {Value: "free", Label: "Free"}}},
		tenants.Field{Key: "newsletter", Label: "Newsletter", Type: tenants.TypeCheckbox, Capture: tenants.CaptureOptional},
		tenants.Field{Key: "country", Label: "Country", Type: tenants.TypeCountry, Capture: tenants.CaptureOptional},
		tenants.Field{Key: "member_no", Label: "Member number", Type: tenants.TypeText, Capture: tenants.CaptureOptional, Validation: tenants.Validation{Pattern: `M[0-9]{6}`}},
	)
	a, err := f.tenants.SaveFields(f.ctx, f.a.ID, fields)
	if err != nil {
		t.Fatal(err)
	}
	c := newConsole(t, f, nil)

	if body := c.get(t, "/t/acme/imports", false).Body.String(); !strings.Contains(body, `href="/t/acme/imports/template.csv"`) || !strings.Contains(body, "Download a CSV template") {
		t.Fatalf("the import page does not link the template:\n%s", body)
	}
	w := c.get(t, "/t/acme/imports/template.csv", false)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		w.Header().Get("Content-Disposition") != "attachment; filename=acme-customers-template.csv" {
		t.Fatalf("template: %d %v", w.Code, w.Header())
	}
	tpl := w.Body.String()
	rows, err := csv.NewReader(strings.NewReader(tpl)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("template is not a header and one row (%v):\n%s", err, tpl)
	}
	wantHeader := "email,email_verified,password_hash,created_at,first_name,birthday,phone,age,plan,newsletter,country,member_no"
	if got := strings.Join(rows[0], ","); got != wantHeader {
		t.Fatalf("header %q, want %q", got, wantHeader)
	}
	example := map[string]string{}
	for i, col := range rows[0] {
		example[col] = rows[1][i]
	}
	for col, want := range map[string]string{"email": "jane.doe@example.com", "first_name": "Jane", "birthday": "1990-05-17", "age": "42", "plan": "gold", "newsletter": "yes", "country": "GB", "password_hash": "",
		// No sample can be sure to match a pattern: the cell is left blank rather than rejected.
		"member_no": ""} {
		if example[col] != want {
			t.Errorf("example %s = %q, want %q", col, example[col], want)
		}
	}

	// Uploaded unchanged: every column is placed, and the dry run takes the row.
	up := c.upload(t, "acme", "acme-customers-template.csv", tpl)
	if up.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", up.Code, up.Body)
	}
	j := f.stage(t, a, "acme-customers-template.csv", tpl)
	m := auto(j, a, imports.ModeCreate)
	for _, cm := range m.Columns {
		if cm.Target == imports.TargetIgnore && cm.Column != "password_hash" {
			t.Errorf("AutoMap left column %q unmapped", cm.Column)
		}
	}
	p := f.pass(t, a, j, m, true)
	if d := p.Job.Result.Dry; d == nil || d.Rows != 1 || d.Created != 1 || d.Rejected != 0 {
		t.Fatalf("dry run of the template: %+v", p.Job.Result.Dry)
	}
	// With legacy passwords on, the blank hash is no problem either.
	m.LegacyPasswords = true
	m.Columns = imports.AutoMap(j.Dialect.Columns, a.Fields, true)
	if d := f.pass(t, a, j, m, true).Job.Result.Dry; d.Rejected != 0 || d.Created != 1 {
		t.Fatalf("dry run with legacy passwords: %+v", d)
	}

	// Bravo's template is bravo's: its own name, its own fields.
	w = c.get(t, "/t/bravo/imports/template.csv", false)
	if w.Header().Get("Content-Disposition") != "attachment; filename=bravo-customers-template.csv" ||
		!strings.HasPrefix(w.Body.String(), "email,email_verified,password_hash,created_at,first_name,birthday,phone\n") {
		t.Fatalf("bravo's template: %v\n%s", w.Header(), w.Body)
	}
}
