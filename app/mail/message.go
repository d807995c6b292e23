// Package mail turns a jobs.SendMail payload into an RFC 5322 message and
// delivers it: over SMTP in production, or into a directory of .eml files in
// development so nobody needs a mail server to try a password reset. Both
// deliverers report errors that retrying cannot fix as ErrPermanent and
// jobs.Permanent, so the worker stops retrying them.
package mail

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"gatehouse/apperr"
	"gatehouse/jobs"
)

// ErrPermanent marks a delivery failure that will fail the same way on every
// retry: a malformed message, or a 5xx reply to the mail transaction. Such
// errors are also wrapped with jobs.Permanent, so asynq drops the message at
// once instead of retrying it for a day; ErrPermanent lets callers outside
// the worker ask the same question without knowing about asynq.
var ErrPermanent = errors.New("mail: permanent failure")

// permanent marks err with both ErrPermanent and jobs.Permanent.
func permanent(err error) error {
	return jobs.Permanent(fmt.Errorf("%w: %w", ErrPermanent, err))
}

// maxLine is where headers are folded; RFC 5322 asks for lines of at most 78
// characters.
const maxLine = 78

// Build renders m as an RFC 5322 message with CRLF line endings: a
// multipart/alternative body with a text/plain and a text/html part, both
// UTF-8 and quoted-printable so that the message is 7-bit clean on any relay.
// If m has only one of Text and HTML, the body is that single part. date and
// messageID are parameters so that a retried job can be built reproducibly
// and tests can pin them.
//
// Build refuses addresses that net/mail cannot parse and any CR, LF or NUL in
// a header value, because a line break in a subject or address taken from
// user input would let it add headers (Bcc, a second body) to the message.
// Its errors are apperr.Invalid naming the field.
func Build(m jobs.SendMail, date time.Time, messageID string) ([]byte, error) {
	from, err := parseMailbox("from", m.From)
	if err != nil {
		return nil, err
	}
	to, err := parseMailbox("to", m.To)
	if err != nil {
		return nil, err
	}
	if hasLineBreak(m.Subject) {
		return nil, apperr.Field("subject", "contains a line break or NUL; refusing header injection")
	}
	id, err := normalizeMessageID(messageID)
	if err != nil {
		return nil, err
	}
	if m.Text == "" && m.HTML == "" {
		return nil, apperr.Field("body", "the message has neither a text nor an HTML part")
	}

	var msg bytes.Buffer
	writeHeader(&msg, "From", from.String())
	writeHeader(&msg, "To", to.String())
	writeHeader(&msg, "Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	writeHeader(&msg, "Date", date.Format(time.RFC1123Z))
	writeHeader(&msg, "Message-ID", id)
	writeHeader(&msg, "MIME-Version", "1.0")

	if m.Text == "" || m.HTML == "" {
		ctype, body := "text/plain", m.Text
		if m.Text == "" {
			ctype, body = "text/html", m.HTML
		}
		writeHeader(&msg, "Content-Type", mime.FormatMediaType(ctype, map[string]string{"charset": "utf-8"}))
		writeHeader(&msg, "Content-Transfer-Encoding", "quoted-printable")
		msg.WriteString("\r\n")
		if err := writeQP(&msg, body); err != nil {
			return nil, err
		}
		return msg.Bytes(), nil
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	writeHeader(&msg, "Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	msg.WriteString("\r\n")
	// Plain text first: in multipart/alternative the last part is the
	// preferred one, and clients that can show HTML should.
	for _, p := range []struct{ ctype, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(p.ctype, map[string]string{"charset": "utf-8"})},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("mail: build %s part: %w", p.ctype, err)
		}
		if err := writeQP(pw, p.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mail: build: %w", err)
	}
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// NewMessageID returns a fresh Message-ID, angle brackets included, with 128
// random bits from crypto/rand so that ids never collide across nodes. domain
// should be the sending domain (the From address's), as RFC 5322 suggests;
// an empty or odd one is replaced by "gatehouse.localhost".
func NewMessageID(domain string) string {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if !validDomain(domain) {
		domain = "gatehouse.localhost"
	}
	return "<" + strings.ToLower(rand.Text()) + "@" + domain + ">"
}

// MessageIDFor returns the Message-ID of m: one made from the asynq task
// id the worker delivers it under, so that every attempt at the same task
// (a retry after a worker died between SMTP's acceptance and the record of
// it) carries the same id and a receiving system can drop the copy; a
// fresh one (NewMessageID) for a message sent outside a task.
func MessageIDFor(m jobs.SendMail, domain string) string {
	id := strings.ToLower(m.TaskID)
	if id == "" || len(id) > 100 || strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_')
	}) >= 0 {
		return NewMessageID(domain)
	}
	domain = strings.ToLower(strings.TrimSpace(domain))
	if !validDomain(domain) {
		domain = "gatehouse.localhost"
	}
	return "<task." + id + "@" + domain + ">"
}

// parseMailbox parses a single address and returns it ready for a header or
// an SMTP envelope, or an apperr naming field.
func parseMailbox(field, v string) (*mail.Address, error) {
	if strings.TrimSpace(v) == "" {
		return nil, apperr.Field(field, "is empty")
	}
	if hasLineBreak(v) {
		return nil, apperr.Field(field, "contains a line break or NUL; refusing header injection")
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		return nil, apperr.Field(field, "%q is not an email address: %v", v, err)
	}
	for _, r := range a.Address {
		// Non-ASCII addresses need SMTPUTF8 end to end, which we cannot
		// promise; a clear refusal beats a bounce a day later.
		if r >= 0x80 {
			return nil, apperr.Field(field, "%q: internationalised addresses are not supported", a.Address)
		}
	}
	return a, nil
}

// addressDomain returns the domain of a parsed address, for Message-IDs.
func addressDomain(a *mail.Address) string {
	if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
		return a.Address[i+1:]
	}
	return ""
}

func hasLineBreak(s string) bool {
	return strings.ContainsAny(s, "\r\n\x00")
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// normalizeMessageID accepts an id with or without angle brackets and returns
// it with them, refusing anything that could break the header.
func normalizeMessageID(id string) (string, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if inner == "" || !strings.Contains(inner, "@") || strings.ContainsAny(inner, "<>\r\n\x00 \t") {
		return "", apperr.Field("message_id", "%q is not a Message-ID like <id@domain>", id)
	}
	return "<" + inner + ">", nil
}

// writeHeader writes one header field, folded at spaces so that lines stay
// near 78 characters. Folding only ever replaces an existing space with CRLF
// plus that space, so unfolding restores the value exactly, and the space
// between two RFC 2047 encoded-words is ignored by decoders.
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	lineLen := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && lineLen+1+len(word) > maxLine && lineLen > len(name)+1 {
			b.WriteString("\r\n")
			lineLen = 0
		}
		b.WriteString(" ")
		b.WriteString(word)
		lineLen += 1 + len(word)
	}
	b.WriteString("\r\n")
}

// writeQP writes body quoted-printable encoded; the encoder turns every line
// break into CRLF and keeps lines under 76 characters.
func writeQP(w io.Writer, body string) error {
	qw := quotedprintable.NewWriter(w)
	if _, err := qw.Write([]byte(body)); err != nil {
		return fmt.Errorf("mail: encode body: %w", err)
	}
	if err := qw.Close(); err != nil {
		return fmt.Errorf("mail: encode body: %w", err)
	}
	return nil
}
