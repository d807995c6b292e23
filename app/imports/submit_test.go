package imports_test

import (
	"strings"
	"testing"

	"gatehouse/app/imports"
	"gatehouse/apperr"
)

func TestSubmit(t *testing.T) {
	f := newFixture(t)
	t.Run("auto-mapped, with a placement, dry run then nothing written", func(t *testing.T) {
		sub := imports.Submission{Name: "shop.csv", Body: strings.NewReader("E-Mail,Vorname,notes\nann@example.com,Ann,x\nbob@example.com,Bob,y\n"),
			Mapping: imports.Mapping{Mode: imports.ModeCreate, Columns: []imports.ColumnMap{{Column: "Vorname", Target: imports.FieldTarget("first_name")}}},
			DryRun:  true}
		j, err := f.svc.Submit(f.ctx, f.a, cli, sub)
		if err != nil {
			t.Fatal(err)
		}
		f.queue.Wait()
		p, _ := f.svc.Progress(f.ctx, f.a.ID, j.ID)
		if p.Job.Status != imports.StatusDone || !p.Job.DryRun || p.Counts != (imports.Counts{Rows: 2, Created: 2}) {
			t.Fatalf("dry run %+v %+v", p.Job, p.Counts)
		}
		if got := p.Job.Mapping.TargetOf("Vorname"); got != imports.FieldTarget("first_name") {
			t.Fatalf("Vorname went to %q", got)
		}
		if got := p.Job.Mapping.TargetOf("E-Mail"); got != imports.TargetEmail {
			t.Fatalf("E-Mail went to %q", got)
		}
		if n := len(f.customers(t, f.a.ID)); n != 0 {
			t.Fatalf("a dry run wrote %d customers", n)
		}
	})
	t.Run("JSON Lines run", func(t *testing.T) {
		sub := imports.Submission{Name: "p.jsonl", Format: imports.FormatJSONL,
			Body: strings.NewReader(`{"email":"cat@example.com","first_name":"Cat"}` + "\n{oops\n")}
		j, err := f.svc.Submit(f.ctx, f.a, cli, sub)
		if err != nil {
			t.Fatal(err)
		}
		f.queue.Wait()
		p, _ := f.svc.Progress(f.ctx, f.a.ID, j.ID)
		if p.Job.Status != imports.StatusDone || p.Job.Mapping.Mode != imports.ModeCreate || p.Counts != (imports.Counts{Rows: 2, Created: 1, Rejected: 1}) {
			t.Fatalf("run %+v %+v", p.Job, p.Counts)
		}
		if c := f.customers(t, f.a.ID)["cat@example.com"]; c.Profile != `{"first_name":"Cat"}` {
			t.Fatalf("customer %+v", c)
		}
		if r := f.report(t, f.a.ID, j.ID); !strings.Contains(r, "\n2,is not valid JSON") {
			t.Fatalf("report does not name line 2:\n%s", r)
		}
	})
	t.Run("a bad option is refused before staging", func(t *testing.T) {
		before, _ := f.svc.Jobs(f.ctx, f.a.ID)
		_, err := f.svc.Submit(f.ctx, f.a, cli, imports.Submission{Name: "x.csv", Body: strings.NewReader("email\na@x.io\n"), Mapping: imports.Mapping{DateLayout: "DD/DD/YYYY"}})
		if e, ok := apperr.As(err); !ok || e.Field != "date_format" {
			t.Fatalf("err %v", err)
		}
		if after, _ := f.svc.Jobs(f.ctx, f.a.ID); len(after) != len(before) {
			t.Fatal("a refused submission staged a job")
		}
	})
	t.Run("a mapping that does not fit the file fails the job and drops the file", func(t *testing.T) {
		_, err := f.svc.Submit(f.ctx, f.a, cli, imports.Submission{Name: "x.csv", Body: strings.NewReader("name\nAnn\n")})
		if e, ok := apperr.As(err); !ok || e.Field != "map" || !strings.Contains(e.Message, "no column holds the email address") {
			t.Fatalf("err %v", err)
		}
		jobs, _ := f.svc.Jobs(f.ctx, f.a.ID)
		if jobs[0].Status != imports.StatusFailed || !strings.Contains(jobs[0].Error, "email") || jobs[0].Chunks != 0 {
			t.Fatalf("job %+v", jobs[0])
		}
		var n int64
		f.db.Gorm.Table("import_chunks").Where("job_id = ?", jobs[0].ID).Count(&n)
		if n != 0 {
			t.Fatalf("%d chunks left", n)
		}
	})
	t.Run("a malformed file names the line", func(t *testing.T) {
		_, err := f.svc.Submit(f.ctx, f.a, cli, imports.Submission{Name: "x.csv", Body: strings.NewReader("email\na@x.io\n\"b@x.io\n")})
		var fe *imports.FileError
		if !asFileError(err, &fe) || fe.Line != 3 {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		if n := len(f.customers(t, f.b.ID)); n != 0 {
			t.Fatalf("bravo has %d customers", n)
		}
	})
}

func TestParseColumnMapAndPlace(t *testing.T) {
	for _, tc := range []struct {
		pair, want, err string
	}{
		{"Mail=email", "Mail→email", ""},
		{" Vorname = first_name", "Vorname→field:first_name", ""},
		{"x=ignore", "x→ignore", ""},
		{"noequals", "", `"noequals" is not COLUMN=TARGET`},
		{"=email", "", `"=email" is not COLUMN=TARGET`},
		{"x=shoe_size", "", `column "x": "shoe_size" is not a target`},
	} {
		cm, err := imports.ParseColumnMap("map", tc.pair, demoFields)
		if tc.err != "" {
			if e, ok := apperr.As(err); !ok || e.Field != "map" || !strings.Contains(e.Message, tc.err) {
				t.Errorf("%q: err %v, want %q", tc.pair, err, tc.err)
			}
			continue
		}
		if err != nil || cm.Column+"→"+string(cm.Target) != tc.want {
			t.Errorf("%q: %+v %v, want %s", tc.pair, cm, err, tc.want)
		}
	}
	m := imports.Mapping{Columns: imports.AutoMap([]string{"email", "mail2"}, demoFields, false)}
	m.Place(imports.ColumnMap{Column: "mail2", Target: imports.TargetEmail})
	if m.TargetOf("email") != imports.TargetIgnore || m.TargetOf("mail2") != imports.TargetEmail {
		t.Fatalf("placing email on mail2: %+v", m.Columns)
	}
	m.Place(imports.ColumnMap{Column: "absent", Target: imports.TargetCreatedAt})
	if m.TargetOf("absent") != imports.TargetCreatedAt {
		t.Fatalf("a new column was not placed: %+v", m.Columns)
	}
}

func TestRunAfterDry(t *testing.T) {
	f := newFixture(t)
	j, err := f.svc.Submit(f.ctx, f.a, cli, imports.Submission{Name: "a.csv", Body: strings.NewReader("email,first_name\nann@example.com,Ann\n"), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	f.queue.Wait()
	if n := len(f.customers(t, f.a.ID)); n != 0 {
		t.Fatalf("the dry run wrote %d customers", n)
	}
	if _, err := f.svc.RunAfterDry(f.ctx, f.b, cli, j.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("bravo ran acme's import: %v", err)
	}
	if _, err := f.svc.RunAfterDry(f.ctx, f.a, cli, j.ID); err != nil {
		t.Fatal(err)
	}
	f.queue.Wait()
	p, _ := f.svc.Progress(f.ctx, f.a.ID, j.ID)
	if p.Job.Status != imports.StatusDone || p.Job.DryRun || p.Counts.Created != 1 || f.customers(t, f.a.ID)["ann@example.com"].Profile != `{"first_name":"Ann"}` {
		t.Fatalf("run %+v %+v", p.Job, p.Counts)
	}
	if _, err := f.svc.RunAfterDry(f.ctx, f.a, cli, j.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a finished run ran again: %v", err)
	}
}
