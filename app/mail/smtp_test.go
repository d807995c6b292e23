package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"gatehouse/app/mail/mailtest"
	"gatehouse/jobs"
)

const wait = 5 * time.Second

func mustSMTP(t *testing.T, rawURL string, opts ...SMTPOption) *SMTP {
	t.Helper()
	s, err := NewSMTP(rawURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPDeliverMail(t *testing.T) {
	ctx := context.Background()

	t.Run("ok with AUTH", func(t *testing.T) {
		srv := mailtest.Start(t)
		if err := mustSMTP(t, srv.URL()).DeliverMail(ctx, sample()); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, "alice@example.com", wait)
		if got.From != "support@acme.test" || got.Subject != sample().Subject {
			t.Errorf("envelope from %q, subject %q", got.From, got.Subject)
		}
		if got.Text != sample().Text || got.HTML != sample().HTML {
			t.Errorf("text %q, html %q", got.Text, got.HTML)
		}
		if got.TLS {
			t.Error("TLS without STARTTLS on offer?")
		}
	})

	t.Run("ok with STARTTLS", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithSTARTTLS())
		s := mustSMTP(t, srv.URL(), WithTLSConfig(&tls.Config{RootCAs: srv.CertPool()}))
		if err := s.DeliverMail(ctx, sample()); err != nil {
			t.Fatal(err)
		}
		if got := srv.WaitFor(t, "alice@example.com", wait); !got.TLS {
			t.Error("message did not arrive over TLS")
		}
	})

	t.Run("ok with smtps", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithImplicitTLS())
		s := mustSMTP(t, srv.URL(), WithTLSConfig(&tls.Config{RootCAs: srv.CertPool()}))
		if err := s.DeliverMail(ctx, sample()); err != nil {
			t.Fatal(err)
		}
		if got := srv.WaitFor(t, "alice@example.com", wait); !got.TLS {
			t.Error("message did not arrive over TLS")
		}
	})

	t.Run("ok without credentials", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithoutAuth())
		if err := mustSMTP(t, "smtp://"+srv.Addr()).DeliverMail(ctx, sample()); err != nil {
			t.Fatal(err)
		}
		srv.WaitFor(t, "alice@example.com", wait)
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithSTARTTLS())
		err := mustSMTP(t, srv.URL()).DeliverMail(ctx, sample())
		if err == nil || errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v, want a retryable TLS error", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages delivered over an unverified connection", n)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		srv := mailtest.Start(t)
		err := mustSMTP(t, "smtp://"+mailtest.User+":wrong@"+srv.Addr()).DeliverMail(ctx, sample())
		var reply *textproto.Error
		if !errors.As(err, &reply) || reply.Code != 535 {
			t.Fatalf("err = %v, want the 535 reply", err)
		}
		if errors.Is(err, ErrPermanent) {
			t.Error("a settings problem must stay retryable, or every queued mail is lost")
		}
	})

	t.Run("credentials not sent in clear to a remote host", func(t *testing.T) {
		srv := mailtest.Start(t)
		// The client believes it talks to relay.example.com, a remote
		// relay that offers no STARTTLS.
		err := mustSMTP(t, srv.URL(), withHost("relay.example.com")).DeliverMail(ctx, sample())
		if err == nil || !strings.Contains(err.Error(), "unencrypted") {
			t.Fatalf("err = %v, want a refusal to send the password", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages delivered", n)
		}
	})

	t.Run("550 is permanent", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.RejectRcpt(550))
		err := mustSMTP(t, srv.URL()).DeliverMail(ctx, sample())
		if !errors.Is(err, ErrPermanent) || !jobs.IsPermanent(err) {
			t.Fatalf("err = %v, want ErrPermanent and jobs.Permanent", err)
		}
		var reply *textproto.Error
		if !errors.As(err, &reply) || reply.Code != 550 {
			t.Errorf("err = %v, want the 550 reply kept in the chain", err)
		}
	})

	t.Run("451 is retryable", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.RejectRcpt(451))
		err := mustSMTP(t, srv.URL()).DeliverMail(ctx, sample())
		if err == nil || errors.Is(err, ErrPermanent) || jobs.IsPermanent(err) {
			t.Fatalf("err = %v, want a retryable error", err)
		}
	})

	t.Run("connection refused is retryable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		err = mustSMTP(t, "smtp://"+addr).DeliverMail(ctx, sample())
		if err == nil || errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v, want a retryable error", err)
		}
	})

	t.Run("silent server gives up at the context deadline", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			// Accept and say nothing, like a relay that has hung.
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = mustSMTP(t, "smtp://"+ln.Addr().String()).DeliverMail(ctx, sample())
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrPermanent) {
			t.Errorf("err = %v, want a retryable deadline error", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v", d)
		}
	})

	t.Run("invalid message is permanent and not sent", func(t *testing.T) {
		srv := mailtest.Start(t)
		m := sample()
		m.To = "alice@example.com\r\nRCPT TO:<eve@evil.test>"
		if err := mustSMTP(t, srv.URL()).DeliverMail(ctx, m); !errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v, want ErrPermanent", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages delivered", n)
		}
	})
}

// withHost makes the client take the server for host (for TLS and for the
// plain-text password check) while still dialling the test server.
func withHost(host string) SMTPOption {
	return func(s *SMTP) { s.host = host }
}

func TestNewSMTP(t *testing.T) {
	ok := []struct {
		url, addr, user, pass string
		tls                   bool
	}{
		{"smtp://u:p@mail.example.com", "mail.example.com:587", "u", "p", false},
		{"smtps://u:p@mail.example.com", "mail.example.com:465", "u", "p", true},
		{"smtp://mail.example.com:25", "mail.example.com:25", "", "", false},
		{"smtp://apikey:p%40ss%2Fw%3Ard@smtp.example.com:2525/", "smtp.example.com:2525", "apikey", "p@ss/w:rd", false},
		{"smtp://[::1]:1025", "[::1]:1025", "", "", false},
	}
	for _, tc := range ok {
		t.Run("ok "+tc.url, func(t *testing.T) {
			s, err := NewSMTP(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if s.addr != tc.addr || s.username != tc.user || s.password != tc.pass || s.implicitTLS != tc.tls {
				t.Errorf("got addr %q user %q pass %q tls %v", s.addr, s.username, s.password, s.implicitTLS)
			}
		})
	}

	bad := []struct{ name, url, says string }{
		{"empty", "", "empty"},
		{"no scheme", "mail.example.com:587", "scheme"},
		{"wrong scheme", "http://u:s3cret@mail.example.com", "smtp or smtps"},
		{"no host", "smtp://", "no host"},
		{"no slashes", "smtp:mail.example.com", "no host"},
		{"port zero", "smtp://mail.example.com:0", "port"},
		{"port too big", "smtp://u:s3cret@mail.example.com:99999", "port"},
		{"port not a number", "smtp://u:s3cret@mail.example.com:abc", "port"},
		{"empty port", "smtp://u:s3cret@mail.example.com:", "port"},
		{"user without password", "smtp://u@mail.example.com", "no password"},
		{"empty password", "smtp://u:@mail.example.com", "no password"},
		{"password without user", "smtp://:s3cret@mail.example.com", "no user"},
		{"path", "smtp://u:s3cret@mail.example.com/x", "path"},
		{"query", "smtp://u:s3cret@mail.example.com?tls=no", "query"},
		{"bad escape", "smtp://u:s3cret%zz@mail.example.com", "escape"},
		{"unescaped at", "smtp://u:s3cret@x@mail.example.com", ""},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.name, func(t *testing.T) {
			s, err := NewSMTP(tc.url)
			if err == nil {
				if tc.says == "" {
					return // ambiguous but parseable; only the others must fail
				}
				t.Fatalf("NewSMTP(%q) = %+v, want an error", tc.url, s)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "GATEHOUSE_SMTP_URL: ") {
				t.Errorf("error %q does not name GATEHOUSE_SMTP_URL", msg)
			}
			if !strings.Contains(msg, tc.says) {
				t.Errorf("error %q does not say %q", msg, tc.says)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("error %q shows the password", msg)
			}
		})
	}
}

// FuzzNewSMTP checks that no URL makes NewSMTP panic, that every refusal
// names the variable, and that every accepted URL yields a dialable address.
func FuzzNewSMTP(f *testing.F) {
	for _, s := range []string{"smtp://u:p@h:587", "smtps://h", "smtp://u:p%zz@h", "smtp://[::1", "smtp://h:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := NewSMTP(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), smtpEnv+": ") {
				t.Fatalf("error %q does not name the variable", err)
			}
			return
		}
		if _, _, err := net.SplitHostPort(s.addr); err != nil {
			t.Fatalf("addr %q: %v", s.addr, err)
		}
	})
}
