package app_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"gatehouse/app/api/apitest"
	"gatehouse/app/apptest"
)

// apiImport is the part of an Import the tests read.
type apiImport struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	DryRun  bool   `json:"dry_run"`
	Mode    string `json:"mode"`
	Format  string `json:"format"`
	Rows    int64  `json:"rows"`
	Percent int    `json:"percent"`
	Error   string `json:"error"`
	Counts  struct {
		Rows, Created, Updated, Skipped, Rejected int64
	} `json:"counts"`
	Mapping []struct{ Column, Target string } `json:"mapping"`
	Links   struct{ Self, Errors string }     `json:"links"`
}

var ndjsonDecoder sync.Once

// postImport streams body to POST /imports?query.
func postImport(t *testing.T, c *apitest.Client, token, contentType, query, body string) apitest.Response {
	return c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports?" + query, Token: token, Body: body, ContentType: contentType})
}

// waitImport polls GET /imports/{id} until its status is want.
func waitImport(t *testing.T, c *apitest.Client, token, id, want string) apiImport {
	t.Helper()
	var got apiImport
	apptest.Eventually(t, 60*time.Second, func() error {
		r := c.Get(t, "/imports/"+id, token)
		if r.Status != http.StatusOK {
			return fmt.Errorf("GET: %d %s", r.Status, r.Body)
		}
		got = apiImport{}
		r.JSON(t, &got)
		if got.Status != want {
			return fmt.Errorf("status %s (%s), want %s", got.Status, got.Error, want)
		}
		return nil
	})
	return got
}

func acceptedImport(t *testing.T, r apitest.Response) apiImport {
	t.Helper()
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST /imports: %d %s", r.Status, r.Body)
	}
	var j apiImport
	r.JSON(t, &j)
	if loc := r.Header.Get("Location"); loc != "/api/v1/imports/"+j.ID || j.Links.Self != loc {
		t.Fatalf("Location %q, self %q, id %s", loc, j.Links.Self, j.ID)
	}
	return j
}

func customerProfile(t *testing.T, env *apptest.Env, slug, email string) string {
	t.Helper()
	var profile []string
	err := env.DB().Gorm.Table("customers").Joins("JOIN tenants ON tenants.id = customers.tenant_id").
		Where("tenants.slug = ? AND customers.email = ?", slug, email).Pluck("customers.profile", &profile).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(profile) != 1 {
		return ""
	}
	return strings.ReplaceAll(profile[0], " ", "")
}

// TestImportsAPI drives imports over the API on the real server, with a
// separate worker, machine tokens from the real token endpoint, and every
// exchange validated against the served openapi.json.
func TestImportsAPI(t *testing.T) {
	t.Parallel()
	ndjsonDecoder.Do(func() {
		// kin-openapi knows no JSON Lines decoder; the body is text, as documented.
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/jsonl", openapi3filter.PlainBodyDecoder)
	})
	env := importEnv(t)
	importer := createApp(t, env, "--tenant", "acme", "--name", "CRM sync", "--type", "machine", "--scope", "imports:write")
	reader := createApp(t, env, "--tenant", "acme", "--name", "Reader", "--type", "machine", "--scope", "customers:read")
	bravoApp := createApp(t, env, "--tenant", "bravo", "--name", "Bravo sync", "--type", "machine", "--scope", "imports:write")
	srv := env.Serve()
	const acmeHost, bravoHost = "acme.localhost", "bravo.localhost"
	acme := apitest.New(t, srv, acmeHost)
	bravo := apitest.New(t, srv, bravoHost)
	tok := machineToken(t, srv, acmeHost, importer, "imports:write")
	readTok := machineToken(t, srv, acmeHost, reader, "customers:read")
	bravoTok := machineToken(t, srv, bravoHost, bravoApp, "imports:write")
	const small = "email,first_name\nzoe@example.com,Zoe\n"

	t.Run("no token", func(t *testing.T) {
		r := postImport(t, acme, "", "text/csv", "", small)
		if r.Status != http.StatusUnauthorized || r.Problem(t).Type != "https://gatehouse.dev/problems/unauthorized" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("wrong scope", func(t *testing.T) {
		r := postImport(t, acme, readTok, "text/csv", "", small)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Header.Get("WWW-Authenticate"), `scope="imports:write"`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("other tenant's token", func(t *testing.T) {
		if r := postImport(t, acme, bravoTok, "text/csv", "", small); r.Status != http.StatusUnauthorized {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if n := countCustomers(t, env, "acme"); n != 0 {
			t.Fatalf("%d customers", n)
		}
	})

	// No worker runs yet, so these imports wait in the queue to be paused and cancelled.
	// The API, like the console and the CLI, defaults to create: an import that names no mode changes no existing customer.
	var paused apiImport
	t.Run("pause and cancel while queued", func(t *testing.T) {
		paused = acceptedImport(t, postImport(t, acme, tok, "text/csv", "name=paused.csv", "email,first_name\npia@example.com,Pia\npete@example.com,Pete\n"))
		if paused.Status != "queued" || paused.DryRun || paused.Mode != "create" || paused.Rows != 2 {
			t.Fatalf("created %+v", paused)
		}
		r := acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports/" + paused.ID + "/pause", Token: tok})
		var j apiImport
		if r.JSON(t, &j); r.Status != http.StatusOK || j.Status != "paused" {
			t.Fatalf("pause: %d %s", r.Status, r.Body)
		}
		if r := acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports/" + paused.ID + "/pause", Token: tok}); r.Status != http.StatusConflict {
			t.Fatalf("pausing twice: %d %s", r.Status, r.Body)
		}
		gone := acceptedImport(t, postImport(t, acme, tok, "text/csv", "", "email\ncancelled@example.com\n"))
		r = acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports/" + gone.ID + "/cancel", Token: tok})
		if r.JSON(t, &j); r.Status != http.StatusOK || j.Status != "cancelled" {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if r := acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports/" + gone.ID + "/resume", Token: tok}); r.Status != http.StatusConflict {
			t.Fatalf("resuming a cancelled import: %d %s", r.Status, r.Body)
		}
	})

	env.Worker()
	t.Run("paused stays paused with a worker, then resumes to done", func(t *testing.T) {
		time.Sleep(500 * time.Millisecond) // the worker takes the queued tasks, which must do nothing
		if j := waitImport(t, acme, tok, paused.ID, "paused"); j.Counts.Created != 0 || countCustomers(t, env, "acme") != 0 {
			t.Fatalf("a paused import wrote: %+v", j)
		}
		r := acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports/" + paused.ID + "/resume", Token: tok})
		if r.Status != http.StatusOK {
			t.Fatalf("resume: %d %s", r.Status, r.Body)
		}
		j := waitImport(t, acme, tok, paused.ID, "done")
		if j.Counts.Created != 2 || j.Percent != 100 || customerProfile(t, env, "acme", "pia@example.com") != `{"first_name":"Pia"}` {
			t.Fatalf("resumed import %+v", j)
		}
		if customerProfile(t, env, "acme", "cancelled@example.com") != "" {
			t.Fatal("the cancelled import wrote its customer")
		}
	})

	csvFile := "E-Mail,Vorname,Geburtstag\n" +
		"ann@example.com,Ann,01.02.1990\n" +
		"bob@example.com,\"=HYPERLINK(\"\"x\"\")\",31.02.1990\n" +
		"carl@example.com,Carl,\n"
	var dry apiImport
	t.Run("CSV dry run writes nothing", func(t *testing.T) {
		before := countCustomers(t, env, "acme")
		dry = acceptedImport(t, postImport(t, acme, tok, "text/csv; charset=utf-8", "dry_run=true&mode=create&map=Vorname%3Dfirst_name&map=Geburtstag%3Dbirthday&date_format=DD.MM.YYYY&name=crm.csv", csvFile))
		j := waitImport(t, acme, tok, dry.ID, "done")
		if !j.DryRun || j.Mode != "create" || j.Counts.Rows != 3 || j.Counts.Created != 2 || j.Counts.Rejected != 1 {
			t.Fatalf("dry run %+v", j)
		}
		if n := countCustomers(t, env, "acme"); n != before {
			t.Fatalf("a dry run changed the customers: %d → %d", before, n)
		}
	})
	t.Run("the error report names the line and neutralises formulas", func(t *testing.T) {
		r := acme.Get(t, "/imports/"+dry.ID+"/errors", tok)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "crm-errors.csv") {
			t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
		}
		recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"3", `Geburtstag: "31.02.1990" is not a date in the form DD.MM.YYYY`, "bob@example.com", `'=HYPERLINK("x")`, "31.02.1990"}
		if len(recs) != 2 || strings.Join(recs[0], ",") != "line,reason,E-Mail,Vorname,Geburtstag" || strings.Join(recs[1], "|") != strings.Join(want, "|") {
			t.Fatalf("report %q", recs)
		}
	})
	t.Run("run after the dry run", func(t *testing.T) {
		r := acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports/" + dry.ID + "/run", Token: tok})
		if r.Status != http.StatusAccepted {
			t.Fatalf("run: %d %s", r.Status, r.Body)
		}
		j := waitImport(t, acme, tok, dry.ID, "done")
		if j.DryRun || j.Counts.Created != 2 || customerProfile(t, env, "acme", "ann@example.com") != `{"birthday":"1990-02-01","first_name":"Ann"}` {
			t.Fatalf("run %+v", j)
		}
		if r := acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports/" + dry.ID + "/run", Token: tok}); r.Status != http.StatusConflict {
			t.Fatalf("running twice: %d %s", r.Status, r.Body)
		}
	})
	t.Run("JSON Lines with a malformed line", func(t *testing.T) {
		body := `{"email":"dora@example.com","first_name":"Dora","phone":"030 901820"}` + "\n" +
			`{"email":"ed@example.com","first_name":"Ed"}` + "\n" +
			`{"email": "broken@example.com",` + "\n" +
			`{"email":"fay@example.com"}` + "\n"
		j := acceptedImport(t, postImport(t, acme, tok, "application/x-ndjson", "country=DE", body))
		j = waitImport(t, acme, tok, j.ID, "done")
		if j.Format != "jsonl" || j.Counts.Rows != 4 || j.Counts.Created != 3 || j.Counts.Rejected != 1 {
			t.Fatalf("jsonl import %+v", j)
		}
		if p := customerProfile(t, env, "acme", "dora@example.com"); p != `{"phone":"+4930901820","first_name":"Dora"}` && p != `{"first_name":"Dora","phone":"+4930901820"}` {
			t.Fatalf("dora's profile %s", p)
		}
		r := acme.Get(t, "/imports/"+j.ID+"/errors", tok)
		if r.Status != http.StatusOK || !strings.HasPrefix(string(r.Body), "line,reason,json\n3,is not valid JSON (the line ends before the object is closed)") {
			t.Fatalf("report %d:\n%s", r.Status, r.Body)
		}
	})
	t.Run("a file that cannot be read names the line", func(t *testing.T) {
		r := acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports", Token: tok, ContentType: "text/csv",
			Body: "email,first_name\nx@example.com,X\ny@example.com,\"Y\n", BadInput: true})
		p := r.Problem(t)
		if r.Status != http.StatusUnprocessableEntity || !p.FieldNamed("body") || !strings.Contains(p.Detail, "line 3") {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("bad options name the field", func(t *testing.T) {
		for _, tc := range []struct{ ct, query, field, says string }{
			{"text/csv", "map=E-Mail%3Dshoe_size", "map", `"shoe_size" is not a target`},
			{"text/csv", "dry-run=true", "dry-run", `"dry-run" is not a parameter`},
			{"text/csv", "dry_run=maybe", "dry_run", `"maybe" is not true or false`},
			{"text/csv", "mode=merge", "mode", `"merge" is not a mode`},
			{"text/csv", "map=first_name%3Dfirst_name", "map", "no column holds the email address"},
			{"application/json", "", "Content-Type", `"application/json" is not a format`},
			{"text/csv; charset=latin1", "", "Content-Type", `charset "latin1"`},
		} {
			r := acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports?" + tc.query, Token: tok, ContentType: tc.ct, Body: "first_name\nx\n", BadInput: true})
			if p := r.Problem(t); r.Status != http.StatusUnprocessableEntity || !p.FieldNamed(tc.field) || !strings.Contains(p.Detail, tc.says) {
				t.Errorf("%s %s: %d %s", tc.ct, tc.query, r.Status, r.Body)
			}
		}
	})
	t.Run("a retried POST with the same Idempotency-Key makes one import", func(t *testing.T) {
		body := "email,first_name\nidem@example.com,Idem\n"
		send := func(key, body string) apitest.Response {
			return acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports?mode=create", Token: tok, ContentType: "text/csv", Body: body,
				Header: map[string]string{"Idempotency-Key": key}})
		}
		first := acceptedImport(t, send("sync-42", body))
		again := send("sync-42", body)
		var j apiImport
		if again.JSON(t, &j); again.Status != http.StatusAccepted || j.ID != first.ID || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %v %s", again.Status, again.Header, again.Body)
		}
		if r := send("sync-42", "email\nother@example.com\n"); r.Status != http.StatusUnprocessableEntity || r.Problem(t).Type != "https://gatehouse.dev/problems/idempotency-key-reused" {
			t.Fatalf("another body with the key: %d %s", r.Status, r.Body)
		}
		waitImport(t, acme, tok, first.ID, "done")
		if customerProfile(t, env, "acme", "idem@example.com") != `{"first_name":"Idem"}` || customerProfile(t, env, "acme", "other@example.com") != "" {
			t.Fatal("the retried import did not make exactly the first customer")
		}
		// A refusal frees the key: the same key with a good file then runs.
		if r := send("sync-43", "name\nNo email\n"); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		acceptedImport(t, send("sync-43", "email\nlater@example.com\n"))
	})
	t.Run("another tenant's import id", func(t *testing.T) {
		theirs := acceptedImport(t, postImport(t, bravo, bravoTok, "text/csv", "", "email\nbea@example.com\n"))
		waitImport(t, bravo, bravoTok, theirs.ID, "done")
		for _, r := range []apitest.Response{
			acme.Get(t, "/imports/"+theirs.ID, tok),
			acme.Get(t, "/imports/"+theirs.ID+"/errors", tok),
			acme.Do(t, apitest.Request{Method: http.MethodPost, Path: "/imports/" + theirs.ID + "/cancel", Token: tok}),
			acme.Get(t, "/imports/not-a-uuid", tok),
		} {
			if r.Status != http.StatusNotFound {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}
		if n := countCustomers(t, env, "bravo"); n != 1 {
			t.Fatalf("bravo has %d customers", n)
		}
		if customerProfile(t, env, "acme", "bea@example.com") != "" {
			t.Fatal("bravo's import reached acme")
		}
	})
}
