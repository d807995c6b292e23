package config

import (
	"strings"
	"testing"
)

func load(t *testing.T, env map[string]string, args ...string) *Config {
	t.Helper()
	cfg, fs := Load("test", func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg.Finish()
	return cfg
}

const goodKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestDefaults(t *testing.T) {
	cfg := load(t, nil)
	if cfg.Addr != ":8080" || cfg.BaseDomain != "localhost" || cfg.PublicScheme != "https" || cfg.DataDir != "data" {
		t.Fatalf("defaults: %+v", cfg)
	}
	if dev := load(t, nil, "--dev"); dev.PublicScheme != "http" {
		t.Fatalf("--dev scheme = %q, want http", dev.PublicScheme)
	}
}

// TestOutboundLoopbackDefault: only --dev lets tenant calls reach loopback
// unless the variable says otherwise.
func TestOutboundLoopbackDefault(t *testing.T) {
	if load(t, nil).AllowLoopback() {
		t.Fatal("production default allows loopback")
	}
	if !load(t, nil, "--dev").AllowLoopback() {
		t.Fatal("--dev default refuses loopback")
	}
	if load(t, map[string]string{"GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK": "false"}, "--dev").AllowLoopback() {
		t.Fatal("an explicit false was ignored in --dev")
	}
	if !load(t, map[string]string{"GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK": "true"}).AllowLoopback() {
		t.Fatal("an explicit true was ignored")
	}
	if err := load(t, map[string]string{"GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK": "yes"}).Validate(); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK") {
		t.Fatalf("a bad value: %v", err)
	}
}

func TestFlagOverridesEnvironment(t *testing.T) {
	cfg := load(t, map[string]string{"GATEHOUSE_ADDR": ":9000", "GATEHOUSE_BASE_DOMAIN": "Example.COM."}, "--addr", ":9100")
	if cfg.Addr != ":9100" {
		t.Fatalf("addr = %q, want the flag's :9100", cfg.Addr)
	}
	if cfg.BaseDomain != "example.com" {
		t.Fatalf("base domain = %q, want it folded to example.com", cfg.BaseDomain)
	}
}

func TestValidate(t *testing.T) {
	all := []Need{NeedDatabase, NeedRedis, NeedSecret}
	good := map[string]string{
		"GATEHOUSE_DATABASE_URL": "postgres://u@127.0.0.1:5432/gh",
		"GATEHOUSE_REDIS_URL":    "redis://127.0.0.1:6379/0",
		"GATEHOUSE_SECRET_KEY":   goodKey,
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string // "" means valid
	}{
		{"ok", good, ""},
		{"sqlite path ok", with("GATEHOUSE_DATABASE_URL", "/var/lib/gh.db"), ""},
		{"sqlite url ok", with("GATEHOUSE_DATABASE_URL", "sqlite:///var/lib/gh.db"), ""},
		{"base64 key ok", with("GATEHOUSE_SECRET_KEY", "ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8="), ""},
		{"missing database", with("GATEHOUSE_DATABASE_URL", ""), "GATEHOUSE_DATABASE_URL"},
		{"mysql database", with("GATEHOUSE_DATABASE_URL", "mysql://x/y"), "GATEHOUSE_DATABASE_URL"},
		{"postgres without db name", with("GATEHOUSE_DATABASE_URL", "postgres://u@host:5432"), "GATEHOUSE_DATABASE_URL"},
		{"missing redis", with("GATEHOUSE_REDIS_URL", ""), "GATEHOUSE_REDIS_URL"},
		{"redis wrong scheme", with("GATEHOUSE_REDIS_URL", "http://127.0.0.1:6379"), "GATEHOUSE_REDIS_URL"},
		{"missing key", with("GATEHOUSE_SECRET_KEY", ""), "GATEHOUSE_SECRET_KEY"},
		{"short key", with("GATEHOUSE_SECRET_KEY", "abcd"), "GATEHOUSE_SECRET_KEY"},
		{"garbage key", with("GATEHOUSE_SECRET_KEY", "not a key!"), "GATEHOUSE_SECRET_KEY"},
		{"bad smtp", with("GATEHOUSE_SMTP_URL", "mail.example.com"), "GATEHOUSE_SMTP_URL"},
		{"bad scheme", with("GATEHOUSE_PUBLIC_SCHEME", "ftp"), "GATEHOUSE_PUBLIC_SCHEME"},
		{"bad base domain", with("GATEHOUSE_BASE_DOMAIN", "exa mple.com"), "GATEHOUSE_BASE_DOMAIN"},
		{"bad addr", with("GATEHOUSE_ADDR", "8080"), "GATEHOUSE_ADDR"},
		{"bad metrics addr", with("GATEHOUSE_METRICS_ADDR", "nine"), "GATEHOUSE_METRICS_ADDR"},
		{"bad log level", with("GATEHOUSE_LOG_LEVEL", "loud"), "GATEHOUSE_LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := load(t, tt.env).Validate(all...)
			if tt.wantVar == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error naming %s", tt.wantVar)
			}
			if !strings.HasPrefix(err.Error(), tt.wantVar) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q should be one line starting with %s", err, tt.wantVar)
			}
		})
	}
}

func TestParseDatabaseURL(t *testing.T) {
	tests := []struct {
		raw     string
		dialect Dialect
		dsn     string
	}{
		{"postgres://u:p@h:5432/db?sslmode=disable", Postgres, "postgres://u:p@h:5432/db?sslmode=disable"},
		{"sqlite://data/gh.db", SQLite, "data/gh.db"},
		{"data/./gh.db", SQLite, "data/gh.db"},
	}
	for _, tt := range tests {
		d, dsn, err := ParseDatabaseURL(tt.raw)
		if err != nil || d != tt.dialect || dsn != tt.dsn {
			t.Errorf("ParseDatabaseURL(%q) = %q, %q, %v; want %q, %q", tt.raw, d, dsn, err, tt.dialect, tt.dsn)
		}
	}
}

func TestPublicURL(t *testing.T) {
	c := &Config{PublicScheme: "http", PublicPort: "8080"}
	if got := c.PublicURL("demo.localhost"); got != "http://demo.localhost:8080" {
		t.Fatalf("got %q", got)
	}
	c = &Config{PublicScheme: "https", PublicPort: "443"}
	if got := c.PublicURL("login.acme.test"); got != "https://login.acme.test" {
		t.Fatalf("got %q", got)
	}
}

func TestAPILimitsAreValidated(t *testing.T) {
	for _, name := range []string{"GATEHOUSE_API_IP_LIMIT", "GATEHOUSE_API_CLIENT_LIMIT"} {
		for _, bad := range []string{"0", "-1", "lots"} {
			if err := load(t, map[string]string{name: bad}).Validate(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: %v", name, bad, err)
			}
		}
		if err := load(t, map[string]string{name: "50"}).Validate(); err != nil {
			t.Errorf("%s=50: %v", name, err)
		}
	}
}
