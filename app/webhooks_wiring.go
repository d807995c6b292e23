package app

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/app/mail"
	"gatehouse/app/webhooks"
	"gatehouse/jobs"
	"gatehouse/views/email"
)

// webhookNotices mails a tenant's owners and admins when one of its
// webhook endpoints is disabled for failing. It is webhooks.Notifier; the
// mail goes through the queue like every other.
type webhookNotices struct {
	s    *services
	once sync.Once
	rbac *access.RBAC
	err  error
}

var _ webhooks.Notifier = (*webhookNotices)(nil)

// EndpointDisabled queues one notice per owner and admin of the tenant.
func (n *webhookNotices) EndpointDisabled(ctx context.Context, tenantID uuid.UUID, endpointURL, reason string) error {
	// The worker builds no console, so the role lookup is made on first use.
	n.once.Do(func() { n.rbac, n.err = access.NewRBAC(ctx, n.s.db.Gorm, policyClock(n.s.redis), 0) })
	if n.err != nil {
		return n.err
	}
	cfg := n.s.cfg
	t, err := n.s.tenants.ByID(ctx, tenantID)
	if err != nil {
		return err
	}
	members, err := access.NewService(n.s.db.Gorm, n.rbac, n.s.hasher, n.s.policy, nil, n.s.audit).Members(ctx, tenantID)
	if err != nil {
		return err
	}
	b := mail.BrandOf(t, cfg.PublicURL(t.Host(cfg.BaseDomain)))
	link := cfg.PublicURL("console."+cfg.BaseDomain) + "/t/" + t.Slug + "/webhooks"
	for _, m := range members {
		if m.Role != access.Owner && m.Role != access.Admin || m.Status != access.Active {
			continue
		}
		msg, err := mail.Render(ctx, mail.Envelope{TenantID: t.ID, From: cfg.MailFrom, To: m.Email, Subject: "A webhook endpoint of " + b.Name + " was disabled"},
			email.WebhookDisabledHTML(b, endpointURL, reason, link), email.WebhookDisabledText(b, endpointURL, reason, link))
		if err != nil {
			return err
		}
		if err := n.s.queue.EnqueueMail(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

// relay is the outbox relay every node runs (serve and worker).
func (s *services) relay() *jobs.Relay { return s.relayer }
