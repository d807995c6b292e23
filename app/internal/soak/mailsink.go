package main

import (
	"bytes"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// mailSink is the SMTP server the workers deliver to. It keeps only what
// the invariants need: recipient, subject, Message-ID and when it
// arrived.
type mailSink struct {
	srv *smtp.Server
	ln  net.Listener

	mu   sync.Mutex
	msgs []sunkMail
}

type sunkMail struct {
	to, subject, messageID string
	at                     time.Time
}

func startMailSink() (*mailSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &mailSink{ln: ln}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 4 << 20
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *mailSink) url() string { return "smtp://" + s.ln.Addr().String() }

func (s *mailSink) close() { _ = s.srv.Close() }

// count returns how many distinct mails went to addr whose subject
// starts with prefix, and how many more arrived again under the
// Message-ID of one already counted. Gatehouse sends a mail twice under
// one Message-ID (its task's) only when a worker dies between SMTP's
// acceptance and the task's mark, the window jobs.SendOnce documents; a
// receiving system drops such a copy. Any other double is two mails.
func (s *mailSink) count(addr, prefix string) (distinct, again int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, m := range s.msgs {
		if m.to != addr || !strings.HasPrefix(m.subject, prefix) {
			continue
		}
		if m.messageID != "" && seen[m.messageID] {
			again++
			continue
		}
		seen[m.messageID] = true
		distinct++
	}
	return distinct, again
}

// to returns every mail sent to addr.
func (s *mailSink) to(addr string) []sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sunkMail
	for _, m := range s.msgs {
		if m.to == addr {
			out = append(out, m)
		}
	}
	return out
}

func (s *mailSink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// NewSession is go-smtp's Backend.
func (s *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }

type sinkSession struct {
	sink *mailSink
	to   []string
}

func (se *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }

func (se *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.to = append(se.to, strings.ToLower(to))
	return nil
}

func (se *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	subject, messageID := "", ""
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		messageID = m.Header.Get("Message-ID")
	}
	now := time.Now()
	se.sink.mu.Lock()
	for _, to := range se.to {
		se.sink.msgs = append(se.sink.msgs, sunkMail{to: to, subject: subject, messageID: messageID, at: now})
	}
	se.sink.mu.Unlock()
	return nil
}

func (se *sinkSession) Reset()        { se.to = nil }
func (se *sinkSession) Logout() error { return nil }
