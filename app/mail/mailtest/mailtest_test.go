package mailtest_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/app/mail/mailtest"
)

const raw = "From: Acme <support@acme.test>\r\n" +
	"To: alice@example.com\r\n" +
	"Subject: =?utf-8?q?R=C3=A9initialiser?= le mot de passe\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n" +
	"\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Caf=C3=A9 & a soft=\r\n" +
	" break\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+Q2Fmw6k8L3A+\r\n" +
	"--inner--\r\n" +
	"--outer--\r\n"

// send delivers msg with net/smtp, authenticating when user is set.
func send(srv *mailtest.Server, user string, tlsConfig *tls.Config, to string, msg string) error {
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	if tlsConfig != nil {
		if err := c.StartTLS(tlsConfig); err != nil {
			return err
		}
	}
	if user != "" {
		if err := c.Auth(smtp.PlainAuth("", user, mailtest.Password, "127.0.0.1")); err != nil {
			return err
		}
	}
	if err := c.Mail("support@acme.test"); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func code(err error) int {
	var e *textproto.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestCapture(t *testing.T) {
	srv := mailtest.Start(t)
	if err := send(srv, mailtest.User, nil, "Alice@Example.com", raw); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "alice@example.com", time.Second)
	if m.From != "support@acme.test" || len(m.To) != 1 || m.To[0] != "Alice@Example.com" {
		t.Errorf("envelope %q → %v", m.From, m.To)
	}
	if m.Subject != "Réinitialiser le mot de passe" {
		t.Errorf("subject = %q", m.Subject)
	}
	if m.Text != "Café & a soft break" {
		t.Errorf("text = %q", m.Text)
	}
	if m.HTML != "<p>Café</p>" {
		t.Errorf("html = %q", m.HTML)
	}
	if m.Header.Get("From") != "Acme <support@acme.test>" || !strings.HasPrefix(string(m.Raw), "From: Acme") {
		t.Errorf("header %v, raw %q", m.Header, m.Raw)
	}
	if !strings.HasPrefix(srv.URL(), "smtp://gatehouse:mailtest-password@127.0.0.1:") {
		t.Errorf("URL = %q", srv.URL())
	}
}

func TestWaitForTakesEachMessageOnce(t *testing.T) {
	srv := mailtest.Start(t)
	for _, subject := range []string{"first", "second"} {
		if err := send(srv, mailtest.User, nil, "alice@example.com", "Subject: "+subject+"\r\n\r\nhi\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	if m := srv.WaitFor(t, "alice@example.com", time.Second); m.Subject != "first" || m.Text != "hi\n" {
		t.Errorf("first WaitFor = %q %q", m.Subject, m.Text)
	}
	if m := srv.WaitFor(t, "alice@example.com", time.Second); m.Subject != "second" {
		t.Errorf("second WaitFor = %q", m.Subject)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("Messages() has %d", n)
	}
}

func TestWaitForWaits(t *testing.T) {
	srv := mailtest.Start(t)
	sent := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		sent <- send(srv, mailtest.User, nil, "late@example.com", "Subject: late\r\n\r\nhi\r\n")
	}()
	if m := srv.WaitFor(t, "late@example.com", 5*time.Second); m.Subject != "late" {
		t.Errorf("subject = %q", m.Subject)
	}
	if err := <-sent; err != nil {
		t.Error(err)
	}
}

func TestRefusals(t *testing.T) {
	t.Run("no auth", func(t *testing.T) {
		srv := mailtest.Start(t)
		if err := send(srv, "", nil, "alice@example.com", raw); code(err) != 502 {
			t.Errorf("err = %v, want 502 authentication required", err)
		}
	})
	t.Run("wrong user", func(t *testing.T) {
		srv := mailtest.Start(t)
		if err := send(srv, "mallory", nil, "alice@example.com", raw); code(err) != 535 {
			t.Errorf("err = %v, want 535", err)
		}
	})
	t.Run("without auth allowed", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithoutAuth())
		if err := send(srv, "", nil, "alice@example.com", raw); err != nil {
			t.Error(err)
		}
	})
	for _, c := range []int{550, 451} {
		t.Run("rcpt "+strconv.Itoa(c), func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.RejectRcpt(c))
			if err := send(srv, mailtest.User, nil, "alice@example.com", raw); code(err) != c {
				t.Errorf("err = %v, want %d", err, c)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("%d messages captured", n)
			}
		})
	}
	t.Run("malformed message", func(t *testing.T) {
		srv := mailtest.Start(t)
		bad := "Content-Type: multipart/alternative\r\n\r\nno boundary\r\n"
		if err := send(srv, mailtest.User, nil, "alice@example.com", bad); code(err) != 554 {
			t.Errorf("err = %v, want 554", err)
		}
	})
}

func TestSTARTTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithSTARTTLS())
	if srv.CertPool() == nil {
		t.Fatal("no CertPool")
	}
	t.Run("auth refused before TLS", func(t *testing.T) {
		if err := send(srv, mailtest.User, nil, "alice@example.com", raw); err == nil {
			t.Error("AUTH accepted in clear")
		}
	})
	t.Run("ok", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: srv.CertPool(), ServerName: "127.0.0.1"}
		if err := send(srv, mailtest.User, cfg, "alice@example.com", raw); err != nil {
			t.Fatal(err)
		}
		if m := srv.WaitFor(t, "alice@example.com", time.Second); !m.TLS {
			t.Error("TLS = false")
		}
	})
	t.Run("localhost name", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: srv.CertPool(), ServerName: "localhost"}
		if err := send(srv, mailtest.User, cfg, "bob@example.com", raw); err != nil {
			t.Fatal(err)
		}
	})
}

// recorder is a testing.TB whose Fatalf records instead of stopping, to test
// that WaitFor fails a test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestWaitForTimeout(t *testing.T) {
	srv := mailtest.Start(t)
	if err := send(srv, mailtest.User, nil, "bob@example.com", "Subject: x\r\n\r\nhi\r\n"); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	start := time.Now()
	srv.WaitFor(r, "alice@example.com", 50*time.Millisecond)
	if !strings.Contains(r.failed, "no new message to alice@example.com") || !strings.Contains(r.failed, "bob@example.com") {
		t.Errorf("failure = %q", r.failed)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("waited %v", d)
	}
}
