package mail

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"gatehouse/jobs"
)

// outboxTimeLayout is the time prefix of outbox file names. It is fixed width
// and UTC, so names sort by time and List can sort by name alone.
const outboxTimeLayout = "20060102T150405.000000000Z"

// maxNameTo bounds the recipient part of a file name, keeping names well under
// the 255-byte limit of common filesystems.
const maxNameTo = 100

// Outbox is the development deliverer: each message becomes one .eml file in
// a directory, which the console lists and any mail client opens, so sign-up
// and reset flows can be tried without a mail server.
type Outbox struct {
	dir string
	now func() time.Time
}

var _ jobs.MailDeliverer = (*Outbox)(nil)

// OutboxEntry describes one stored message for the console's list, read from
// the file name and the message's own headers.
type OutboxEntry struct {
	Name    string    // file name, to pass to Read
	To      string    // recipient address
	Subject string    // decoded subject
	Time    time.Time // when the message was written, UTC
}

// NewOutbox returns an outbox writing to dir. The directory is created (mode
// 0700, as the mails hold reset links) on the first delivery, so constructing
// one never fails.
func NewOutbox(dir string) *Outbox {
	return &Outbox{dir: dir, now: time.Now}
}

// DeliverMail writes m as <dir>/<time>-<to>.eml with mode 0600. The file is
// written under a temporary name and then linked into place, so a reader
// never sees half a message and two messages never overwrite each other. A
// message that Build refuses is a permanent error (ErrPermanent and
// jobs.Permanent).
func (o *Outbox) DeliverMail(ctx context.Context, m jobs.SendMail) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	from, err := parseMailbox("from", m.From)
	if err != nil {
		return permanent(err)
	}
	to, err := parseMailbox("to", m.To)
	if err != nil {
		return permanent(err)
	}
	now := o.now().UTC()
	msg, err := Build(m, now, MessageIDFor(m, addressDomain(from)))
	if err != nil {
		return permanent(err)
	}

	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	// os.Root confines every name below to the directory, whatever it holds.
	root, err := os.OpenRoot(o.dir)
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	defer root.Close()

	tmp := ".tmp-" + strings.ToLower(rand.Text()) + ".eml"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	_, werr := f.Write(msg)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("mail: outbox: write: %w", err)
	}
	defer func() { _ = root.Remove(tmp) }()

	rcpt := sanitizeForName(to.Address)
	for range 1000 {
		name := now.Format(outboxTimeLayout) + "-" + rcpt + ".eml"
		err := root.Link(tmp, name)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			// No hard links on this filesystem: rename is still atomic,
			// just not safe against a same-nanosecond twin.
			if err := root.Rename(tmp, name); err != nil {
				return fmt.Errorf("mail: outbox: %w", err)
			}
			return nil
		}
		// Same recipient in the same nanosecond: take the next one.
		now = now.Add(time.Nanosecond)
	}
	return fmt.Errorf("mail: outbox: no free file name for %s", rcpt)
}

// List returns up to limit stored messages, newest first; limit <= 0 means
// all. A missing directory is an empty outbox, not an error. A file whose
// headers cannot be read is still listed, with To and Subject empty, so one
// bad file does not hide the others.
func (o *Outbox) List(limit int) ([]OutboxEntry, error) {
	dirents, err := os.ReadDir(o.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	var names []string
	for _, d := range dirents {
		if d.Type().IsRegular() && validOutboxName(d.Name()) {
			names = append(names, d.Name())
		}
	}
	slices.Sort(names)
	slices.Reverse(names)
	if limit > 0 && len(names) > limit {
		names = names[:limit]
	}

	root, err := os.OpenRoot(o.dir)
	if err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	defer root.Close()
	entries := make([]OutboxEntry, 0, len(names))
	for _, name := range names {
		e := OutboxEntry{Name: name}
		e.Time, _ = time.Parse(outboxTimeLayout, name[:len(outboxTimeLayout)])
		e.To, e.Subject = readSummary(root, name)
		entries = append(entries, e)
	}
	return entries, nil
}

// Read returns the raw message stored under name, a name that List returned.
// Anything that is not such a name (a path, "..", a hidden temp file) is
// refused with an error that matches fs.ErrNotExist, so the console can
// answer 404 for both without a second check.
func (o *Outbox) Read(name string) ([]byte, error) {
	if !validOutboxName(name) {
		return nil, fmt.Errorf("mail: outbox: %q is not an outbox message name: %w", name, fs.ErrNotExist)
	}
	root, err := os.OpenRoot(o.dir)
	if err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	defer root.Close()
	b, err := root.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	return b, nil
}

// readSummary reads the To and Subject headers of one stored message.
func readSummary(root *os.Root, name string) (to, subject string) {
	f, err := root.Open(name)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	msg, err := mail.ReadMessage(bufio.NewReader(f))
	if err != nil {
		return "", ""
	}
	to = msg.Header.Get("To")
	if a, err := mail.ParseAddress(to); err == nil {
		to = a.Address
	}
	dec := mime.WordDecoder{}
	subject = msg.Header.Get("Subject")
	if s, err := dec.DecodeHeader(subject); err == nil {
		subject = s
	}
	return to, subject
}

// sanitizeForName maps an address onto [a-z0-9@._-], so that whatever a
// hostile sign-up puts in its address, the file name has no path separator
// and cannot leave the outbox.
func sanitizeForName(addr string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(addr) {
		if b.Len() >= maxNameTo {
			break
		}
		if isNameChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

func isNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '@' || r == '.' || r == '_' || r == '-'
}

// validOutboxName reports whether name has the shape DeliverMail gives files:
// a time prefix, a dash, sanitised characters and ".eml". It excludes
// separators, "..", and the hidden temporary files.
func validOutboxName(name string) bool {
	n := len(outboxTimeLayout)
	if len(name) < n+len("-x.eml") || len(name) > n+1+maxNameTo+len(".eml") || !strings.HasSuffix(name, ".eml") || name[n] != '-' {
		return false
	}
	if _, err := time.Parse(outboxTimeLayout, name[:n]); err != nil {
		return false
	}
	for _, r := range name[n+1 : len(name)-len(".eml")] {
		if !isNameChar(r) {
			return false
		}
	}
	return true
}
