package imports_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"gatehouse/app/imports"
	"gatehouse/apperr"
)

const sample = "email;first_name;birthday;phone;notes\n" +
	"Ann@Example.com;Ann;1990-02-01;+44 20 7946 0958;\n" +
	"bob@example.com;Bob;;;\n" +
	"carl@example.com;Carl;not a date;;\n" +
	"dora@example.com;Dora;;;\"two\nlines\"\n" +
	"ann@example.com;Annie;;;\n" +
	"eve@example.com;Eve;1985-07-07;;\n" +
	"nope;X;;;\n" +
	"fay@example.com;Fay;;;\n"

func TestImportCountsAndReport(t *testing.T) {
	f := newFixture(t)
	j := f.stage(t, f.a, "shop.csv", sample)
	if j.Status != imports.StatusReady || j.Rows != 8 || j.Chunks != 3 || j.Dialect.Delimiter != ";" {
		t.Fatalf("staged job %+v", j)
	}
	p := f.pass(t, f.a, j, auto(j, f.a, imports.ModeUpsert), false)
	want := imports.Counts{Rows: 8, Created: 4, Rejected: 4}
	if p.Counts != want || p.Percent != 100 {
		t.Fatalf("counts %+v (%d%%), want %+v", p.Counts, p.Percent, want)
	}
	got := f.customers(t, f.a.ID)
	if len(got) != 4 || got["bob@example.com"].Profile != `{"first_name":"Bob"}` ||
		got["eve@example.com"].Profile != `{"birthday":"1985-07-07","first_name":"Eve"}` ||
		got["dora@example.com"].Profile != `{"first_name":"Dora"}` {
		t.Fatalf("customers %+v", got)
	}
	if _, ok := got["ann@example.com"]; ok {
		t.Fatal("a duplicated email was imported")
	}
	report := f.report(t, f.a.ID, j.ID)
	wantReport := "line,reason,email,first_name,birthday,phone,notes\n" +
		`2,the email ann@example.com is on 2 lines of this file; none of them was imported: keep one and import it again,Ann@Example.com,Ann,1990-02-01,'+44 20 7946 0958,` + "\n" +
		`4,"birthday: ""not a date"" is not a date in the form YYYY-MM-DD",carl@example.com,Carl,not a date,,` + "\n" +
		`7,the email ann@example.com is also on line 2 (2 lines in all); none of them was imported: keep one and import it again,ann@example.com,Annie,,,` + "\n" +
		`9,"email: ""nope"" is not a valid email address",nope,X,,,` + "\n"
	if report != wantReport {
		t.Fatalf("report\n%s\nwant\n%s", report, wantReport)
	}
	// The finished run drops its scratch tables and the staged file.
	var bytesLeft int64
	f.db.Gorm.Table("import_chunks").Where("job_id = ?", j.ID).Select("COALESCE(SUM(LENGTH(data)), 0)").Row().Scan(&bytesLeft)
	left, err := f.store.ScratchTables(f.ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 || bytesLeft != 0 {
		t.Fatalf("after the run: scratch %v and %d staged bytes left", left, bytesLeft)
	}
	actions := f.auditActions(t, f.a.ID)
	if !reflect.DeepEqual(actions, []string{"import.finished", "import.started", "import.uploaded"}) {
		t.Fatalf("audit %v", actions)
	}
	if _, err := f.svc.Start(f.ctx, f.a, cli, j.ID, auto(j, f.a, imports.ModeUpsert), false); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("starting a finished run again: %v", err)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	f := newFixture(t)
	pre := f.stage(t, f.a, "pre.csv", "email,first_name\nbob@example.com,Robert\n")
	f.pass(t, f.a, pre, auto(pre, f.a, imports.ModeCreate), false)
	before := f.customers(t, f.a.ID)

	j := f.stage(t, f.a, "shop.csv", sample)
	p := f.pass(t, f.a, j, auto(j, f.a, imports.ModeUpsert), true)
	want := imports.Counts{Rows: 8, Created: 3, Updated: 1, Rejected: 4}
	if p.Counts != want || p.Job.Result.Dry == nil || *p.Job.Result.Dry != want || p.Job.Result.Run != nil {
		t.Fatalf("dry run %+v result %+v, want %+v", p.Counts, p.Job.Result, want)
	}
	if after := f.customers(t, f.a.ID); !reflect.DeepEqual(before, after) {
		t.Fatalf("a dry run changed customers:\nbefore %+v\nafter  %+v", before, after)
	}
	if !strings.Contains(f.report(t, f.a.ID, j.ID), "not a date") {
		t.Fatal("the dry run's error report is empty")
	}
	// The real run follows the dry run on the same staged file.
	p = f.pass(t, f.a, j, auto(j, f.a, imports.ModeUpsert), false)
	if p.Counts != want || *p.Job.Result.Dry != want || *p.Job.Result.Run != want {
		t.Fatalf("run after dry run: %+v %+v", p.Counts, p.Job.Result)
	}
	if got := f.customers(t, f.a.ID); len(got) != 4 || got["bob@example.com"].Profile != `{"first_name":"Bob"}` {
		t.Fatalf("customers after the run: %+v", got)
	}
}

func TestUpsertTwiceLeavesTheSameRows(t *testing.T) {
	f := newFixture(t)
	file := "email,first_name,birthday\nann@example.com,Ann,1990-02-01\nbob@example.com,Bob,\ncarl@example.com,Carl,1970-01-01\ndora@example.com,Dora,\n"
	first := f.stage(t, f.a, "one.csv", file)
	p := f.pass(t, f.a, first, auto(first, f.a, imports.ModeUpsert), false)
	if p.Counts != (imports.Counts{Rows: 4, Created: 4}) {
		t.Fatalf("first import %+v", p.Counts)
	}
	after1 := f.customers(t, f.a.ID)
	second := f.stage(t, f.a, "one-again.csv", file)
	p = f.pass(t, f.a, second, auto(second, f.a, imports.ModeUpsert), false)
	if p.Counts != (imports.Counts{Rows: 4, Skipped: 4}) {
		t.Fatalf("second import %+v", p.Counts)
	}
	if after2 := f.customers(t, f.a.ID); !reflect.DeepEqual(after1, after2) {
		t.Fatalf("the second import changed rows:\n%+v\n%+v", after1, after2)
	}
}

func TestModes(t *testing.T) {
	f := newFixture(t)
	seed := f.stage(t, f.a, "seed.csv", "email,first_name,birthday,email_verified\nann@example.com,Ann,1990-02-01,yes\nbob@example.com,Bob,,no\n")
	f.pass(t, f.a, seed, auto(seed, f.a, imports.ModeCreate), false)
	base := f.customers(t, f.a.ID)
	if !base["ann@example.com"].Verified || base["bob@example.com"].Verified {
		t.Fatalf("seed %+v", base)
	}
	file := "email,first_name,email_verified\nann@example.com,Annie,no\nbob@example.com,,yes\nnew@example.com,New,\n"
	cases := []struct {
		mode  imports.Mode
		want  imports.Counts
		check func(t *testing.T, c map[string]customer)
	}{
		{imports.ModeCreate, imports.Counts{Rows: 3, Created: 1, Skipped: 2}, func(t *testing.T, c map[string]customer) {
			if c["ann@example.com"].Profile != base["ann@example.com"].Profile || c["new@example.com"].Profile != `{"first_name":"New"}` {
				t.Fatalf("create mode changed an existing customer or missed the new one: %+v", c)
			}
		}},
		{imports.ModeUpdate, imports.Counts{Rows: 3, Updated: 2, Skipped: 1}, func(t *testing.T, c map[string]customer) {
			if _, ok := c["new@example.com"]; ok {
				t.Fatal("update mode created a customer")
			}
			ann, bob := c["ann@example.com"], c["bob@example.com"]
			if ann.Profile != `{"birthday":"1990-02-01","first_name":"Annie"}` || !ann.Verified {
				t.Fatalf("ann: fields merge, and a verified address stays verified: %+v", ann)
			}
			if bob.Profile != `{"first_name":"Bob"}` || !bob.Verified {
				t.Fatalf("bob: an empty cell keeps the stored value; yes verifies: %+v", bob)
			}
			if ann.CreatedAt != base["ann@example.com"].CreatedAt || ann.ID != base["ann@example.com"].ID {
				t.Fatal("an update replaced the customer's id or signup time")
			}
		}},
		{imports.ModeUpsert, imports.Counts{Rows: 3, Created: 1, Updated: 2}, func(t *testing.T, c map[string]customer) {
			if len(c) != 3 {
				t.Fatalf("upsert: %+v", c)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode), func(t *testing.T) {
			f := newFixture(t)
			seed := f.stage(t, f.a, "seed.csv", "email,first_name,birthday,email_verified\nann@example.com,Ann,1990-02-01,yes\nbob@example.com,Bob,,no\n")
			f.pass(t, f.a, seed, auto(seed, f.a, imports.ModeCreate), false)
			base = f.customers(t, f.a.ID)
			j := f.stage(t, f.a, "file.csv", file)
			p := f.pass(t, f.a, j, auto(j, f.a, tc.mode), false)
			if p.Counts != tc.want {
				t.Fatalf("counts %+v, want %+v", p.Counts, tc.want)
			}
			tc.check(t, f.customers(t, f.a.ID))
		})
	}
}

func TestImportIntoATouchesOnlyA(t *testing.T) {
	f := newFixture(t)
	inB := f.stage(t, f.b, "b.csv", "email,first_name\nann@example.com,Bravo Ann\nzed@example.com,Zed\n")
	f.pass(t, f.b, inB, auto(inB, f.b, imports.ModeCreate), false)
	beforeB := f.customers(t, f.b.ID)

	j := f.stage(t, f.a, "a.csv", "email,first_name\nann@example.com,Acme Ann\nzed@example.com,Acme Zed\nann2@example.com,Two\n")
	p := f.pass(t, f.a, j, auto(j, f.a, imports.ModeUpsert), false)
	if p.Counts != (imports.Counts{Rows: 3, Created: 3}) {
		t.Fatalf("emails that exist in B must be new in A: %+v", p.Counts)
	}
	if afterB := f.customers(t, f.b.ID); !reflect.DeepEqual(beforeB, afterB) {
		t.Fatalf("an import into A changed B:\n%+v\n%+v", beforeB, afterB)
	}
	// B's staff see nothing of A's import.
	if _, err := f.svc.Job(f.ctx, f.b.ID, j.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B reads A's job: %v", err)
	}
	if _, err := f.svc.Progress(f.ctx, f.b.ID, j.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B reads A's progress: %v", err)
	}
	var b strings.Builder
	if err := f.svc.WriteErrorReport(f.ctx, f.b.ID, j.ID, &b); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B reads A's report: %v", err)
	}
	if _, err := f.svc.Preview(f.ctx, f.b.ID, j.ID, 5); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B previews A's file: %v", err)
	}
	if _, err := f.svc.Start(f.ctx, f.b, cli, j.ID, auto(j, f.b, imports.ModeUpsert), true); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B starts A's job: %v", err)
	}
	for name, err := range map[string]error{
		"pause":  f.svc.Pause(f.ctx, f.b.ID, cli, j.ID),
		"resume": f.svc.Resume(f.ctx, f.b.ID, cli, j.ID),
		"cancel": f.svc.Cancel(f.ctx, f.b.ID, cli, j.ID),
	} {
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("B can %s A's job: %v", name, err)
		}
	}
	if jobs, _ := f.svc.Jobs(f.ctx, f.b.ID); len(jobs) != 1 || jobs[0].ID != inB.ID {
		t.Fatalf("B's job list %+v", jobs)
	}
}

func TestJSONLinesImport(t *testing.T) {
	f := newFixture(t)
	src := `{"mail":"ann@example.com","name":"Ann","dob":"02/01/1990"}` + "\n" +
		`{"mail":"bob@example.com","name":"Bob","dob":null,"extra":{"x":1}}` + "\n" +
		"{broken\n" +
		`{"mail":"carl@example.com","dob":"31/31/1990"}` + "\n"
	j := f.stage(t, f.a, "people.jsonl", src)
	m := imports.Mapping{Mode: imports.ModeCreate, DateLayout: "DD/MM/YYYY", Columns: []imports.ColumnMap{
		{Column: "mail", Target: imports.TargetEmail}, {Column: "name", Target: imports.FieldTarget("first_name")},
		{Column: "dob", Target: imports.FieldTarget("birthday")},
	}}
	p := f.pass(t, f.a, j, m, false)
	if p.Counts != (imports.Counts{Rows: 4, Created: 2, Rejected: 2}) {
		t.Fatalf("counts %+v", p.Counts)
	}
	if c := f.customers(t, f.a.ID); c["ann@example.com"].Profile != `{"birthday":"1990-01-02","first_name":"Ann"}` {
		t.Fatalf("customers %+v", c)
	}
	report := f.report(t, f.a.ID, j.ID)
	if !strings.HasPrefix(report, "line,reason,json\n3,is not valid JSON") || !strings.Contains(report, `4,"dob: ""31/31/1990"" is not a date in the form DD/MM/YYYY","{""mail"":""carl@example.com""`) {
		t.Fatalf("report\n%s", report)
	}
}

func TestMalformedFileFailsTheUpload(t *testing.T) {
	f := newFixture(t)
	j, err := f.svc.Stage(f.ctx, f.a, cli, "bad.csv", "", strings.NewReader("email,name\na@x.io,Ann\nb@x.io,\"Bob\n"))
	var fe *imports.FileError
	if !asFileError(err, &fe) || fe.Line != 3 {
		t.Fatalf("err %v", err)
	}
	got, _ := f.svc.Job(f.ctx, f.a.ID, j.ID)
	if got.Status != imports.StatusFailed || !strings.Contains(got.Error, "line 3") {
		t.Fatalf("job %+v", got)
	}
	if _, err := f.svc.Start(f.ctx, f.a, cli, j.ID, imports.Mapping{Mode: imports.ModeCreate}, true); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a failed upload can be started: %v", err)
	}
}

func TestMappingErrorsStopTheStart(t *testing.T) {
	f := newFixture(t)
	j := f.stage(t, f.a, "no-email.csv", "name,phone\nAnn,123\n")
	_, err := f.svc.Start(f.ctx, f.a, cli, j.ID, auto(j, f.a, imports.ModeCreate), true)
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), `no column holds the email address; the file's columns are "name", "phone"`) {
		t.Fatalf("missing email column: %v", err)
	}
	if got, _ := f.svc.Job(f.ctx, f.a.ID, j.ID); got.Status != imports.StatusReady {
		t.Fatalf("a refused mapping changed the job: %s", got.Status)
	}
}

func TestSavedMappings(t *testing.T) {
	f := newFixture(t)
	m := imports.Mapping{Mode: imports.ModeCreate, DateLayout: "DD/MM/YYYY", Columns: []imports.ColumnMap{{Column: "E-Mail", Target: imports.TargetEmail}}}
	if err := f.svc.SaveMapping(f.ctx, f.a.ID, cli, "Shopify export", m); err != nil {
		t.Fatal(err)
	}
	m.Mode = imports.ModeUpsert
	if err := f.svc.SaveMapping(f.ctx, f.a.ID, cli, "Shopify export", m); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.Mappings(f.ctx, f.a.ID)
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0].Mapping, m) {
		t.Fatalf("mappings %+v, %v", list, err)
	}
	got, err := f.svc.Mapping(f.ctx, f.a.ID, "Shopify export")
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("mapping %+v, %v", got, err)
	}
	t.Run("other tenant", func(t *testing.T) {
		if list, _ := f.svc.Mappings(f.ctx, f.b.ID); len(list) != 0 {
			t.Fatalf("B lists A's mappings: %+v", list)
		}
		if _, err := f.svc.Mapping(f.ctx, f.b.ID, "Shopify export"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("B reads A's mapping: %v", err)
		}
		if err := f.store.For(f.b.ID).DeleteMapping(f.ctx, "Shopify export"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("B deletes A's mapping: %v", err)
		}
		if _, err := f.svc.Mapping(f.ctx, f.a.ID, "Shopify export"); err != nil {
			t.Fatalf("A's mapping is gone: %v", err)
		}
	})
}

func asFileError(err error, target **imports.FileError) bool {
	return errors.As(err, target)
}
