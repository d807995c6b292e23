package tenants

import (
	"net"
	"strings"

	"gatehouse/apperr"
)

// reserved are slugs that would shadow Gatehouse's own hosts or read as
// official; they are refused whatever their owner says.
var reserved = map[string]bool{
	"console": true, "www": true, "api": true, "admin": true, "static": true, "assets": true,
	"app": true, "apps": true, "auth": true, "login": true, "logout": true, "signup": true,
	"register": true, "account": true, "accounts": true, "id": true, "identity": true, "sso": true,
	"oauth": true, "oidc": true, "mail": true, "email": true, "smtp": true, "imap": true, "pop": true,
	"mx": true, "ns": true, "ns1": true, "ns2": true, "dns": true, "status": true, "health": true,
	"metrics": true, "help": true, "support": true, "docs": true, "blog": true, "cdn": true,
	"dev": true, "staging": true, "test": true, "demo-admin": true, "root": true, "system": true,
	"gatehouse": true, "platform": true, "billing": true, "security": true, "webhooks": true,
	// The demo brand app of serve --dev (app/devshop) answers on shop.<base>,
	// so a tenant of that slug would be hidden behind it.
	"shop": true,
}

// ValidateSlug checks a tenant slug: 2 to 40 of [a-z0-9-], not starting or
// ending with a hyphen, and not reserved.
func ValidateSlug(slug string) error {
	if len(slug) < 2 || len(slug) > 40 {
		return apperr.Field("slug", "must be 2 to 40 characters long")
	}
	for _, r := range slug {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return apperr.Field("slug", "%q may contain only lower-case letters, digits and hyphens", slug)
		}
	}
	if slug[0] == '-' || slug[len(slug)-1] == '-' {
		return apperr.Field("slug", "%q must not start or end with a hyphen", slug)
	}
	if reserved[slug] {
		return apperr.Field("slug", "%q is reserved; choose another", slug)
	}
	return nil
}

// NormalizeHost turns a Host header into the key the resolver looks up:
// lower case, with the port and any trailing dot removed. It returns "" for
// anything that is not a plausible DNS name, or whose port is malformed, so
// garbage never reaches the database.
func NormalizeHost(host string) string {
	name, _ := ParseHost(host)
	return name
}

// Errors of a malformed Host header. They name the header, never echo it.
var (
	errHostPort = apperr.Field("Host", "The port in the Host header must be a number from 1 to 65535.")
	errHostName = apperr.Field("Host", "The Host header is not a valid host name.")
)

// ParseHost checks a Host header and returns the name the resolver looks
// up, as NormalizeHost does. The header is malformed, and refused with an
// Invalid error naming Host, when anything after the first colon is not a
// port from 1 to 65535 (so "demo.localhost:8080.evil.com" is not the demo
// tenant on an odd port), or when the name is neither a DNS name nor an IP
// literal. An empty header or a bracketed IPv6 address is well formed but
// names no tenant: the name is "", and a health probe sent to an address
// still reaches /healthz.
func ParseHost(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if rest, ok := strings.CutPrefix(raw, "["); ok {
		end := strings.IndexByte(rest, ']')
		if end < 0 || !strings.Contains(rest[:end], ":") || net.ParseIP(rest[:end]) == nil {
			return "", errHostName
		}
		if port, ok := strings.CutPrefix(rest[end+1:], ":"); ok {
			if !validPort(port) {
				return "", errHostPort
			}
		} else if rest[end+1:] != "" {
			return "", errHostName
		}
		return "", nil
	}
	name := raw
	if i := strings.IndexByte(raw, ':'); i >= 0 {
		if !validPort(raw[i+1:]) {
			return "", errHostPort
		}
		name = raw[:i]
	}
	if name = dnsName(name); name == "" {
		return "", errHostName
	}
	return name, nil
}

// validPort reports whether port is a decimal number from 1 to 65535.
func validPort(port string) bool {
	if len(port) == 0 || len(port) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
		n = n*10 + int(port[i]-'0')
	}
	return n >= 1 && n <= 65535
}

// dnsName lower-cases host and drops a trailing dot, or returns "" when it
// is not a DNS name: labels of 1 to 63 letters, digits and hyphens, 253
// characters at most. An IPv4 address passes, and names no tenant.
func dnsName(host string) string {
	host = strings.TrimSuffix(host, ".")
	if len(host) == 0 || len(host) > 253 {
		return ""
	}
	var b []byte // allocated only if an upper-case letter needs folding
	labelLen := 0
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			labelLen++
		case c >= 'A' && c <= 'Z':
			if b == nil {
				b = []byte(host)
			}
			b[i] = c + ('a' - 'A')
			labelLen++
		case c == '.':
			if labelLen == 0 {
				return ""
			}
			labelLen = 0
		default:
			return ""
		}
		if labelLen > 63 {
			return ""
		}
	}
	if labelLen == 0 {
		return ""
	}
	if b != nil {
		return string(b)
	}
	return host
}

// ValidateDomain checks a custom domain a tenant wants to be served on. It
// must be a full DNS name with at least two labels, and not under the base
// domain, whose names belong to slugs.
func ValidateDomain(domain, baseDomain string) (string, error) {
	raw := strings.TrimSpace(domain)
	if strings.ContainsAny(raw, ":/ ") {
		return "", apperr.Field("domain", "%q must be a bare host name, without scheme, port or path", raw)
	}
	host := NormalizeHost(raw)
	if host == "" {
		return "", apperr.Field("domain", "%q is not a valid host name", raw)
	}
	if !strings.Contains(host, ".") {
		return "", apperr.Field("domain", "%q must be a full domain name such as login.example.com", raw)
	}
	for _, label := range strings.Split(host, ".") {
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", apperr.Field("domain", "%q is not a valid host name", raw)
		}
	}
	if net.ParseIP(host) != nil {
		return "", apperr.Field("domain", "%q is an IP address; use a domain name", raw)
	}
	if host == baseDomain || strings.HasSuffix(host, "."+baseDomain) {
		return "", apperr.Field("domain", "%q is under the base domain %s, whose names belong to tenant slugs", raw, baseDomain)
	}
	return host, nil
}
