package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/mail"
	"gatehouse/apperr"
	"gatehouse/tenants"
	"gatehouse/views/email"
)

// LinkRequired is returned when a provider's email belongs to an existing
// account that the identity is not linked to. Gatehouse never links
// silently: with a verified email the customer may confirm with the
// account's password; without one they must log in first.
type LinkRequired struct {
	Email    string
	Verified bool // the provider vouched for the address
	Provider string
}

func (e *LinkRequired) Error() string {
	return fmt.Sprintf("an account with %s exists; linking %s needs proof", e.Email, e.Provider)
}

// ErrorCode makes LinkRequired a Conflict for the error mapper.
func (e *LinkRequired) ErrorCode() apperr.Code { return apperr.Conflict }

// SocialSignIn signs in with a provider's claims: the linked customer if
// the identity is known (its claims refreshed), else a new customer made
// from the claims, else LinkRequired when the email is already registered.
func (s *Service) SocialSignIn(ctx context.Context, t *tenants.Tenant, cl Claims, r Request) (*Customer, error) {
	store := s.store.For(t.ID)
	owner, err := store.IdentityOwner(ctx, cl)
	switch {
	case err == nil:
		c, err := store.ByID(ctx, owner)
		if err != nil {
			return nil, err
		}
		if c.Status != StatusActive {
			return nil, errDisabled
		}
		if err := store.UpdateIdentity(ctx, cl); err != nil {
			return nil, err
		}
		if err := store.RecordLogin(ctx, c.ID, s.now(), ""); err != nil {
			return nil, err
		}
		s.record(ctx, t, "customer:"+c.ID.String(), "customer.login", c.Email, r, map[string]any{"method": cl.Provider})
		return c, nil
	case !apperr.Is(err, apperr.NotFound):
		return nil, err
	}

	email, err := NormalizeEmail(cl.Email)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "%s did not share a usable email address with us, so we cannot sign you in this way.", MethodName(t, cl.Provider))
	}
	cl.Email = email
	if _, err := store.ByEmail(ctx, email); err == nil {
		return nil, &LinkRequired{Email: email, Verified: cl.EmailVerified, Provider: cl.Provider}
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}

	profile := map[string]any{}
	for _, f := range t.Fields {
		raw, ok := cl.Profile[f.Key]
		if !ok {
			continue
		}
		if v, err := f.Parse(raw); err == nil && v != nil {
			profile[f.Key] = v
		}
	}
	now := s.now()
	c := &Customer{
		ID: uuid.Must(uuid.NewV7()), Email: email, EmailVerified: cl.EmailVerified, Status: StatusActive,
		Profile: profile, CreatedAt: now, UpdatedAt: now, LastLoginAt: &now,
	}
	if err := store.CreateWithIdentity(ctx, c, cl); err != nil {
		return nil, err
	}
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.signup", c.Email, r, map[string]any{"method": cl.Provider})
	return c, nil
}

// ConfirmLink links a provider to the existing account with the provider's
// (verified) email, once the customer proves the account is theirs with its
// password. Wrong passwords are throttled like any login.
func (s *Service) ConfirmLink(ctx context.Context, t *tenants.Tenant, cl Claims, password string, r Request) (*Customer, error) {
	if !cl.EmailVerified {
		return nil, apperr.New(apperr.Forbidden, "%s did not confirm this email address, so it cannot be linked this way.", MethodName(t, cl.Provider))
	}
	c, err := s.Login(ctx, t, cl.Email, password, r)
	if err != nil {
		return nil, err
	}
	if err := s.LinkIdentity(ctx, t, c, cl, r); err != nil {
		return nil, err
	}
	return c, nil
}

// LinkIdentity links a provider to a signed-in customer.
func (s *Service) LinkIdentity(ctx context.Context, t *tenants.Tenant, c *Customer, cl Claims, r Request) error {
	if err := s.store.For(t.ID).AddIdentity(ctx, c.ID, cl); err != nil {
		return err
	}
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.identity.linked", c.Email, r, map[string]any{"provider": cl.Provider})
	return nil
}

// UnlinkIdentity removes a provider from a customer, unless it is the last
// way they can sign in.
func (s *Service) UnlinkIdentity(ctx context.Context, t *tenants.Tenant, c *Customer, provider, actor string, r Request) error {
	store := s.store.For(t.ID)
	ids, err := store.Identities(ctx, c.ID)
	if err != nil {
		return err
	}
	if !c.HasPassword() && len(ids) <= 1 {
		return apperr.New(apperr.Conflict, "This is the only way to sign in to this account. Add a password or link another provider first.")
	}
	if err := store.RemoveIdentity(ctx, c.ID, provider); err != nil {
		return err
	}
	if actor == "" {
		actor = "customer:" + c.ID.String()
	}
	s.record(ctx, t, actor, "customer.identity.unlinked", c.Email, r, map[string]any{"provider": provider})
	return nil
}

// Stranded counts the tenant's customers linked through provider to an
// issuer other than issuer: after an app changes issuer they can no longer
// sign in that way until they attach their account again.
func (s *Service) Stranded(ctx context.Context, tenantID uuid.UUID, provider, issuer string) (int64, error) {
	return s.store.For(tenantID).CountByIssuer(ctx, provider, issuer)
}

// LinkMailTTL is how long a mailed link that attaches a provider works.
const LinkMailTTL = 30 * time.Minute

// SendLinkMail mails the customer with address a link that attaches
// provider to their account, for tenants that take no passwords (brand
// login only): opening the link proves the mailbox, as the password would.
// An address with no active account gets no mail and no error, so the
// answer does not tell who has an account.
func (s *Service) SendLinkMail(ctx context.Context, t *tenants.Tenant, address, provider, link string) error {
	c, err := s.store.For(t.ID).ByEmail(ctx, address)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Status != StatusActive {
		return nil
	}
	brand := mail.BrandOf(t, s.links(t, ""))
	minutes := int(LinkMailTTL.Minutes())
	msg, err := mail.Render(ctx, mail.Envelope{TenantID: t.ID, From: s.from(t), To: c.Email, Subject: "Attach your " + provider + " to " + brand.Name},
		email.LinkHTML(brand, provider, link, minutes), email.LinkText(brand, provider, link, minutes))
	if err != nil {
		return err
	}
	return s.queue.EnqueueMail(ctx, msg)
}

// LinkByMail links a provider's (verified) identity to the account with
// its email, once the customer opened the mailed link: the mailbox is the
// proof. It returns the customer, to sign in.
func (s *Service) LinkByMail(ctx context.Context, t *tenants.Tenant, cl Claims, r Request) (*Customer, error) {
	if !cl.EmailVerified {
		return nil, apperr.New(apperr.Forbidden, "%s did not confirm this email address, so it cannot be linked this way.", MethodName(t, cl.Provider))
	}
	c, err := s.store.For(t.ID).ByEmail(ctx, cl.Email)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusActive {
		return nil, errDisabled
	}
	if err := s.LinkIdentity(ctx, t, c, cl, r); err != nil {
		return nil, err
	}
	if err := s.store.For(t.ID).RecordLogin(ctx, c.ID, s.now(), ""); err != nil {
		return nil, err
	}
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.login", c.Email, r, map[string]any{"method": cl.Provider, "linked_by": "mail"})
	return c, nil
}
