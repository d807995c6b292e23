package app

import (
	"context"
	"net/url"

	"gatehouse/app/access"
	"gatehouse/app/mail"
	"gatehouse/views/email"
)

// inviteMailer sends console invitations through the mail queue, branded
// as the tenant that invites. It is access.Mailer.
type inviteMailer struct {
	s *services
}

var _ access.Mailer = inviteMailer{}

// StaffInvited renders and queues one invitation. The link is built from
// the configured console host, never from a request's Host header.
func (m inviteMailer) StaffInvited(ctx context.Context, im access.InviteMail) error {
	cfg := m.s.cfg
	t, err := m.s.tenants.ByID(ctx, im.TenantID)
	if err != nil {
		return err
	}
	b := mail.BrandOf(t, cfg.PublicURL(t.Host(cfg.BaseDomain)))
	link := cfg.PublicURL("console."+cfg.BaseDomain) + "/invite?token=" + url.QueryEscape(im.Token)
	days := int(access.InviteTTL.Hours() / 24)
	msg, err := mail.Render(ctx, mail.Envelope{TenantID: t.ID, From: cfg.MailFrom, To: im.To, Subject: "You are invited to " + b.Name},
		email.InviteHTML(b, im.InvitedBy, im.Role.Label(), link, days),
		email.InviteText(b, im.InvitedBy, im.Role.Label(), link, days))
	if err != nil {
		return err
	}
	return m.s.queue.EnqueueMail(ctx, msg)
}
