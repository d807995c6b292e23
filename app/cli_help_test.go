package app_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"gatehouse/app"
)

// runCLI runs the binary's Main with only the variables in env.
func runCLI(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := app.Main(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelpListsEverySubcommand(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		subs []string
	}{
		{[]string{"--help"}, []string{"serve", "worker", "migrate", "tenant", "mail", "import", "staff", "app", "version", "completion"}},
		{[]string{"tenant", "--help"}, []string{"create", "list", "update", "suspend", "resume", "domain"}},
		{[]string{"tenant", "domain", "--help"}, []string{"add", "remove"}},
		{[]string{"staff", "--help"}, []string{"create", "grant", "password", "list"}},
		{[]string{"app", "--help"}, []string{"create", "list", "rotate-secret", "delete"}},
		{[]string{"migrate", "--help"}, []string{"up", "status"}},
		{[]string{"import", "--help"}, []string{"work"}},
	} {
		code, out, _ := runCLI(nil, c.args...)
		if code != 0 {
			t.Errorf("%v exited %d", c.args, code)
		}
		for _, sub := range c.subs {
			// A subcommand's line carries its one-line summary.
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(sub) + ` +\S.*$`).MatchString(out) {
				t.Errorf("%v does not list %q with a summary:\n%s", c.args, sub, out)
			}
		}
	}
}

func TestCommandLineExitCodes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Available Commands"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"tenant"}, 2, "Available Commands"},
		{[]string{"tenant", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"migrate", "sideways"}, 2, `unknown command "sideways"`},
		{[]string{"tenant", "create", "--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"tenant", "list", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"worker", "--concurrency", "many"}, 2, "--concurrency"},
		{[]string{"tenant", "list", "--data-dir", t.TempDir()}, 2, "GATEHOUSE_DATABASE_URL is not set"},
		{[]string{"serve", "--data-dir", t.TempDir()}, 2, "GATEHOUSE_DATABASE_URL is not set"},
		{[]string{"tenant", "list", "--database-url", "mysql://x/y"}, 2, "GATEHOUSE_DATABASE_URL: unsupported scheme"},
	} {
		code, _, stderr := runCLI(nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, stderr := runCLI(nil, "completion", shell)
		if code != 0 || !strings.Contains(out, "gatehouse") || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, len(out), stderr)
		}
	}
}

// TestHelpShowsNoSecret: a flag's help shows its built-in default, not the
// value its variable holds.
func TestHelpShowsNoSecret(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("ab", 32)
	env := map[string]string{"GATEHOUSE_SECRET_KEY": secret, "GATEHOUSE_DATABASE_URL": "postgres://u:hunter2@db/x"}
	_, out, _ := runCLI(env, "serve", "--help")
	if !strings.Contains(out, "--secret-key") || strings.Contains(out, secret) || strings.Contains(out, "hunter2") {
		t.Fatalf("serve --help:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	if code, out, _ := runCLI(nil, "version"); code != 0 || !strings.HasPrefix(out, "gatehouse ") {
		t.Fatalf("version: exit %d %q", code, out)
	}
}
