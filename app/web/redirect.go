package web

import (
	"net/url"
	"strings"
)

// SafeReturnTo returns raw if it is a relative path on this host, else "".
// Only a path that starts with a single "/" passes: no scheme, no host, no
// "//evil" or "/\evil" (which browsers read as another host), no control
// characters or spaces.
func SafeReturnTo(raw string) string {
	if raw == "" || len(raw) > 2000 || raw[0] != '/' {
		return ""
	}
	if len(raw) > 1 && (raw[1] == '/' || raw[1] == '\\') {
		return ""
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c < 0x21 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	// Decoded, the path must still not start a network path.
	if strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.Path, "/\\") {
		return ""
	}
	return raw
}
