// Package mailtest runs an in-process SMTP server that captures what it is
// sent, so any test in Gatehouse can go through real SMTP (AUTH, STARTTLS,
// MIME) and then read the mail a flow produced: the reset link, the
// verification code. It imports nothing from gatehouse, so every package can
// use it without an import cycle.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The fixed credentials the server accepts with AUTH PLAIN. They are
// constants because they guard nothing but a test's loopback port.
const (
	User     = "gatehouse"
	Password = "mailtest-password"
)

// Message is one captured message. From and To are the SMTP envelope (MAIL
// FROM and RCPT TO), which is where the mail really went, whatever its
// headers say. Subject is RFC 2047-decoded; Text and HTML are the decoded
// text/plain and text/html parts with line endings turned into "\n", so tests
// can compare and search them directly. Raw is the message as received.
type Message struct {
	From    string
	To      []string
	Subject string
	Text    string
	HTML    string
	Header  mail.Header
	Raw     []byte
	TLS     bool // whether it arrived over TLS (STARTTLS or implicit)
}

// Option configures Start.
type Option func(*config)

type config struct {
	startTLS   bool
	tls        bool
	noAuth     bool
	rcptReject int
	holdTo     string
	holdFor    time.Duration
	held       chan<- struct{}
	holdOnce   sync.Once
}

// WithSTARTTLS makes the server offer STARTTLS with a fresh self-signed
// certificate for 127.0.0.1 and localhost (trust it through CertPool), and
// accept AUTH only after it, as a real submission server does. Use it to
// prove a client upgrades before it sends a password.
func WithSTARTTLS() Option { return func(c *config) { c.startTLS = true } }

// WithImplicitTLS makes the server speak TLS from the first byte, as on
// port 465, with the same kind of certificate as WithSTARTTLS; URL then
// starts with smtps://.
func WithImplicitTLS() Option { return func(c *config) { c.tls = true } }

// WithoutAuth lets clients send mail without AUTH, for testing a relay URL
// that has no credentials. By default MAIL FROM is refused until the client
// has authenticated, which proves that it does.
func WithoutAuth() Option { return func(c *config) { c.noAuth = true } }

// RejectRcpt makes the server answer every RCPT TO with code, such as 550
// (mailbox unavailable, permanent) or 451 (try again later), to test how a
// client classifies failures.
func RejectRcpt(code int) Option { return func(c *config) { c.rcptReject = code } }

// HoldFirst makes the first message to addr hang after its data has
// arrived: held is closed, the server waits d and then answers 451 (try
// again later), keeping nothing. It stands for a mail server that is slow
// while the sender dies, so a test can kill the worker mid-delivery and see
// the message arrive once from the retry.
func HoldFirst(addr string, d time.Duration, held chan<- struct{}) Option {
	return func(c *config) { c.holdTo, c.holdFor, c.held = addr, d, held }
}

// Server is a running capture server. It is safe for concurrent use.
type Server struct {
	cfg  config
	addr string
	pool *x509.CertPool

	mu       sync.Mutex
	msgs     []Message
	consumed []bool
}

// Start starts a server on 127.0.0.1 on a free port and stops it when the test
// ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{}
	for _, o := range opts {
		o(&s.cfg)
	}

	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.AllowInsecureAuth = true
	var tlsConfig *tls.Config
	if s.cfg.startTLS || s.cfg.tls {
		cert, pool, err := selfSigned()
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		srv.AllowInsecureAuth = false
		s.pool = pool
	}
	if s.cfg.startTLS {
		srv.TLSConfig = tlsConfig
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	if s.cfg.tls {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Serve may not have registered ln with srv yet; closing it here
		// as well makes sure Serve returns.
		_ = ln.Close()
		<-done
	})
	return s
}

// Addr returns the server's host:port, for building a URL of another shape.
func (s *Server) Addr() string { return s.addr }

// URL returns smtp://User:Password@127.0.0.1:PORT (smtps:// with
// WithImplicitTLS), the value a test puts in GATEHOUSE_SMTP_URL.
func (s *Server) URL() string {
	scheme := "smtp"
	if s.cfg.tls {
		scheme = "smtps"
	}
	return scheme + "://" + url.UserPassword(User, Password).String() + "@" + s.addr
}

// CertPool returns a pool holding the server's self-signed certificate, for
// the client's tls.Config RootCAs; it is nil unless WithSTARTTLS or
// WithImplicitTLS was given.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Messages returns every message captured so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// WaitFor returns the oldest message to the address to (compared without
// regard to case) that an earlier WaitFor has not returned, waiting up to
// timeout for it to arrive; mail is usually sent by a background job. Calling
// it twice for the same address returns the first and then the second
// message. It fails the test on timeout.
func (s *Server) WaitFor(t testing.TB, to string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m, ok := s.take(to); ok {
			return m
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var seen []string
	for _, m := range s.Messages() {
		seen = append(seen, m.To...)
	}
	t.Fatalf("mailtest: no new message to %s within %v (recipients so far: %v)", to, timeout, seen)
	return Message{}
}

func (s *Server) take(to string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.msgs {
		if s.consumed[i] {
			continue
		}
		for _, rcpt := range m.To {
			if strings.EqualFold(rcpt, to) {
				s.consumed[i] = true
				return m, true
			}
		}
	}
	return Message{}, false
}

func (s *Server) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	s.consumed = append(s.consumed, false)
}

// session is one SMTP connection's state.
type session struct {
	srv    *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		userOK := subtle.ConstantTimeCompare([]byte(username), []byte(User)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(password), []byte(Password)) == 1
		if (identity != "" && identity != username) || !userOK || !passOK {
			return smtp.ErrAuthFailed
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if !se.authed && !se.srv.cfg.noAuth {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code := se.srv.cfg.rcptReject; code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: "mailtest: recipient rejected"}
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		// A message that does not parse is a bug in the sender; refusing it
		// makes the sending test fail where the bug is.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: malformed message: " + err.Error()}
	}
	if cfg := &se.srv.cfg; cfg.holdTo != "" && slices.ContainsFunc(se.to, func(to string) bool { return strings.EqualFold(to, cfg.holdTo) }) {
		hold := false
		cfg.holdOnce.Do(func() { hold = true })
		if hold {
			close(cfg.held)
			time.Sleep(cfg.holdFor)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailtest: held, try again"}
		}
	}
	m.From = se.from
	m.To = slices.Clone(se.to)
	_, m.TLS = se.conn.TLSConnectionState()
	se.srv.add(m)
	return nil
}

func (se *session) Reset() {
	se.from = ""
	se.to = nil
}

func (se *session) Logout() error { return nil }

// parse reads the headers, decodes the subject and collects the first
// text/plain and text/html parts, descending into nested multiparts.
func parse(raw []byte) (Message, error) {
	mm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, fmt.Errorf("headers: %w", err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(mm.Header.Get("Subject"))
	if err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	m := Message{Subject: subject, Header: mm.Header, Raw: raw}
	if err := walk(textproto.MIMEHeader(mm.Header), mm.Body, &m, 0); err != nil {
		return Message{}, err
	}
	return m, nil
}

func walk(h textproto.MIMEHeader, body io.Reader, m *Message, depth int) error {
	if depth > 10 {
		return errors.New("multipart nested too deeply")
	}
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextPart decodes quoted-printable parts itself.
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			if err := walk(p.Header, p, m, depth+1); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && m.Text == "":
		m.Text = text
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = text
	}
	return nil
}

// selfSigned makes a throwaway certificate for the loopback names and a pool
// that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
