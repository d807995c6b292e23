package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/app"
	"gatehouse/app/apptest"
	"gatehouse/app/db"
)

const (
	consoleHost   = "console.localhost"
	staffPassword = "staff password for tests"
)

// runStaff runs `gatehouse staff args...` with stdin, as an operator would.
func runStaff(t testing.TB, env *apptest.Env, stdin string, args ...string) apptest.Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := app.MainIO(ctx, append([]string{"staff"}, args...), env.Getenv, strings.NewReader(stdin), &stdout, &stderr)
	return apptest.Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// mustStaff creates a staff member with staffPassword; tenant may be "".
func mustStaff(t testing.TB, env *apptest.Env, email, role, tenant string) {
	t.Helper()
	args := []string{"create", "--email", email, "--role", role}
	if tenant != "" {
		args = append(args, "--tenant", tenant)
	}
	if r := runStaff(t, env, staffPassword+"\n", args...); r.Code != 0 {
		t.Fatalf("staff create %s: exit %d: %s", email, r.Code, r.Stderr)
	}
}

func mustTenantCLI(t testing.TB, env *apptest.Env, slug, name string) {
	t.Helper()
	if r := env.Run("tenant", "create", "--slug", slug, "--name", name); r.Code != 0 {
		t.Fatalf("tenant create %s: %s", slug, r.Stderr)
	}
}

// browser is a console visitor: a cookie jar, same-origin headers on
// POSTs, and optional htmx headers. It follows no redirects.
type browser struct {
	t      testing.TB
	srv    *apptest.Server
	client *http.Client
}

func newBrowser(t testing.TB, srv *apptest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	c := *srv.Client
	c.Jar = jar
	return &browser{t: t, srv: srv, client: &c}
}

type resp struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request, htmx bool) resp {
	b.t.Helper()
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	r, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return resp{r, string(body)}
}

func (b *browser) get(path string) resp { return b.getOn(consoleHost, path, false) }

func (b *browser) getOn(host, path string, htmx bool) resp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.srv.URL(host, path), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req, htmx)
}

func (b *browser) post(path string, form url.Values) resp { return b.postOn(path, form, false) }

func (b *browser) postOn(path string, form url.Values, htmx bool) resp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL(consoleHost, path), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+consoleHost+":"+b.srv.Port)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req, htmx)
}

// upload posts one file as the multipart field "logo".
func (b *browser) upload(path, filename string, data []byte) resp {
	b.t.Helper()
	return b.uploadField(path, "logo", filename, data)
}

// uploadField posts one file as the multipart field named field.
func (b *browser) uploadField(path, field, filename string, data []byte) resp {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile(field, filename)
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL(consoleHost, path), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req, false)
}

// login signs in and fails the test unless it worked.
func (b *browser) login(email, password string) {
	b.t.Helper()
	r := b.post("/login", url.Values{"email": {email}, "password": {password}})
	if r.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d\n%s", email, r.StatusCode, r.Body)
	}
}

func signedIn(t testing.TB, srv *apptest.Server, email string) *browser {
	t.Helper()
	b := newBrowser(t, srv)
	b.login(email, staffPassword)
	return b
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// dbOf opens env's database, for checks the HTTP surface does not show.
func dbOf(env *apptest.Env) (*db.DB, error) {
	return db.Open(context.Background(), env.Getenv("GATEHOUSE_DATABASE_URL"), quietLog())
}
