package app_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/app/apptest"
	"gatehouse/tenants"
)

// TestLogsHoldNoSecrets signs up twice with one email through the real
// server and worker, logging at debug, and reads everything both logged.
// The second sign-up fails on the unique email in the database, the path
// on which gorm used to log the whole INSERT with the new password hash and
// the profile. Neither the hash, the password nor a profile value may reach
// the log, while the requests themselves must be there.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_LOG_LEVEL", "debug")
	if r := env.Run("tenant", "create", "--slug", "acme", "--name", "Acme Coffee"); r.Code != 0 {
		t.Fatalf("tenant create: %s", r.Stderr)
	}
	b := &brandEnv{env: env}
	b.withFields(t, "acme", tenants.Field{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired})
	srv := env.Serve()
	worker := env.Worker()
	host := "acme.localhost"

	const (
		password      = "Tangerine-Lighthouse-41"
		firstProfile  = "Quintessa"
		secondProfile = "Bartholomew"
	)
	first := signup(srv.Visitor(t), host, "zed@example.com", password, url.Values{"first_name": {firstProfile}})
	wantRedirect(t, first, "/account")
	// The verification mail proves the worker ran a job while logging.
	env.Mail.WaitFor(t, "zed@example.com", 10*time.Second)

	second := signup(srv.Visitor(t), host, "zed@example.com", password, url.Values{"first_name": {secondProfile}})
	if second.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(second.Body, "already exists") {
		t.Fatalf("second sign-up: %d\n%s", second.StatusCode, second.Body)
	}

	logs := map[string]string{"serve": srv.Stdout.Log(), "worker": worker.Log()}
	if n := strings.Count(logs["serve"], `"path":"/register"`); n != 2 {
		t.Fatalf("the server logged %d sign-up requests, want 2; is the log captured?\n%s", n, logs["serve"])
	}
	for name, log := range logs {
		for _, line := range strings.Split(log, "\n") {
			for _, secret := range []string{"$argon2id$", "argon2id", password, firstProfile, secondProfile, "INSERT INTO"} {
				if strings.Contains(line, secret) {
					t.Errorf("the %s log holds %q: %s", name, secret, line)
				}
			}
		}
	}
}

// TestSuspendedTenantLogsAtInfo: a suspended tenant's 503 is an operator's
// choice, not a fault, so its access-log line is INFO; a real 5xx stays ERROR.
func TestSuspendedTenantLogsAtInfo(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_LOG_LEVEL", "info")
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	if r := env.Run("tenant", "suspend", "--slug", "acme"); r.Code != 0 {
		t.Fatalf("suspend: %s", r.Stderr)
	}
	srv := env.Serve()
	if r := srv.Visitor(t).Get("acme.localhost", "/login"); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("suspended tenant: %d", r.StatusCode)
	}
	var line string
	apptest.Eventually(t, 5*time.Second, func() error {
		for _, l := range strings.Split(srv.Stdout.Log(), "\n") {
			if strings.Contains(l, `"msg":"http_request"`) && strings.Contains(l, `"status":503`) {
				line = l
				return nil
			}
		}
		return errors.New("no access-log line for the 503 yet")
	})
	if !strings.Contains(line, `"level":"INFO"`) {
		t.Fatalf("the suspended tenant's 503 is not logged at INFO: %s", line)
	}
}
