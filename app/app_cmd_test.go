package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"gatehouse/app/apptest"
)

// appEnv is an installation with tenants acme and bravo.
func appEnv(t *testing.T) *apptest.Env {
	t.Helper()
	env := apptest.New(t)
	for _, slug := range []string{"acme", "bravo"} {
		if r := env.Run("tenant", "create", "--slug", slug, "--name", slug); r.Code != 0 {
			t.Fatalf("tenant create: %s", r.Stderr)
		}
	}
	return env
}

type createdApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Type         string `json:"type"`
	Issuer       string `json:"issuer"`
}

// createApp runs `app create --json` and decodes its one object.
func createApp(t *testing.T, env *apptest.Env, args ...string) createdApp {
	t.Helper()
	r := env.Run(append([]string{"app", "create", "--json"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("app create %v exited %d: %s", args, r.Code, r.Stderr)
	}
	var out createdApp
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("app create --json printed %q: %v", r.Stdout, err)
	}
	return out
}

func TestAppCommand(t *testing.T) {
	t.Parallel()
	env := appEnv(t)

	web := createApp(t, env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--redirect-uri", "https://shop.example/cb")
	if web.ClientID == "" || !strings.HasPrefix(web.ClientSecret, "ghs_") || !strings.HasPrefix(web.Issuer, "http://acme.localhost") {
		t.Fatalf("web app: %+v", web)
	}
	spa := createApp(t, env, "--tenant", "acme", "--name", "SPA", "--type", "spa", "--redirect-uri", "https://app.example/cb", "--cors-origin", "https://app.example")
	if spa.ClientSecret != "" {
		t.Fatal("a spa app was given a secret")
	}
	machine := createApp(t, env, "--tenant", "acme", "--name", "Svc", "--type", "machine", "--scope", "orders:read")
	if machine.ClientSecret == "" {
		t.Fatal("a machine app has no secret")
	}

	t.Run("plain output shows the secret once", func(t *testing.T) {
		r := env.Run("app", "create", "--tenant", "acme", "--name", "Plain", "--type", "web", "--redirect-uri", "https://p.example/cb")
		if r.Code != 0 || !strings.Contains(r.Stdout, "client secret: ghs_") || !strings.Contains(r.Stdout, "client id:") {
			t.Fatalf("exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
		}
	})

	t.Run("list never shows a secret", func(t *testing.T) {
		r := env.Run("app", "list", "--tenant", "acme")
		if r.Code != 0 || !strings.Contains(r.Stdout, web.ClientID) || !strings.Contains(r.Stdout, spa.ClientID) {
			t.Fatalf("exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
		}
		if strings.Contains(r.Stdout, web.ClientSecret) || strings.Contains(r.Stdout, "ghs_") {
			t.Fatal("list printed a secret")
		}
		r = env.Run("app", "list", "--tenant", "bravo")
		if r.Code != 0 || strings.Contains(r.Stdout, web.ClientID) {
			t.Fatalf("bravo lists acme's apps: %s", r.Stdout)
		}
	})

	t.Run("rotate-secret", func(t *testing.T) {
		r := env.Run("app", "rotate-secret", "--tenant", "acme", "--client-id", web.ClientID, "--grace", "1h", "--json")
		var out createdApp
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &out) != nil || out.ClientSecret == "" || out.ClientSecret == web.ClientSecret {
			t.Fatalf("exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
		}
		r = env.Run("app", "rotate-secret", "--tenant", "bravo", "--client-id", web.ClientID)
		if r.Code != 2 || !strings.Contains(r.Stderr, "no such app") {
			t.Fatalf("bravo rotated acme's secret: exit %d %s", r.Code, r.Stderr)
		}
	})

	t.Run("bad input names the flag", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"app", "create", "--tenant", "acme", "--name", "X", "--type", "desktop"}, "--type"},
			{[]string{"app", "create", "--tenant", "acme", "--name", "X", "--type", "web"}, "--redirect-uri"},
			{[]string{"app", "create", "--tenant", "acme", "--name", "X", "--type", "web", "--redirect-uri", "http://evil.example/cb"}, "--redirect-uri"},
			{[]string{"app", "create", "--tenant", "nope", "--name", "X", "--type", "web"}, "--tenant"},
			{[]string{"app", "create", "--name", "X", "--type", "web"}, "--tenant"},
			{[]string{"app", "delete", "--tenant", "acme"}, "--client-id"},
		} {
			r := env.Run(c.args...)
			if r.Code != 2 || !strings.Contains(r.Stderr, c.want) {
				t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", c.args, r.Code, r.Stderr, c.want)
			}
		}
		if r := env.Run("app", "frobnicate"); r.Code != 2 {
			t.Errorf("unknown subcommand exited %d", r.Code)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if r := env.Run("app", "delete", "--tenant", "bravo", "--client-id", spa.ClientID); r.Code != 2 {
			t.Fatalf("bravo deleted acme's app: exit %d", r.Code)
		}
		if r := env.Run("app", "delete", "--tenant", "acme", "--client-id", spa.ClientID); r.Code != 0 {
			t.Fatalf("exit %d: %s", r.Code, r.Stderr)
		}
		if r := env.Run("app", "list", "--tenant", "acme"); strings.Contains(r.Stdout, spa.ClientID) {
			t.Fatal("deleted app still listed")
		}
	})
}
