package console

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
	views "gatehouse/views/console"
)

// OutboxList is GET /outbox (dev only): the mails the dev server wrote.
func (h *Handlers) OutboxList(c *gin.Context) {
	if h.d.Outbox == nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return
	}
	entries, err := h.d.Outbox.List(200)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v := views.OutboxPage{}
	for _, e := range entries {
		v.Entries = append(v.Entries, views.OutboxRow{Name: e.Name, To: e.To, Subject: e.Subject, Time: e.Time.Format("2006-01-02 15:04:05")})
	}
	v.Chrome = h.chrome(c, "Dev outbox", views.Crumb{Label: "Console", Href: "/"}, views.Crumb{Label: "Dev outbox"})
	h.d.Render.HTML(c, http.StatusOK, views.Outbox(v))
}

// parsedMail is a stored message, decoded for showing.
type parsedMail struct {
	From, To, Subject, Date string
	Text, HTML              string
}

// readMail reads one outbox message; a name that is not one is NotFound.
func (h *Handlers) readMail(c *gin.Context) (parsedMail, bool) {
	if h.d.Outbox == nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return parsedMail{}, false
	}
	raw, err := h.d.Outbox.Read(c.Param("name"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = apperr.New(apperr.NotFound, "no such message")
		}
		h.d.Render.Error(c, err)
		return parsedMail{}, false
	}
	m, err := parseMail(raw)
	if err != nil {
		h.d.Render.Error(c, apperr.Wrap(err, "parse outbox message"))
		return parsedMail{}, false
	}
	return m, true
}

// OutboxShow is GET /outbox/:name.
func (h *Handlers) OutboxShow(c *gin.Context) {
	m, ok := h.readMail(c)
	if !ok {
		return
	}
	v := views.OutboxMessagePage{Name: c.Param("name"), From: m.From, To: m.To, Subject: m.Subject, Date: m.Date, Text: m.Text, HasHTML: m.HTML != ""}
	v.Chrome = h.chrome(c, m.Subject, views.Crumb{Label: "Console", Href: "/"}, views.Crumb{Label: "Dev outbox", Href: "/outbox"}, views.Crumb{Label: m.Subject})
	h.d.Render.HTML(c, http.StatusOK, views.OutboxMessage(v))
}

// OutboxHTML is GET /outbox/:name/html: the mail's HTML part, rendered in
// a sandbox. Mail HTML needs inline styles, so this response (and only
// this one) allows them; it runs no script, loads nothing, and may be
// framed only by the console.
func (h *Handlers) OutboxHTML(c *gin.Context) {
	m, ok := h.readMail(c)
	if !ok {
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'")
	c.Header("X-Frame-Options", "SAMEORIGIN")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(m.HTML))
}

// parseMail decodes an RFC 5322 message as app/mail builds them: one
// text/plain or text/html part, or both in multipart/alternative, quoted-
// printable or not.
func parseMail(raw []byte) (parsedMail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return parsedMail{}, err
	}
	dec := mime.WordDecoder{}
	header := func(k string) string {
		v := msg.Header.Get(k)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	m := parsedMail{From: header("From"), To: header("To"), Subject: header("Subject"), Date: header("Date")}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return m, err
			}
			body, err := io.ReadAll(io.LimitReader(p, 4<<20))
			if err != nil {
				return m, err
			}
			pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			switch pt {
			case "text/plain":
				m.Text = string(body)
			case "text/html":
				m.HTML = string(body)
			}
		}
		return m, nil
	}
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	body, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return m, err
	}
	if mediaType == "text/html" {
		m.HTML = string(body)
	} else {
		m.Text = string(body)
	}
	return m, nil
}
