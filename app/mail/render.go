package mail

import (
	"context"
	"fmt"
	"html"
	"strings"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/views/email"
)

// Envelope is who a message is from and to, and which tenant it belongs to.
// It is a struct so that a caller cannot pass From and To the wrong way round
// or forget the tenant the job payload must carry.
type Envelope struct {
	TenantID uuid.UUID // uuid.Nil for platform mail (staff, operators)
	From     string
	To       string
	Subject  string
}

// Render renders a message's HTML and text components into a SendMail ready
// to enqueue. Rendering happens at enqueue time, so the worker needs no
// templates and a retry sends the same bytes. The addresses and subject are
// checked here, as Build will check them, so a bad address is reported to the
// caller as apperr.Invalid instead of failing later in the worker.
func Render(ctx context.Context, env Envelope, htmlPart, textPart templ.Component) (jobs.SendMail, error) {
	if _, err := parseMailbox("from", env.From); err != nil {
		return jobs.SendMail{}, err
	}
	if _, err := parseMailbox("to", env.To); err != nil {
		return jobs.SendMail{}, err
	}
	if hasLineBreak(env.Subject) {
		return jobs.SendMail{}, apperr.Field("subject", "contains a line break or NUL; refusing header injection")
	}
	h, err := RenderHTML(ctx, htmlPart)
	if err != nil {
		return jobs.SendMail{}, err
	}
	t, err := RenderText(ctx, textPart)
	if err != nil {
		return jobs.SendMail{}, err
	}
	return jobs.SendMail{TenantID: env.TenantID, From: env.From, To: env.To, Subject: env.Subject, Text: t, HTML: h}, nil
}

// RenderHTML renders an HTML mail component to a string.
func RenderHTML(ctx context.Context, c templ.Component) (string, error) {
	var b strings.Builder
	if err := c.Render(ctx, &b); err != nil {
		return "", fmt.Errorf("mail: render html: %w", err)
	}
	return b.String(), nil
}

// RenderText renders a text/plain component. templ escapes for HTML, so the
// output is unescaped again ("Tom &amp; Jerry" becomes "Tom & Jerry"): text
// parts are never interpreted as HTML, and entities would show literally.
// templ also folds a template's newlines into spaces, so text components mark
// line breaks explicitly ({ nl }, { para } in views/email); RenderText then
// trims the spaces templ leaves at the start and end of each line, and ends
// the text with exactly one newline.
func RenderText(ctx context.Context, c templ.Component) (string, error) {
	var b strings.Builder
	if err := c.Render(ctx, &b); err != nil {
		return "", fmt.Errorf("mail: render text: %w", err)
	}
	lines := strings.Split(html.UnescapeString(b.String()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n")) + "\n", nil
}

// TestMessage builds the message `gatehouse mail test --to E` sends to check
// the mail settings end to end, in the brand b. TenantID is left as uuid.Nil
// (platform mail); a caller testing a tenant's branding sets it.
func TestMessage(ctx context.Context, b email.Brand, from, to string) (jobs.SendMail, error) {
	subject := "Gatehouse test message"
	if b.Name != "" {
		subject += " for " + b.Name
	}
	return Render(ctx, Envelope{From: from, To: to, Subject: subject}, email.TestHTML(b), email.TestText(b))
}
