package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gatehouse/jobs"
)

// smtpEnv is the variable that SMTP settings come from; NewSMTP's errors name
// it so an operator knows which setting to fix.
const smtpEnv = "GATEHOUSE_SMTP_URL"

const (
	defaultDialTimeout = 10 * time.Second
	// maxSession caps one whole delivery when the context has no deadline,
	// so a relay that stops answering cannot hold a worker forever.
	maxSession = 2 * time.Minute
)

// SMTP delivers mail through one relay (a submission server such as SES,
// Postmark or Postfix), one connection per message. Connections are not
// pooled: the worker sends a few messages a second at most, and a fresh
// connection cannot be left in a bad state by a failed one.
type SMTP struct {
	addr        string // host:port
	host        string
	implicitTLS bool
	username    string
	password    string
	hasAuth     bool
	tlsConfig   *tls.Config
	dialTimeout time.Duration
	localName   string
}

var _ jobs.MailDeliverer = (*SMTP)(nil)

// SMTPOption changes how NewSMTP's client connects.
type SMTPOption func(*SMTP)

// WithTLSConfig sets the TLS configuration for STARTTLS and smtps://, so
// tests can trust a self-signed certificate and operators can pin a private
// CA. ServerName defaults to the URL's host.
func WithTLSConfig(c *tls.Config) SMTPOption {
	return func(s *SMTP) { s.tlsConfig = c }
}

// WithDialTimeout replaces the 10-second limit on opening the connection
// (including the TLS handshake for smtps://).
func WithDialTimeout(d time.Duration) SMTPOption {
	return func(s *SMTP) {
		if d > 0 {
			s.dialTimeout = d
		}
	}
}

// WithLocalName sets the name sent in EHLO. Some relays reject the default
// "localhost"; give the host's public name then.
func WithLocalName(name string) SMTPOption {
	return func(s *SMTP) {
		if name != "" {
			s.localName = name
		}
	}
}

// NewSMTP parses rawURL, smtp://user:pass@host:port (port 587, STARTTLS
// whenever the server offers it) or smtps://user:pass@host:port (port 465,
// TLS from the first byte). The user and password are optional but go
// together, and must be URL-escaped. Errors name GATEHOUSE_SMTP_URL, say what
// is wrong, and never repeat the password.
func NewSMTP(rawURL string, opts ...SMTPOption) (*SMTP, error) {
	s := &SMTP{dialTimeout: defaultDialTimeout, localName: "localhost"}
	if err := s.parseURL(rawURL); err != nil {
		return nil, fmt.Errorf("%s: %s", smtpEnv, err)
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

func (s *SMTP) parseURL(rawURL string) error {
	const shape = "must look like smtp://user:pass@host:587 or smtps://user:pass@host:465"
	if strings.TrimSpace(rawURL) == "" {
		return errors.New("is empty; " + shape)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only
		// the reason.
		var esc url.EscapeError
		if errors.As(err, &esc) {
			return errors.New("has an invalid %-escape; the user and password must be URL-escaped")
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("cannot be parsed (%v); %s", err, shape)
	}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.implicitTLS = true
	case "":
		return errors.New("has no scheme; " + shape)
	default:
		return fmt.Errorf("scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if u.Opaque != "" {
		return errors.New("has no host (missing // after the scheme?); " + shape)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return errors.New("has no host; " + shape)
	}
	port := u.Port()
	switch {
	case port == "" && strings.HasSuffix(u.Host, ":"):
		return errors.New("has an empty port after the host")
	case port == "" && s.implicitTLS:
		port = "465"
	case port == "":
		port = "587"
	default:
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("must not have a path, got %q", u.Path)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a query or fragment")
	}
	if u.User != nil {
		s.username = u.User.Username()
		s.password, s.hasAuth = u.User.Password()
		switch {
		case s.username == "":
			return errors.New("has a password but no user name")
		case !s.hasAuth || s.password == "":
			return fmt.Errorf("user %q has no password (give smtp://user:pass@host, URL-escaped)", s.username)
		}
	}
	return nil
}

// DeliverMail sends m as one SMTP transaction: EHLO, STARTTLS if the server
// offers it (smtp://), AUTH PLAIN when the URL has credentials, then MAIL,
// RCPT and DATA with Build's output. net/smtp's PlainAuth refuses to send the
// password over a connection that is neither encrypted nor to localhost, so
// a relay that stops offering STARTTLS cannot harvest it.
//
// A 5xx reply to MAIL, RCPT or DATA, or a message Build refuses, is wrapped
// in ErrPermanent and jobs.Permanent: the relay has rejected this message
// and will again.
// Everything else (network errors, 4xx, and failures of EHLO, STARTTLS or
// AUTH, which mean our settings or the relay are broken rather than the
// message) is returned plain so the worker retries once they are fixed.
func (s *SMTP) DeliverMail(ctx context.Context, m jobs.SendMail) error {
	from, err := parseMailbox("from", m.From)
	if err != nil {
		return permanent(err)
	}
	to, err := parseMailbox("to", m.To)
	if err != nil {
		return permanent(err)
	}
	msg, err := Build(m, time.Now(), MessageIDFor(m, addressDomain(from)))
	if err != nil {
		return permanent(err)
	}
	return s.send(ctx, from.Address, to.Address, msg)
}

func (s *SMTP) send(ctx context.Context, from, to string, msg []byte) (err error) {
	stage := "connect"
	defer func() {
		if err != nil {
			err = s.classify(ctx, stage, err)
		}
	}()

	conn, err := s.dial(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(maxSession)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return err
	}
	// Cancelling ctx unblocks whatever read or write is in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	stage = "greeting"
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()

	stage = "EHLO"
	if err := c.Hello(s.localName); err != nil {
		return err
	}
	if !s.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			stage = "STARTTLS"
			if err := c.StartTLS(s.tls()); err != nil {
				return err
			}
		}
	}
	if s.hasAuth {
		stage = "AUTH"
		if _, encrypted := c.TLSConnectionState(); !encrypted && !isLoopback(s.host) {
			return errors.New("refusing to send the password over an unencrypted connection: the server did not offer STARTTLS (use smtps:// or a relay that offers STARTTLS)")
		}
		if err := c.Auth(smtp.PlainAuth("", s.username, s.password, s.host)); err != nil {
			return err
		}
	}
	stage = "MAIL FROM"
	if err := c.Mail(from); err != nil {
		return err
	}
	stage = "RCPT TO"
	if err := c.Rcpt(to); err != nil {
		return err
	}
	stage = "DATA"
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The relay has accepted the message; a failed QUIT must not make the
	// worker send it twice.
	_ = c.Quit()
	return nil
}

// dial opens the TCP connection, and for smtps:// completes the TLS
// handshake, within the dial timeout.
func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, s.dialTimeout)
	defer cancel()
	if s.implicitTLS {
		d := tls.Dialer{Config: s.tls()}
		return d.DialContext(dctx, "tcp", s.addr)
	}
	var d net.Dialer
	return d.DialContext(dctx, "tcp", s.addr)
}

// tls returns the client TLS configuration: the injected one or the system
// roots, verifying the URL's host name, TLS 1.2 at least.
func (s *SMTP) tls() *tls.Config {
	c := &tls.Config{}
	if s.tlsConfig != nil {
		c = s.tlsConfig.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = s.host
	}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// classify names the failed stage and the relay, and marks the error
// permanent when the relay refused this message with a 5xx reply.
func (s *SMTP) classify(ctx context.Context, stage string, err error) error {
	cerr := ctx.Err()
	if d, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(d) {
		// The connection's deadline is the context's, and can fire a
		// moment before the context notices.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		return fmt.Errorf("mail: smtp %s %s: %w (%w)", s.addr, stage, cerr, err)
	}
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 && reply.Code < 600 {
		switch stage {
		case "MAIL FROM", "RCPT TO", "DATA":
			return permanent(fmt.Errorf("smtp %s %s: %w", s.addr, stage, err))
		}
	}
	return fmt.Errorf("mail: smtp %s %s: %w", s.addr, stage, err)
}

// isLoopback reports whether host names this machine, the one place where
// AUTH over plain TCP exposes nothing (a local Postfix or a test server).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
