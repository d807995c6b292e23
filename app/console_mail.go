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

var _ access.ResetMailer = inviteMailer{}

// StaffPasswordReset renders and queues a staff reset link, in the
// console's own look: staff belong to no one tenant. The link is built
// from the configured console host, never from a request's Host header.
func (m inviteMailer) StaffPasswordReset(ctx context.Context, rm access.ResetMail) error {
	cfg := m.s.cfg
	site := cfg.PublicURL("console." + cfg.BaseDomain)
	b := email.Brand{Name: "Gatehouse console", PrimaryColor: "#4338ca", ButtonTextColor: "#ffffff", SiteURL: site}
	link := site + "/login/reset?token=" + url.QueryEscape(rm.Token)
	minutes := int(rm.Expires.Minutes())
	msg, err := mail.Render(ctx, mail.Envelope{From: cfg.MailFrom, To: rm.To, Subject: "Reset your Gatehouse console password"},
		email.ResetHTML(b, nil, link, minutes), email.ResetText(b, nil, link, minutes))
	if err != nil {
		return err
	}
	return m.s.queue.EnqueueMail(ctx, msg)
}

// staffRecovery is the console's forgotten-password flow, for the sign-in
// page and for the worker that mails the links. staff may be a Service
// without an enforcer: the flow grants no roles.
func (s *services) staffRecovery(staff *access.Service) *access.Recovery {
	if staff == nil {
		staff = access.NewService(s.db.Gorm, nil, s.hasher, s.policy, nil, s.audit)
	}
	return access.NewRecovery(staff, s.tokens, s.sessions, s.queue, s.limiter, inviteMailer{s})
}
