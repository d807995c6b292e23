package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gatehouse/apperr"
	"gatehouse/jobs"
)

// parsed is a message read back with the standard library alone, so these
// tests do not trust the code they check.
type parsed struct {
	header mail.Header
	parts  map[string]string // media type → decoded body, CRLF kept
	params map[string]map[string]string
}

func mustParse(t *testing.T, raw []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, raw)
	}
	p := parsed{header: m.Header, parts: map[string]string{}, params: map[string]map[string]string{}}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type = %q, want multipart", mt)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		// NextRawPart leaves the transfer encoding alone, so the test can
		// check the header and decode it itself.
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextRawPart: %v", err)
		}
		if cte := part.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("part Content-Transfer-Encoding = %q, want quoted-printable", cte)
		}
		pmt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(part))
		if err != nil {
			t.Fatalf("decode %s: %v", pmt, err)
		}
		p.parts[pmt] = string(b)
		p.params[pmt] = pparams
	}
	return p
}

func sample() jobs.SendMail {
	return jobs.SendMail{
		From:    "Acme Support <support@acme.test>",
		To:      "alice@example.com",
		Subject: "Reset your password",
		Text:    "Hello & welcome.\nThis line is long enough that quoted-printable has to wrap it somewhere before the seventy-sixth column.\n",
		HTML:    "<p>Hello &amp; welcome. Ünïcödé ✓</p>\n",
	}
}

var pinned = time.Date(2026, 11, 28, 16, 2, 3, 0, time.UTC)

func TestBuild(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		raw, err := Build(sample(), pinned, "<abc@acme.test>")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\r")) {
			t.Fatalf("message has a bare CR or LF:\n%q", raw)
		}
		for _, line := range strings.Split(string(raw), "\r\n") {
			if len(line) > 78 {
				t.Errorf("line longer than 78 characters: %q", line)
			}
			for _, r := range line {
				if r > 127 {
					t.Fatalf("message is not 7-bit: %q", line)
				}
			}
		}
		p := mustParse(t, raw)
		for name, want := range map[string]string{
			"From":         `"Acme Support" <support@acme.test>`,
			"To":           "<alice@example.com>",
			"Subject":      "Reset your password",
			"Message-Id":   "<abc@acme.test>",
			"Mime-Version": "1.0",
		} {
			if got := p.header.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if d, err := p.header.Date(); err != nil || !d.Equal(pinned) {
			t.Errorf("Date = %v, %v; want %v", d, err, pinned)
		}
		if got := p.header.Get("Content-Type"); !strings.HasPrefix(got, "multipart/alternative;") {
			t.Errorf("Content-Type = %q", got)
		}
		if len(p.parts) != 2 {
			t.Fatalf("got parts %v, want text/plain and text/html", p.parts)
		}
		for mt, want := range map[string]string{"text/plain": sample().Text, "text/html": sample().HTML} {
			if got := strings.ReplaceAll(p.parts[mt], "\r\n", "\n"); got != want {
				t.Errorf("%s body = %q, want %q", mt, got, want)
			}
			if cs := p.params[mt]["charset"]; cs != "utf-8" {
				t.Errorf("%s charset = %q", mt, cs)
			}
		}
	})

	t.Run("non-ASCII subject and name", func(t *testing.T) {
		m := sample()
		m.From = "Café Zoë <hello@acme.test>"
		for _, subject := range []string{
			"Réinitialisez votre mot de passe 🔑",
			strings.Repeat("Passwort zurücksetzen, ", 12),
			strings.Repeat("a long ascii subject ", 10),
			"=?utf-8?q?not_an_encoded_word?= but text",
		} {
			m.Subject = subject
			raw, err := Build(m, pinned, "<abc@acme.test>")
			if err != nil {
				t.Fatal(err)
			}
			p := mustParse(t, raw)
			var dec mime.WordDecoder
			got, err := dec.DecodeHeader(p.header.Get("Subject"))
			if err != nil {
				t.Fatal(err)
			}
			if subject == "=?utf-8?q?not_an_encoded_word?= but text" {
				continue // only checked for not breaking the message
			}
			if strings.TrimSpace(got) != strings.TrimSpace(subject) {
				t.Errorf("subject = %q, want %q", got, subject)
			}
			from, err := p.header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Name != "Café Zoë" || from[0].Address != "hello@acme.test" {
				t.Errorf("From = %v, %v", from, err)
			}
		}
	})

	t.Run("text only", func(t *testing.T) {
		m := sample()
		m.HTML = ""
		raw, err := Build(m, pinned, "<abc@acme.test>")
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		b, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if got := strings.ReplaceAll(string(b), "\r\n", "\n"); got != m.Text {
			t.Errorf("body = %q", got)
		}
	})

	refused := []struct {
		name, field string
		edit        func(*jobs.SendMail)
		id          string
	}{
		{"CRLF in subject", "subject", func(m *jobs.SendMail) { m.Subject = "Hi\r\nBcc: eve@evil.test" }, ""},
		{"LF in subject", "subject", func(m *jobs.SendMail) { m.Subject = "Hi\nBcc: eve@evil.test" }, ""},
		{"CR in subject", "subject", func(m *jobs.SendMail) { m.Subject = "Hi\rBcc: eve@evil.test" }, ""},
		{"NUL in subject", "subject", func(m *jobs.SendMail) { m.Subject = "Hi\x00" }, ""},
		{"CRLF in to", "to", func(m *jobs.SendMail) { m.To = "alice@example.com\r\nBcc: eve@evil.test" }, ""},
		{"LF in display name", "from", func(m *jobs.SendMail) { m.From = "Acme\n <support@acme.test>" }, ""},
		{"two recipients", "to", func(m *jobs.SendMail) { m.To = "alice@example.com, eve@evil.test" }, ""},
		{"not an address", "to", func(m *jobs.SendMail) { m.To = "alice" }, ""},
		{"empty to", "to", func(m *jobs.SendMail) { m.To = "" }, ""},
		{"empty from", "from", func(m *jobs.SendMail) { m.From = " " }, ""},
		{"non-ASCII address", "to", func(m *jobs.SendMail) { m.To = "jürgen@example.de" }, ""},
		{"no body", "body", func(m *jobs.SendMail) { m.Text, m.HTML = "", "" }, ""},
		{"CRLF in message id", "message_id", func(*jobs.SendMail) {}, "<a@b>\r\nBcc: eve@evil.test"},
		{"message id without domain", "message_id", func(*jobs.SendMail) {}, "<abc>"},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			m := sample()
			tc.edit(&m)
			id := "<abc@acme.test>"
			if tc.id != "" {
				id = tc.id
			}
			raw, err := Build(m, pinned, id)
			if err == nil {
				t.Fatalf("Build accepted it:\n%s", raw)
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid || e.Field != tc.field {
				t.Errorf("err = %#v, want apperr.Invalid on %q", err, tc.field)
			}
		})
	}
}

func TestNewMessageID(t *testing.T) {
	a, b := NewMessageID("acme.test"), NewMessageID("acme.test")
	if a == b {
		t.Fatalf("two ids are equal: %s", a)
	}
	if !strings.HasPrefix(a, "<") || !strings.HasSuffix(a, "@acme.test>") || len(a) < len("<@acme.test>")+26 {
		t.Errorf("id = %q", a)
	}
	for _, domain := range []string{"", "evil.test>\r\nBcc: x", "a b"} {
		if id := NewMessageID(domain); !strings.HasSuffix(id, "@gatehouse.localhost>") {
			t.Errorf("NewMessageID(%q) = %q, want the fallback domain", domain, id)
		}
	}
	if _, err := Build(sample(), pinned, a); err != nil {
		t.Errorf("Build refuses NewMessageID's output: %v", err)
	}
}

// FuzzBuild checks that whatever the subject and recipient, Build either
// refuses or produces a message whose headers say exactly what was asked:
// no input adds a header.
func FuzzBuild(f *testing.F) {
	f.Add("Reset your password", "alice@example.com", "hi")
	f.Add("Hi\r\nBcc: eve@evil.test", "alice@example.com", "x")
	f.Add("Ünïcödé "+strings.Repeat("x", 200), `"Alice \" A" <alice@example.com>`, "line\r\n.\r\n")
	f.Add("=?utf-8?b?QmNjOiB4?=", "<alice@example.com>", "")
	f.Fuzz(func(t *testing.T, subject, to, text string) {
		m := jobs.SendMail{From: "support@acme.test", To: to, Subject: subject, Text: text + "x", HTML: "<p>x</p>"}
		raw, err := Build(m, pinned, "<abc@acme.test>")
		if err != nil {
			return
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("unparseable output: %v\n%q", err, raw)
		}
		for k := range msg.Header {
			switch k {
			case "From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type":
			default:
				t.Fatalf("unexpected header %q in\n%q", k, raw)
			}
		}
		want, _ := mail.ParseAddress(to)
		got, err := mail.ParseAddress(msg.Header.Get("To"))
		if err != nil || got.Address != want.Address {
			t.Fatalf("To = %v (%v), want %s", got, err, want.Address)
		}
		if utf8.ValidString(subject) {
			var dec mime.WordDecoder
			if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil && !strings.Contains(subject, "=?") && strings.Join(strings.Fields(s), " ") != strings.Join(strings.Fields(subject), " ") {
				t.Fatalf("subject %q came back as %q", subject, s)
			}
		}
	})
}
