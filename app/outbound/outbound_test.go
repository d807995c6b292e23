package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4009:80b::200e", ""},
		{"100.63.255.255", ""}, // just below CGNAT
		{"100.128.0.0", ""},    // just above CGNAT
		{"172.32.0.1", ""},     // just above 172.16/12

		{"127.0.0.1", ReasonLoopback},
		{"127.255.255.254", ReasonLoopback},
		{"::1", ReasonLoopback},
		{"::ffff:127.0.0.1", ReasonLoopback},
		{"10.0.0.1", ReasonPrivate},
		{"172.16.0.1", ReasonPrivate},
		{"172.31.255.255", ReasonPrivate},
		{"192.168.1.1", ReasonPrivate},
		{"::ffff:10.1.2.3", ReasonPrivate},
		{"::ffff:192.168.0.1", ReasonPrivate},
		{"100.64.0.1", ReasonPrivate},
		{"100.127.255.255", ReasonPrivate},
		{"fc00::1", ReasonPrivate},
		{"fd12:3456:789a::1", ReasonPrivate},
		{"169.254.169.254", ReasonLinkLocal},
		{"::ffff:169.254.169.254", ReasonLinkLocal},
		{"169.254.0.1", ReasonLinkLocal},
		{"fe80::1", ReasonLinkLocal},
		{"fe80::a00:27ff:fe4e:66a1", ReasonLinkLocal},
		{"224.0.0.1", ReasonMulticast},
		{"239.255.255.250", ReasonMulticast},
		{"ff02::1", ReasonMulticast},
		{"ff05::2", ReasonMulticast},
		{"0.0.0.0", ReasonUnspecified},
		{"0.1.2.3", ReasonUnspecified},
		{"::", ReasonUnspecified},
		{"::ffff:0.0.0.0", ReasonUnspecified},
		{"255.255.255.255", ReasonReserved},
		{"240.0.0.1", ReasonReserved},
		{"64:ff9b::7f00:1", ReasonReserved}, // NAT64 of 127.0.0.1
		{"2002:7f00:1::1", ReasonReserved},  // 6to4 of 127.0.0.1
		{"::127.0.0.1", ReasonLoopback},     // IPv4-compatible form
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := Classify(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Fatalf("Classify(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestCheckLoopbackSwitch(t *testing.T) {
	if err := Check("tcp", "127.0.0.1:443", false); !errors.Is(err, ErrBlocked) {
		t.Fatalf("loopback with the guard on: %v", err)
	}
	if err := Check("tcp", "127.0.0.1:443", true); err != nil {
		t.Fatalf("loopback allowed: %v", err)
	}
	if err := Check("tcp6", "[::1]:443", true); err != nil {
		t.Fatalf("::1 allowed: %v", err)
	}
	// Allowing loopback opens nothing else.
	for _, a := range []string{"169.254.169.254:80", "10.0.0.1:80", "[fe80::1]:80", "0.0.0.0:80"} {
		if err := Check("tcp", a, true); !errors.Is(err, ErrBlocked) {
			t.Fatalf("%s with loopback allowed: %v", a, err)
		}
	}
	if err := Check("udp", "8.8.8.8:53", false); !errors.Is(err, ErrBlocked) {
		t.Fatalf("udp: %v", err)
	}
}

// TestDialGuard: the check runs at dial time, for literal addresses and for
// names that resolve to loopback alike, and no request reaches the server.
func TestDialGuard(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	guarded := New(Options{})
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/", "http://169.254.169.254/latest/meta-data/"} {
		resp, err := guarded.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: reached with the guard on", u)
		}
		if !IsBlocked(err) {
			t.Fatalf("%s: %v, want a blocked dial", u, err)
		}
	}
	if hits != 0 {
		t.Fatalf("%d requests reached the server through the guard", hits)
	}

	open := New(Options{AllowLoopback: true})
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		resp, err := open.Get(u)
		if err != nil {
			t.Fatalf("%s with loopback allowed: %v", u, err)
		}
		resp.Body.Close()
	}
	if hits != 2 {
		t.Fatalf("%d requests, want 2", hits)
	}
	if _, err := open.Get("http://169.254.169.254/"); !IsBlocked(err) {
		t.Fatalf("metadata with loopback allowed: %v", err)
	}
}

// TestRedirectLimitsAndBody: a redirect loop ends after MaxRedirects, and a
// body past the cap is an error, not a truncated document.
func TestRedirectLimitsAndBody(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 2048)))
	})
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("small")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := New(Options{AllowLoopback: true, MaxBody: 1024})
	if _, err := c.Get(srv.URL + "/loop"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("redirect loop: %v", err)
	}
	resp, err := c.Get(srv.URL + "/big")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("2 KiB body under a 1 KiB cap: %v", err)
	}
	resp, err = c.Get(srv.URL + "/small")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "small" {
		t.Fatalf("small body: %q %v", b, err)
	}
}

// TestResolveHook: the wiring-only resolver sends a name the system
// resolver does not know to the address it gives, and every address it
// gives still passes the dial-time check.
func TestResolveHook(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "host "+r.Host)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "http://acme.localhost:" + port + "/"
	to := func(addrs ...string) func(context.Context, string) ([]netip.Addr, error) {
		return func(_ context.Context, host string) ([]netip.Addr, error) {
			if host != "acme.localhost" {
				return nil, errors.New("unknown host " + host)
			}
			var out []netip.Addr
			for _, a := range addrs {
				out = append(out, netip.MustParseAddr(a))
			}
			return out, nil
		}
	}

	t.Run("ok", func(t *testing.T) {
		resp, err := New(Options{AllowLoopback: true, Resolve: to("127.0.0.1")}).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "host acme.localhost:"+port {
			t.Fatalf("body %q", b)
		}
	})
	t.Run("loopback still refused without AllowLoopback", func(t *testing.T) {
		if _, err := New(Options{Resolve: to("127.0.0.1")}).Get(url); !errors.Is(err, ErrBlocked) {
			t.Fatalf("err = %v, want ErrBlocked", err)
		}
	})
	t.Run("private address still refused", func(t *testing.T) {
		if _, err := New(Options{AllowLoopback: true, Resolve: to("10.0.0.1")}).Get(url); !errors.Is(err, ErrBlocked) {
			t.Fatalf("err = %v, want ErrBlocked", err)
		}
	})
	t.Run("next address after a refused one", func(t *testing.T) {
		resp, err := New(Options{AllowLoopback: true, Resolve: to("10.0.0.1", "127.0.0.1")}).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
}
