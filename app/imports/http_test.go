package imports_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/imports"
	"gatehouse/app/web"
	"gatehouse/assets"
	"gatehouse/tenants"
)

// console is the import pages mounted as the console mounts them, with a
// stand-in guard that resolves :slug (the real one also checks the staff
// member's role).
type console struct {
	f *fixture
	e *gin.Engine
}

func newConsole(t *testing.T, f *fixture, campaigns *imports.Campaigns) *console {
	t.Helper()
	gin.SetMode(gin.TestMode)
	a, err := assets.New()
	if err != nil {
		t.Fatal(err)
	}
	h := imports.NewHandlers(imports.HandlerDeps{
		Service: f.svc, Campaigns: campaigns, Render: web.NewRenderer(a, quiet),
		Tenant: func(c *gin.Context) *tenants.Tenant {
			tn, err := f.tenants.BySlug(c.Request.Context(), c.Param("slug"))
			if err != nil {
				return nil
			}
			return tn
		},
		Actor: func(c *gin.Context) imports.Actor {
			return imports.Actor{Name: "staff:ann@acme.test", IP: c.ClientIP()}
		},
		MaxUpload: 1 << 20,
	})
	e := gin.New()
	h.Mount(e, "/t/:slug/imports", nil, nil)
	return &console{f: f, e: e}
}

func (c *console) do(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	c.e.ServeHTTP(w, req)
	return w
}

func (c *console) get(t *testing.T, path string, htmx bool) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return c.do(t, req)
}

func (c *console) post(t *testing.T, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(t, req)
}

func (c *console) upload(t *testing.T, slug, name, content string) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("format", "")
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/t/"+slug+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(t, req)
}

var jobPath = regexp.MustCompile(`^/t/acme/imports/[0-9a-f-]{36}$`)

func TestConsoleImportJourney(t *testing.T) {
	f := newFixture(t)
	c := newConsole(t, f, nil)

	// Upload: streamed, then the job page.
	w := c.upload(t, "acme", "shop.csv", sample)
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !jobPath.MatchString(loc) {
		t.Fatalf("upload: %d %q\n%s", w.Code, loc, w.Body)
	}
	w = c.get(t, loc, false)
	body := w.Body.String()
	for _, want := range []string{
		"<h1>shop.csv</h1>", "CSV (semicolon)", "8 rows",
		`<th scope="col">birthday</th>`, "Ann@Example.com", "two\nlines",
		`data-testid="mapping-form"`, `<option value="email" selected>Email</option>`,
		// The default mode never changes an existing customer.
		`<option value="create" selected>`,
		// The checkbox sits on one line with its label.
		`<label class="check" for="legacy"><input type="checkbox" id="legacy"`,
		`<option value="field:birthday" selected>Birthday (date)</option>`, `data-testid="legacy-warning"`,
		"Not started.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("job page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("job page:\n%s", body)
	}

	// The form posts targets by column position; the names come from the file.
	form := url.Values{"mode": {"upsert"}, "date_format": {"YYYY-MM-DD"}, "action": {"dry"},
		"target_0": {"email"}, "target_1": {"field:first_name"}, "target_2": {"field:birthday"}, "target_3": {"field:phone"}, "target_4": {"ignore"}}
	if w = c.post(t, loc+"/start", form); w.Code != http.StatusSeeOther || w.Header().Get("Location") != loc {
		t.Fatalf("dry run: %d\n%s", w.Code, w.Body)
	}
	f.queue.Wait()
	w = c.get(t, loc+"/progress", true)
	if w.Code != 200 || w.Header().Get("HX-Refresh") != "true" || strings.Contains(w.Body.String(), "<html") ||
		!strings.Contains(w.Body.String(), `value="100"`) || strings.Contains(w.Body.String(), "hx-trigger") {
		t.Fatalf("finished progress fragment: %d %v\n%s", w.Code, w.Header(), w.Body)
	}
	body = c.get(t, loc, false).Body.String()
	if !strings.Contains(body, "Dry run (would)") || !strings.Contains(body, `data-testid="count-created">4<`) || !strings.Contains(body, `data-testid="run"`) {
		t.Fatalf("page after the dry run:\n%s", body)
	}
	if f := c.f.customers(t, c.f.a.ID); len(f) != 0 {
		t.Fatalf("the dry run wrote customers: %v", f)
	}

	// An upsert run asks first, with the number of existing customers the
	// dry run (of the same mode) found it would change; nothing runs yet.
	form.Set("action", "run")
	w = c.post(t, loc+"/start", form)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `data-testid="overwrite-count">0 existing customers<`) {
		t.Fatalf("upsert run without confirmation: %d\n%s", w.Code, w.Body)
	}
	if p, _ := f.svc.Progress(f.ctx, f.a.ID, uuidOf(t, loc)); !p.Job.DryRun {
		t.Fatalf("the run started before its confirmation")
	}

	// The run, and its error report.
	form.Set("confirm", "yes")
	if w = c.post(t, loc+"/start", form); w.Code != http.StatusSeeOther {
		t.Fatalf("run: %d\n%s", w.Code, w.Body)
	}
	f.queue.Wait()
	body = c.get(t, loc, false).Body.String()
	if !strings.Contains(body, `href="`+loc+`/errors.csv"`) || strings.Contains(body, `data-testid="mapping-form"`) {
		t.Fatalf("page after the run:\n%s", body)
	}
	w = c.get(t, loc+"/errors.csv", false)
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		w.Header().Get("Content-Disposition") != `attachment; filename=shop-errors.csv` ||
		!strings.HasPrefix(w.Body.String(), "line,reason,email,first_name,birthday,phone,notes\n2,the email ann@example.com") {
		t.Fatalf("report: %d %v\n%s", w.Code, w.Header(), w.Body)
	}
	if n := len(f.customers(t, f.a.ID)); n != 4 {
		t.Fatalf("%d customers", n)
	}
	// After the run, the dry run's row keeps its report, and the first
	// rows are still shown though the staged file is gone.
	if !strings.Contains(body, `href="`+loc+`/errors.csv?pass=dry"`) || !strings.Contains(body, "Ann@Example.com") {
		t.Fatalf("page after the run lost the dry run's report or the first rows:\n%s", body)
	}
	w = c.get(t, loc+"/errors.csv?pass=dry", false)
	if w.Code != 200 || w.Header().Get("Content-Disposition") != `attachment; filename=shop-dry-run-errors.csv` ||
		!strings.HasPrefix(w.Body.String(), "line,reason,email,first_name,birthday,phone,notes\n2,the email ann@example.com") {
		t.Fatalf("dry run report after the run: %d %v\n%s", w.Code, w.Header(), w.Body)
	}

	// The list.
	body = c.get(t, "/t/acme/imports", false).Body.String()
	if !strings.Contains(body, `href="`+loc+`">shop.csv</a>`) || !strings.Contains(body, "4 created · 0 updated · 0 skipped · 4 rejected") {
		t.Fatalf("list:\n%s", body)
	}
}

func TestConsoleUploadErrors(t *testing.T) {
	f := newFixture(t)
	c := newConsole(t, f, nil)
	t.Run("malformed file names the line", func(t *testing.T) {
		w := c.upload(t, "acme", "bad.csv", "email,name\na@x.io,\"Ann\nb@x.io,Bob\n")
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "line 3, column 12: a quoted field that starts on line 2 is not closed") {
			t.Fatalf("%d\n%s", w.Code, w.Body)
		}
	})
	t.Run("too large", func(t *testing.T) {
		w := c.upload(t, "acme", "big.csv", "email\n"+strings.Repeat("someone@example.com\n", 60000))
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "the file is larger than 1.0 MB") {
			t.Fatalf("%d\n%s", w.Code, w.Body)
		}
	})
	t.Run("no file", func(t *testing.T) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("format", "csv")
		_ = mw.Close()
		req := httptest.NewRequest(http.MethodPost, "/t/acme/imports", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if w := c.do(t, req); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "Choose a file to upload.") {
			t.Fatalf("%d\n%s", w.Code, w.Body)
		}
	})
	t.Run("names are escaped", func(t *testing.T) {
		w := c.upload(t, "acme", "<img src=x onerror=alert(1)>.csv", "email,<b>col</b>\n<i>x</i>@example.com,<img src=x>\n")
		loc := w.Header().Get("Location")
		body := c.get(t, loc, false).Body.String()
		if strings.Contains(body, "<img") || strings.Contains(body, "<b>col</b>") || strings.Contains(body, "<i>x") ||
			!strings.Contains(body, "<h1>&lt;img src=x onerror=alert(1)&gt;.csv</h1>") {
			t.Fatalf("unescaped:\n%s", body)
		}
	})
	t.Run("mapping errors are shown on the page", func(t *testing.T) {
		w := c.upload(t, "acme", "noemail.csv", "name,phone\nAnn,1\n")
		loc := w.Header().Get("Location")
		w = c.post(t, loc+"/start", url.Values{"mode": {"upsert"}, "action": {"dry"}, "target_0": {"field:first_name"}})
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `data-testid="mapping-error"`) ||
			!strings.Contains(w.Body.String(), "no column holds the email address") {
			t.Fatalf("%d\n%s", w.Code, w.Body)
		}
	})
}

func TestConsoleImportsAreTenantScoped(t *testing.T) {
	f := newFixture(t)
	c := newConsole(t, f, nil)
	loc := c.upload(t, "acme", "a.csv", "email\nann@example.com\n").Header().Get("Location")
	other := strings.Replace(loc, "/t/acme/", "/t/bravo/", 1)
	for _, path := range []string{other, other + "/progress", other + "/errors.csv"} {
		if w := c.get(t, path, false); w.Code != http.StatusNotFound {
			t.Errorf("GET %s from bravo: %d", path, w.Code)
		}
	}
	for _, action := range []string{"/start", "/pause", "/resume", "/cancel"} {
		if w := c.post(t, other+action, url.Values{"target_0": {"email"}, "action": {"run"}}); w.Code != http.StatusNotFound {
			t.Errorf("POST %s from bravo: %d", action, w.Code)
		}
	}
	if body := c.get(t, "/t/bravo/imports", false).Body.String(); strings.Contains(body, "a.csv") {
		t.Fatal("bravo's list shows acme's import")
	}
	if w := c.get(t, "/t/acme/imports/not-a-uuid", false); w.Code != http.StatusNotFound {
		t.Fatalf("bad id: %d", w.Code)
	}
	if j, _ := f.svc.Job(f.ctx, f.a.ID, uuidOf(t, loc)); j.Status != imports.StatusReady {
		t.Fatalf("bravo changed acme's job: %s", j.Status)
	}
}

func TestConsolePauseResumeCancel(t *testing.T) {
	f := newFixture(t)
	c := newConsole(t, f, nil)
	f.svc.SetQueue(nopQueue{}) // nothing runs: the pass stays queued
	loc := c.upload(t, "acme", "a.csv", "email\nann@example.com\n").Header().Get("Location")
	if w := c.post(t, loc+"/start", url.Values{"mode": {"create"}, "action": {"run"}, "target_0": {"email"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	body := c.get(t, loc, false).Body.String()
	if !strings.Contains(body, `hx-trigger="every 1s"`) || !strings.Contains(body, `data-testid="pause"`) {
		t.Fatalf("running page:\n%s", body)
	}
	if w := c.get(t, loc+"/progress", true); w.Header().Get("HX-Refresh") != "" || !strings.Contains(w.Body.String(), `hx-trigger="every 1s"`) {
		t.Fatalf("a running pass's fragment must keep polling: %v\n%s", w.Header(), w.Body)
	}
	for _, step := range []struct{ action, status string }{{"/pause", "paused"}, {"/resume", "running"}, {"/cancel", "cancelled"}} {
		if w := c.post(t, loc+step.action, nil); w.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", step.action, w.Code, w.Body)
		}
		if j, _ := f.svc.Job(f.ctx, f.a.ID, uuidOf(t, loc)); string(j.Status) != step.status {
			t.Fatalf("after %s: %s", step.action, j.Status)
		}
	}
	if w := c.post(t, loc+"/resume", nil); w.Code != http.StatusConflict {
		t.Fatalf("resuming a cancelled import: %d", w.Code)
	}
}

func uuidOf(t *testing.T, loc string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(loc[strings.LastIndexByte(loc, '/')+1:])
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSlowUploadOutlastsTheReadTimeout streams an upload for longer than
// the server's read timeout: a flowing upload is not cut off.
func TestSlowUploadOutlastsTheReadTimeout(t *testing.T) {
	f := newFixture(t)
	c := newConsole(t, f, nil)
	srv := httptest.NewUnstartedServer(c.e)
	srv.Config.ReadTimeout = 500 * time.Millisecond
	srv.Start()
	defer srv.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", "slow.csv")
		_, _ = io.WriteString(fw, "email\n")
		for i := 0; i < 15; i++ {
			_, _ = fmt.Fprintf(fw, "user%d@example.com\n", i)
			time.Sleep(100 * time.Millisecond)
		}
		_ = mw.Close()
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/t/acme/imports", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("slow upload: %d\n%s", resp.StatusCode, b)
	}
	j, _ := f.svc.Job(f.ctx, f.a.ID, uuidOf(t, resp.Header.Get("Location")))
	if j.Rows != 15 {
		t.Fatalf("%d rows staged", j.Rows)
	}
}
