package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// importEnv is an installation with tenant acme and its registration
// fields, and a file to import.
func importEnv(t *testing.T) *apptest.Env {
	t.Helper()
	env := apptest.New(t)
	for _, slug := range []string{"acme", "bravo"} {
		if r := env.Run("tenant", "create", "--slug", slug, "--name", slug); r.Code != 0 {
			t.Fatalf("tenant create: %s", r.Stderr)
		}
	}
	ts := env.Tenants()
	acme, err := ts.BySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.SaveFields(context.Background(), acme.ID, []tenants.Field{
		{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
		{Key: "birthday", Label: "Birthday", Type: tenants.TypeDate, Capture: tenants.CaptureOptional},
		{Key: "phone", Label: "Phone", Type: tenants.TypePhone, Capture: tenants.CaptureOptional},
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func countCustomers(t *testing.T, env *apptest.Env, slug string) int64 {
	t.Helper()
	var n int64
	err := env.DB().Gorm.Table("customers").Joins("JOIN tenants ON tenants.id = customers.tenant_id").
		Where("tenants.slug = ?", slug).Count(&n).Error
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportCLI(t *testing.T) {
	t.Parallel()
	env := importEnv(t)
	file := writeFile(t, "customers.csv", "E-Mail;Vorname;Geburtstag;Telefon;Notes\n"+
		"ann@example.com;Ann;01.02.1990;030 901820;\n"+
		"bob@example.com;Bob;;;\"two\nlines\"\n"+
		"carl@example.com;Carl;31.02.1990;;\n"+
		"ann@example.com;Ann again;;;\n"+
		"dora@example.com;Dora;;+44 20 7946 0958;\n")
	maps := "--map=Vorname=first_name,Geburtstag=birthday,Telefon=phone"
	report := filepath.Join(t.TempDir(), "errors.csv")

	t.Run("dry run", func(t *testing.T) {
		r := env.Run("import", "--tenant", "acme", file, maps, "--date-format", "DD.MM.YYYY", "--country", "de", "--dry-run")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
		}
		for _, want := range []string{
			"staged 5 rows (CSV, semicolon-separated",
			"E-Mail                   → Email",
			"Telefon                  → Phone",
			`ignored: "Notes"`,
			"dry run, nothing written: 5 rows · would create 2 · would update 0 · 0 skipped · 3 rejected",
			"line 2: the email ann@example.com is on 2 lines of this file",
			`line 5: Geburtstag: "31.02.1990" is not a date in the form DD.MM.YYYY`,
		} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
			}
		}
		if n := countCustomers(t, env, "acme"); n != 0 {
			t.Fatalf("a dry run wrote %d customers", n)
		}
	})
	t.Run("run", func(t *testing.T) {
		r := env.Run("import", "--tenant", "acme", maps, "--date-format", "DD.MM.YYYY", "--country", "DE", file, "--errors", report, "--save-mapping", "crm")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "done: 5 rows · created 2 · updated 0 · 0 skipped · 3 rejected") || !strings.Contains(r.Stdout, `saved the mapping as "crm"`) {
			t.Fatalf("stdout:\n%s", r.Stdout)
		}
		b, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "line,reason,E-Mail,Vorname,Geburtstag,Telefon,Notes\n2,") || strings.Count(string(b), "\n") != 4 {
			t.Fatalf("report:\n%s", b)
		}
		if n := countCustomers(t, env, "acme"); n != 2 {
			t.Fatalf("%d customers", n)
		}
		if n := countCustomers(t, env, "bravo"); n != 0 {
			t.Fatalf("bravo got %d customers", n)
		}
	})
	t.Run("same file again with the saved mapping", func(t *testing.T) {
		r := env.Run("import", "--tenant", "acme", "--mapping", "crm", file)
		if r.Code != 0 || !strings.Contains(r.Stdout, "done: 5 rows · created 0 · updated 0 · 2 skipped · 3 rejected") {
			t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
		}
	})
}

func TestImportCLIRefusesBadInput(t *testing.T) {
	t.Parallel()
	env := importEnv(t)
	good := writeFile(t, "ok.csv", "email,first_name\nann@example.com,Ann\n")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no tenant flag", []string{good}, 2, "usage:"},
		{"unknown tenant", []string{"--tenant", "nope", good}, 2, `--tenant: no tenant has the slug "nope"`},
		{"missing file", []string{"--tenant", "acme", "/no/such/file.csv"}, 2, "no such file"},
		{"bad mode", []string{"--tenant", "acme", "--mode", "merge", good}, 2, `--mode: "merge" is not a mode`},
		{"malformed csv names the line", []string{"--tenant", "acme", writeFile(t, "bad.csv", "email,first_name\nann@example.com,Ann\nbob@example.com,Bo\"b\n")}, 2,
			`bad.csv: line 3, column 19: a quote (") inside a field that does not start with one`},
		{"missing email column", []string{"--tenant", "acme", writeFile(t, "noemail.csv", "name,phone\nAnn,1\n")}, 2,
			`--map: no column holds the email address; the file's columns are "name", "phone": map one to email`},
		{"unknown target", []string{"--tenant", "acme", "--map", "email=mail", good}, 2, `--map: "mail" is not a target`},
		{"hashes need the opt-in", []string{"--tenant", "acme", "--map", "first_name=password_hash", good}, 2, "--legacy_passwords: column \"first_name\" holds password hashes"},
		{"empty file", []string{"--tenant", "acme", writeFile(t, "empty.csv", "")}, 2, "empty.csv: the file is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Run(append([]string{"import"}, tc.args...)...)
			if r.Code != tc.code || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", r.Code, r.Stderr, tc.code, tc.want)
			}
		})
	}
	if n := countCustomers(t, env, "acme"); n != 0 {
		t.Fatalf("refused imports wrote %d customers", n)
	}
}

func TestImportCLIWithoutRedis(t *testing.T) {
	t.Parallel()
	env := importEnv(t)
	env.Set("GATEHOUSE_REDIS_URL", "")
	file := writeFile(t, "people.jsonl", `{"email":"ann@example.com","first_name":"Ann"}`+"\n"+`{"email":"bob@example.com"}`+"\n")
	r := env.Run("import", "--tenant", "acme", file)
	if r.Code != 0 || !strings.Contains(r.Stdout, "done: 2 rows · created 2") || !strings.Contains(r.Stderr, "runs in this process only") {
		t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
}
