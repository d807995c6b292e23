package audit

import (
	"strings"
	"sync"

	useragent "github.com/medama-io/go-useragent"
)

// uaParser is built once: its trie takes a moment to build and is safe
// for concurrent use afterwards.
var uaParser = sync.OnceValue(useragent.NewParser)

// osNames spells operating systems as their makers do.
var osNames = map[string]string{"MacOS": "macOS", "ChromeOS": "ChromeOS", "iOS": "iOS"}

// DeviceName is how a User-Agent header reads to people: "Chrome on
// macOS", "Safari on iOS". A client that is no browser (curl, an SDK) is
// named by its product token; an empty header is "".
func DeviceName(userAgent string) string {
	userAgent = strings.TrimSpace(userAgent)
	if userAgent == "" {
		return ""
	}
	ua := uaParser().Parse(userAgent)
	browser, os := string(ua.Browser()), string(ua.OS())
	if n, ok := osNames[os]; ok {
		os = n
	}
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	case os != "":
		return "A browser on " + os
	}
	// The first product token, without its version: "curl/8.5.0" is curl.
	product, _, _ := strings.Cut(strings.Fields(userAgent)[0], "/")
	return truncate(product, 40)
}
