package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// TestExampleWebApp builds docs/examples/webapp as its own binary, runs it
// as a brand would against a real Gatehouse server, and signs a customer in
// and out through it: the home page shows the name from the id_token, and
// "Sign out" ends both the example's session and the one on the host.
func TestExampleWebApp(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "webapp")
	build := exec.Command(goTool(), "build", "-o", bin, "../docs/examples/webapp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the example: %v\n%s", err, out)
	}

	env := appEnv(t)
	withTenantFields(t, env, "acme", tenants.Field{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired})
	addr := freeLoopbackAddr(t)
	base := "http://" + addr
	web := createApp(t, env, "--tenant", "acme", "--name", "Example", "--type", "web", "--first-party",
		"--redirect-uri", base+"/callback", "--post-logout-uri", base+"/")
	srv := env.Serve()
	const acme = "acme.localhost"

	// This machine's resolver does not send *.localhost to loopback, so the
	// example reaches the tenant host through the server as its HTTP proxy.
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ISSUER="+srv.URL(acme, ""), "CLIENT_ID="+web.ClientID, "CLIENT_SECRET="+web.ClientSecret,
		"BASE_URL="+base, "ADDR="+addr, "HTTP_PROXY=http://"+srv.Addr, "NO_PROXY=", "no_proxy=")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// The customer: a browser-like client with a cookie jar that follows
	// redirects, reaching tenant hosts at the server and the rest directly.
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			if h, _, _ := net.SplitHostPort(a); strings.HasSuffix(h, ".localhost") {
				a = srv.Addr
			}
			return dialer.DialContext(ctx, network, a)
		},
	}}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v\nexample's log:\n%s", u, err, logs.String())
		}
		return resp, readBody(t, resp)
	}
	post := func(u string, form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		pu, _ := url.Parse(u)
		req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v\nexample's log:\n%s", u, err, logs.String())
		}
		return resp, readBody(t, resp)
	}
	// A customer of the brand, signed up on the hosted pages.
	if resp, body := post(srv.URL(acme, "/register"), url.Values{"email": {custEmail}, "password": {custPassword}, "first_name": {"Kim"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %d %.300s", resp.StatusCode, body)
	}
	post(srv.URL(acme, "/logout"), url.Values{})

	apptest.Eventually(t, 30*time.Second, func() error {
		_, err := http.Get(base + "/")
		return err
	})
	if _, body := get(base + "/"); !strings.Contains(body, "Not signed in.") {
		t.Fatalf("the example's home page before sign-in: %.300s", body)
	}

	// Sign in: the example sends the browser to the hosted login page.
	resp, body := get(base + "/login")
	if resp.Request.URL.Host != acme+":"+srv.Port || resp.Request.URL.Path != "/login" || !strings.Contains(body, `action="/login"`) {
		t.Fatalf("sign-in did not reach the hosted login page: %s", resp.Request.URL)
	}
	returnTo := resp.Request.URL.Query().Get("return_to")
	resp, body = post(srv.URL(acme, "/login"), url.Values{"email": {custEmail}, "password": {custPassword}, "return_to": {returnTo}})
	if resp.Request.URL.String() != base+"/" || !strings.Contains(body, "Signed in as Kim ("+custEmail+")") {
		t.Fatalf("after the hosted login, %s shows: %.500s\nexample's log:\n%s", resp.Request.URL, body, logs.String())
	}
	if resp, _ := get(srv.URL(acme, "/account")); resp.Request.URL.Path != "/account" {
		t.Fatalf("no session on the host after sign-in: landed on %s", resp.Request.URL)
	}

	// A forged callback (no state of ours) is refused.
	if resp, _ := get(base + "/callback?code=x&state=forged"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a callback with a foreign state: %d", resp.StatusCode)
	}

	// Sign out: back on the example, signed out there and on the host.
	resp, body = post(base+"/logout", url.Values{})
	if resp.Request.URL.Host != addr || !strings.Contains(body, "Not signed in.") {
		t.Fatalf("after sign-out, %s shows: %.300s", resp.Request.URL, body)
	}
	if resp, _ := get(srv.URL(acme, "/account")); resp.Request.URL.Path != "/login" {
		t.Fatalf("the host session survived the example's logout: landed on %s", resp.Request.URL)
	}
}

// goTool is the go command: the one on PATH, as `go test` was run.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// freeLoopbackAddr is a 127.0.0.1 port nobody listens on now, for a
// program that must know its own URL before it starts.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// withTenantFields gives a tenant registration fields.
func withTenantFields(t *testing.T, env *apptest.Env, slug string, fields ...tenants.Field) {
	t.Helper()
	svc := env.Tenants()
	tn, err := svc.BySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SaveFields(context.Background(), tn.ID, fields); err != nil {
		t.Fatal(err)
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
