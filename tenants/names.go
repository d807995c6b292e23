package tenants

import (
	"net"
	"strings"

	"gatehouse/app/apperr"
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
// anything that is not a plausible DNS name, so garbage never reaches the
// database.
func NormalizeHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
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
