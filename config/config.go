// Package config loads Gatehouse's settings from GATEHOUSE_* environment
// variables and matching command-line flags into one typed struct, and
// validates it at start-up so that a bad setting stops the process with one
// line naming the variable, rather than failing later on a request.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is every setting Gatehouse reads. It is loaded once in app.Main and
// passed to constructors; nothing reads the environment after that.
type Config struct {
	Dev          bool   // --dev: embedded stores, in-process worker, dev mail
	Addr         string // GATEHOUSE_ADDR
	BaseDomain   string // GATEHOUSE_BASE_DOMAIN
	PublicScheme string // GATEHOUSE_PUBLIC_SCHEME
	DatabaseURL  string // GATEHOUSE_DATABASE_URL
	RedisURL     string // GATEHOUSE_REDIS_URL
	SMTPURL      string // GATEHOUSE_SMTP_URL
	SecretKey    string // GATEHOUSE_SECRET_KEY, 32 bytes as hex or base64
	DataDir      string // GATEHOUSE_DATA_DIR
	MetricsAddr  string // GATEHOUSE_METRICS_ADDR; empty turns /metrics off
	MailFrom     string // GATEHOUSE_MAIL_FROM
	LogLevel     string // GATEHOUSE_LOG_LEVEL
	Proxies      string // GATEHOUSE_TRUSTED_PROXIES

	// PublicPort is the port public links carry when it is not the
	// scheme's default (GATEHOUSE_PUBLIC_PORT). "auto" means the port
	// `serve` listens on, which --dev uses.
	PublicPort string

	// OutboundLoopback is GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK: "true" lets
	// calls made on a tenant's behalf (discovery, token, userinfo) reach
	// loopback addresses. It defaults to true only with --dev, where the
	// brand's provider may run on the developer's machine; tests that run
	// fake providers on httptest set it explicitly.
	OutboundLoopback string

	// APIIPLimit and APIClientLimit are the JSON API's budgets: requests
	// per minute from one address, and with one app's tokens, per tenant
	// (GATEHOUSE_API_IP_LIMIT, GATEHOUSE_API_CLIENT_LIMIT).
	APIIPLimit     string
	APIClientLimit string
}

// AllowLoopback reports whether outbound calls may reach loopback.
func (c *Config) AllowLoopback() bool { return c.OutboundLoopback == "true" }

// TrustedProxies lists the proxies whose forwarding headers are believed;
// nil trusts none, so the client address is the connection's.
func (c *Config) TrustedProxies() []string {
	var out []string
	for _, p := range strings.Split(c.Proxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// PublicURL is the base URL of host as customers reach it.
func (c *Config) PublicURL(host string) string {
	if c.PublicPort == "" || c.PublicPort == "auto" || (c.PublicScheme == "http" && c.PublicPort == "80") || (c.PublicScheme == "https" && c.PublicPort == "443") {
		return c.PublicScheme + "://" + host
	}
	return c.PublicScheme + "://" + host + ":" + c.PublicPort
}

// setting ties a field to its variable, flag and default.
type setting struct {
	env, flag, def, usage string
	field                 func(*Config) *string
}

var settings = []setting{
	{"GATEHOUSE_ADDR", "addr", ":8080", "address to listen on", func(c *Config) *string { return &c.Addr }},
	{"GATEHOUSE_BASE_DOMAIN", "base-domain", "localhost", "tenants are served on <slug>.<base-domain>", func(c *Config) *string { return &c.BaseDomain }},
	{"GATEHOUSE_PUBLIC_SCHEME", "public-scheme", "", "scheme of public links: http or https (default http with --dev, else https)", func(c *Config) *string { return &c.PublicScheme }},
	{"GATEHOUSE_DATABASE_URL", "database-url", "", "postgres://… or a SQLite file path (sqlite://path)", func(c *Config) *string { return &c.DatabaseURL }},
	{"GATEHOUSE_REDIS_URL", "redis-url", "", "redis://[user:pass@]host:port/db, redis-sentinel://host:port,…/master/db or redis-cluster://host:port,…", func(c *Config) *string { return &c.RedisURL }},
	{"GATEHOUSE_SMTP_URL", "smtp-url", "", "smtp://user:pass@host:port; empty writes mail to <data-dir>/outbox", func(c *Config) *string { return &c.SMTPURL }},
	{"GATEHOUSE_SECRET_KEY", "secret-key", "", "32-byte master key, hex or base64", func(c *Config) *string { return &c.SecretKey }},
	{"GATEHOUSE_DATA_DIR", "data-dir", "data", "directory for the dev database, key, outbox and uploads", func(c *Config) *string { return &c.DataDir }},
	{"GATEHOUSE_METRICS_ADDR", "metrics-addr", "", "address for Prometheus /metrics; empty is off", func(c *Config) *string { return &c.MetricsAddr }},
	{"GATEHOUSE_MAIL_FROM", "mail-from", "", "From address of outgoing mail (default no-reply@<base-domain>)", func(c *Config) *string { return &c.MailFrom }},
	{"GATEHOUSE_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }},
	{"GATEHOUSE_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed", func(c *Config) *string { return &c.Proxies }},
	{"GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "outbound-allow-loopback", "", "true lets calls to tenants' providers reach loopback (default true only with --dev)", func(c *Config) *string { return &c.OutboundLoopback }},
	{"GATEHOUSE_API_IP_LIMIT", "api-ip-limit", "1200", "JSON API requests per minute from one address, per tenant", func(c *Config) *string { return &c.APIIPLimit }},
	{"GATEHOUSE_API_CLIENT_LIMIT", "api-client-limit", "3000", "JSON API requests per minute with one app's tokens", func(c *Config) *string { return &c.APIClientLimit }},
	{"GATEHOUSE_PUBLIC_PORT", "public-port", "", "port in public links when not 80/443; auto = the listening port", func(c *Config) *string { return &c.PublicPort }},
}

// Load reads the environment through getenv and returns the config with a
// flag set bound to it: parsing the command's arguments with that set lets a
// flag override its variable. Call Finish after parsing.
func Load(name string, getenv func(string) string) (*Config, *flag.FlagSet) {
	cfg := &Config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	for _, s := range settings {
		// The flag's default is the built-in one, so help never prints a
		// secret taken from the environment; the variable sets the value.
		fs.StringVar(s.field(cfg), s.flag, s.def, s.usage+" ($"+s.env+")")
		if v := getenv(s.env); v != "" {
			*s.field(cfg) = v
		}
	}
	fs.BoolVar(&cfg.Dev, "dev", false, "development mode: SQLite, in-process Redis and worker, mail to files")
	return cfg, fs
}

// Finish fills the defaults that depend on other settings. Call it after the
// flags are parsed.
func (c *Config) Finish() {
	if c.PublicScheme == "" {
		c.PublicScheme = "https"
		if c.Dev {
			c.PublicScheme = "http"
		}
	}
	if c.OutboundLoopback == "" {
		c.OutboundLoopback = strconv.FormatBool(c.Dev)
	}
	c.BaseDomain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(c.BaseDomain), "."))
	if c.MailFrom == "" {
		c.MailFrom = "Gatehouse <no-reply@" + c.mailDomain() + ">"
	}
}

func (c *Config) mailDomain() string {
	if c.BaseDomain == "localhost" || !strings.Contains(c.BaseDomain, ".") {
		return "gatehouse.localhost"
	}
	return c.BaseDomain
}

// Need names a setting that a command cannot run without.
type Need int

// The settings a command may require.
const (
	NeedDatabase Need = iota
	NeedRedis
	NeedSecret
)

// Validate checks every setting that is present, and that each setting in
// needs is present. The first problem is returned as one line naming the
// variable.
func (c *Config) Validate(needs ...Need) error {
	for _, n := range needs {
		switch n {
		case NeedDatabase:
			if c.DatabaseURL == "" {
				return errors.New("GATEHOUSE_DATABASE_URL is not set: give postgres://user:pass@host:5432/db or a SQLite path, or run with --dev")
			}
		case NeedRedis:
			if c.RedisURL == "" {
				return errors.New("GATEHOUSE_REDIS_URL is not set: give redis://host:6379/0, or run with --dev")
			}
		case NeedSecret:
			if c.SecretKey == "" {
				return errors.New("GATEHOUSE_SECRET_KEY is not set: give 32 random bytes as 64 hex characters (openssl rand -hex 32), or run with --dev")
			}
		}
	}
	if c.DatabaseURL != "" {
		if _, _, err := ParseDatabaseURL(c.DatabaseURL); err != nil {
			return fmt.Errorf("GATEHOUSE_DATABASE_URL: %v", err)
		}
	}
	if c.RedisURL != "" {
		if err := checkRedisURL(c.RedisURL); err != nil {
			return fmt.Errorf("GATEHOUSE_REDIS_URL: %v", err)
		}
	}
	if c.SecretKey != "" {
		if _, err := ParseSecretKey(c.SecretKey); err != nil {
			return fmt.Errorf("GATEHOUSE_SECRET_KEY: %v", err)
		}
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return errors.New("GATEHOUSE_SMTP_URL: must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
		}
	}
	if c.PublicScheme != "http" && c.PublicScheme != "https" {
		return fmt.Errorf("GATEHOUSE_PUBLIC_SCHEME: must be http or https, not %q", c.PublicScheme)
	}
	if err := checkBaseDomain(c.BaseDomain); err != nil {
		return fmt.Errorf("GATEHOUSE_BASE_DOMAIN: %v", err)
	}
	if err := checkAddr(c.Addr); err != nil {
		return fmt.Errorf("GATEHOUSE_ADDR: %v", err)
	}
	if c.MetricsAddr != "" {
		if err := checkAddr(c.MetricsAddr); err != nil {
			return fmt.Errorf("GATEHOUSE_METRICS_ADDR: %v", err)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("GATEHOUSE_LOG_LEVEL: must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if c.DataDir == "" {
		return errors.New("GATEHOUSE_DATA_DIR: must not be empty")
	}
	for _, p := range c.TrustedProxies() {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("GATEHOUSE_TRUSTED_PROXIES: %q is not an address or CIDR", p)
			}
		}
	}
	if c.OutboundLoopback != "true" && c.OutboundLoopback != "false" && c.OutboundLoopback != "" {
		return fmt.Errorf("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK: must be true or false, not %q", c.OutboundLoopback)
	}
	for name, v := range map[string]string{"GATEHOUSE_API_IP_LIMIT": c.APIIPLimit, "GATEHOUSE_API_CLIENT_LIMIT": c.APIClientLimit} {
		if n, err := strconv.Atoi(v); v != "" && (err != nil || n < 1) {
			return fmt.Errorf("%s: must be a whole number of requests per minute, at least 1, not %q", name, v)
		}
	}
	if c.PublicPort != "" && c.PublicPort != "auto" {
		if n, err := strconv.Atoi(c.PublicPort); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("GATEHOUSE_PUBLIC_PORT: must be a port number or auto, not %q", c.PublicPort)
		}
	}
	return nil
}

// Dialect names a supported database.
type Dialect string

// The supported databases.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// ParseDatabaseURL tells the dialect of raw and returns the DSN its driver
// takes: the URL itself for PostgreSQL, and the file path for SQLite.
func ParseDatabaseURL(raw string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", errors.New("not a valid URL")
		}
		if u.Hostname() == "" && u.Query().Get("host") == "" {
			return "", "", errors.New("names no host")
		}
		if strings.Trim(u.Path, "/") == "" {
			return "", "", errors.New("names no database (postgres://host:5432/DBNAME)")
		}
		return Postgres, raw, nil
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if p == "" {
			return "", "", errors.New("sqlite:// needs a file path")
		}
		return SQLite, p, nil
	case strings.Contains(raw, "://"):
		return "", "", fmt.Errorf("unsupported scheme %q: use postgres:// or sqlite://", raw[:strings.Index(raw, "://")])
	default:
		if strings.HasSuffix(raw, "/") {
			return "", "", errors.New("is a directory, not a SQLite file path")
		}
		return SQLite, filepath.Clean(raw), nil
	}
}

// ParseSecretKey decodes the master key: exactly 32 bytes, as hex or base64.
func ParseSecretKey(raw string) ([]byte, error) {
	raw = strings.TrimSpace(raw)
	if b, err := hex.DecodeString(raw); err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("must be 32 bytes, got %d as hex", len(b))
		}
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(raw); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("must be 32 bytes, got %d as base64", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)")
}

func checkRedisURL(raw string) error {
	_, err := ParseRedisURL(raw)
	return err
}

func checkBaseDomain(d string) error {
	if d == "" {
		return errors.New("must not be empty")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("%q is not a valid host name", d)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%q is not a valid host name", d)
			}
		}
	}
	return nil
}

func checkAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%q must be host:port or :port", addr)
	}
	return nil
}
