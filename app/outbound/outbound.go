// Package outbound is the one HTTP client for calls Gatehouse makes on a
// tenant's behalf: OpenID discovery, JWKS, token exchange, userinfo, and
// later webhooks and back-channel logout. A tenant's admin chooses those
// URLs, so every connection is checked when it is dialled, after DNS has
// answered: loopback, private, link-local (cloud metadata), multicast and
// unspecified addresses are refused. Checking the dialled address rather
// than the URL's host means a name that resolves to 127.0.0.1, or that
// changes its answer between a check and the connection (DNS rebinding),
// gets no further than a literal 127.0.0.1 would.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Options tune a client. The zero value is the production setting.
type Options struct {
	// AllowLoopback lets the client reach 127.0.0.0/8 and ::1: a provider
	// on the developer's machine (--dev) or a fake provider in a test.
	// Every other refused range stays refused.
	AllowLoopback bool
	// MaxBody caps a response body; reading past it fails. Zero is 1 MiB.
	MaxBody int64
	// Timeout bounds a whole call, redirects included. Zero is 10 s.
	Timeout time.Duration
	// Resolve, when set, replaces DNS for the client's dials: the
	// addresses to try, in order, for a host name. Only wiring sets it
	// (app.Options, for tests whose tenant hosts are *.localhost names
	// that the system resolver may not know); no variable or flag does.
	// Every address it returns is still checked when it is dialled.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// MaxRedirects is how many redirects a call may follow: discovery and
// JWKS endpoints sometimes move once or twice, and more is a loop or a
// probe.
const MaxRedirects = 3

// ErrBlocked is the error a refused dial wraps, so callers can tell "the
// address is not allowed" from "the provider is down".
var ErrBlocked = errors.New("outbound: address not allowed")

// ErrTooLarge is returned when a response body passes Options.MaxBody.
var ErrTooLarge = errors.New("outbound: response body too large")

// New returns the client. Each call gets a fresh check of every address it
// dials, redirects included, and no proxy from the environment is used: a
// proxy would be the only address dialled, and the check would see nothing
// of the real target.
func New(o Options) *http.Client {
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			return Check(network, address, o.AllowLoopback)
		},
	}
	dial := dialer.DialContext
	if o.Resolve != nil {
		dial = resolvingDial(dialer, o.Resolve)
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           50,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        60 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  8 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: &limited{next: tr, max: o.MaxBody},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fmt.Errorf("outbound: more than %d redirects", MaxRedirects)
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return errors.New("outbound: redirect from https to http refused")
			}
			return nil
		},
	}
}

// resolvingDial dials the addresses resolve gives for a host name, one
// after another, through dialer, whose Control hook checks each of them.
func resolvingDial(dialer *net.Dialer, resolve func(context.Context, string) ([]netip.Addr, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return dialer.DialContext(ctx, network, address)
		}
		addrs, err := resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		last := fmt.Errorf("outbound: no address for %s", host)
		for _, a := range addrs {
			c, err := dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
			if err == nil {
				return c, nil
			}
			last = err
		}
		return nil, last
	}
}

// Check is the dial-time rule: address is the "ip:port" about to be
// connected. It is exported for the Control hook of any other dialer that
// makes calls on a tenant's behalf.
func Check(network, address string, allowLoopback bool) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %s", ErrBlocked, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s is not an address", ErrBlocked, address)
	}
	if reason := Classify(ap.Addr()); reason != "" {
		if reason == ReasonLoopback && allowLoopback {
			return nil
		}
		return fmt.Errorf("%w: %s is %s", ErrBlocked, ap.Addr(), reason)
	}
	return nil
}

// The reasons Classify gives. They read well in an admin's error message.
const (
	ReasonLoopback    = "a loopback address"
	ReasonPrivate     = "a private address"
	ReasonLinkLocal   = "a link-local address"
	ReasonMulticast   = "a multicast address"
	ReasonUnspecified = "an unspecified address"
	ReasonReserved    = "a reserved address"
)

// blockedV4 are IPv4 ranges no tenant's provider may live in, beyond what
// netip's predicates cover.
var blockedV4 = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), ReasonUnspecified},       // "this network"
	{netip.MustParsePrefix("100.64.0.0/10"), ReasonPrivate},       // CGNAT, RFC 6598
	{netip.MustParsePrefix("192.0.0.0/24"), ReasonReserved},       // IETF protocol assignments
	{netip.MustParsePrefix("198.18.0.0/15"), ReasonReserved},      // benchmarking
	{netip.MustParsePrefix("240.0.0.0/4"), ReasonReserved},        // class E and broadcast
	{netip.MustParsePrefix("169.254.0.0/16"), ReasonLinkLocal},    // cloud metadata lives here
	{netip.MustParsePrefix("192.88.99.0/24"), ReasonReserved},     // 6to4 relay anycast
	{netip.MustParsePrefix("192.0.2.0/24"), ReasonReserved},       // TEST-NET-1
	{netip.MustParsePrefix("198.51.100.0/24"), ReasonReserved},    // TEST-NET-2
	{netip.MustParsePrefix("203.0.113.0/24"), ReasonReserved},     // TEST-NET-3
	{netip.MustParsePrefix("255.255.255.255/32"), ReasonReserved}, // broadcast
}

// blockedV6 are IPv6 ranges beyond netip's predicates: the ones that embed
// an IPv4 address (NAT64, 6to4, Teredo) could reach a private v4 host.
var blockedV6 = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("64:ff9b::/96"), ReasonReserved},   // NAT64
	{netip.MustParsePrefix("64:ff9b:1::/48"), ReasonReserved}, // local NAT64
	{netip.MustParsePrefix("2002::/16"), ReasonReserved},      // 6to4
	{netip.MustParsePrefix("2001::/32"), ReasonReserved},      // Teredo
	{netip.MustParsePrefix("2001:db8::/32"), ReasonReserved},  // documentation
	{netip.MustParsePrefix("100::/64"), ReasonReserved},       // discard
	{netip.MustParsePrefix("fec0::/10"), ReasonPrivate},       // old site-local
}

// Classify says why a may not be dialled, or "" when it may. An IPv4
// address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 one.
func Classify(a netip.Addr) string {
	if !a.IsValid() {
		return ReasonUnspecified
	}
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return ReasonUnspecified
	case a.IsLoopback():
		return ReasonLoopback
	case a.IsLinkLocalUnicast():
		return ReasonLinkLocal
	case a.IsMulticast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return ReasonMulticast
	case a.IsPrivate(): // 10/8, 172.16/12, 192.168/16, fc00::/7
		return ReasonPrivate
	}
	if a.Is4() {
		for _, b := range blockedV4 {
			if b.prefix.Contains(a) {
				return b.reason
			}
		}
		return ""
	}
	if a.Is4In6() {
		return Classify(netip.AddrFrom4(a.As4()))
	}
	// ::a.b.c.d, the deprecated IPv4-compatible form.
	if b := a.As16(); [12]byte(b[:12]) == [12]byte{} {
		return Classify(netip.AddrFrom4([4]byte(b[12:])))
	}
	for _, b := range blockedV6 {
		if b.prefix.Contains(a) {
			return b.reason
		}
	}
	return ""
}

// limited caps every response body, so a provider cannot make Gatehouse
// buffer an endless discovery document or JWKS.
type limited struct {
	next http.RoundTripper
	max  int64
}

func (l *limited) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > l.max {
		resp.Body.Close()
		return nil, ErrTooLarge
	}
	resp.Body = &capped{rc: resp.Body, left: l.max}
	return resp, nil
}

type capped struct {
	rc   io.ReadCloser
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One more byte would pass the cap: tell the caller, rather than
		// letting it parse a truncated document.
		var one [1]byte
		if n, _ := c.rc.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capped) Close() error { return c.rc.Close() }

// IsBlocked tells a refused dial from other failures, so a failed sign-in
// can be reported to the admin as "address not allowed" rather than "the
// provider is down". Some libraries flatten the errors they wrap into
// text, so the message is checked too.
func IsBlocked(err error) bool {
	return err != nil && (errors.Is(err, ErrBlocked) || strings.Contains(err.Error(), ErrBlocked.Error()))
}

// IsTimeout reports whether err is a timeout of the call or its dial.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
