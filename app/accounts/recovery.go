package accounts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/mail"
	"gatehouse/app/ratelimit"
	"gatehouse/app/tokens"
	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/tenants"
	"gatehouse/views/email"
)

// ForgotPassword queues a reset request and returns. It does the same work
// for known and unknown addresses (one enqueue), so neither the response nor
// its timing tells whether an account exists; the worker decides what, if
// anything, to send.
func (s *Service) ForgotPassword(ctx context.Context, t *tenants.Tenant, rawEmail string, r Request) error {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return err
	}
	if err := s.limiter.Allow(ctx, "forgot:"+t.ID.String()+":"+email, 5, ratelimitHour); err != nil {
		var tooMany *ratelimit.TooMany
		if errors.As(err, &tooMany) {
			// Quietly drop the extra requests: the answer must look the same.
			return nil
		}
		// The limiter counts in this node's memory while Redis is away, so
		// an error here is not a refusal: the request goes on to the
		// outbox, which holds the job until Redis takes it.
		s.log.Warn("forgot_password_limit_unchecked", "error", err)
	}
	return s.queue.EnqueueForgotPassword(ctx, jobs.ForgotPassword{TenantID: t.ID, Email: email, IP: r.IP, UserAgent: r.UserAgent})
}

// SetPasswordLinks issues the single-use link with which a customer who
// has no password chooses a first one: the /password/set link of the
// import campaigns, which imports.Campaigns both issues and redeems. app
// wires it in, so accounts needs no import of imports.
type SetPasswordLinks interface {
	// SetPasswordLink returns the absolute link on the tenant's host and
	// how long it works. A new link makes older ones worthless.
	SetPasswordLink(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) (link string, ttl time.Duration, err error)
}

// SendPasswordReset runs in the worker: a reset link for an account with a
// password; for one without, a mail naming the providers it signs in with,
// or, when it has none either (a customer imported without a password), the
// link to choose a first password; nothing for an unknown address.
func (s *Service) SendPasswordReset(ctx context.Context, p jobs.ForgotPassword) error {
	t, err := s.tenants.ByID(ctx, p.TenantID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return jobs.Permanent(err)
		}
		return err
	}
	store := s.store.For(t.ID)
	c, err := store.ByEmail(ctx, p.Email)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// A disabled customer gets no link, as an unknown address gets none:
	// the page said the same to both, and staff decide when they return.
	if c.Status != StatusActive {
		return nil
	}
	brand := mail.BrandOf(t, s.links(t, ""))
	env := mail.Envelope{TenantID: t.ID, From: s.from(t), To: c.Email}
	var msg jobs.SendMail
	sent := "reset_link"
	switch {
	case c.HasPassword():
		// A new link makes older ones worthless.
		if err := s.tokens.Revoke(ctx, t.ID, c.ID, tokens.Reset); err != nil {
			return err
		}
		token, err := s.tokens.Issue(ctx, t.ID, c.ID, tokens.Reset, ResetTTL, nil)
		if err != nil {
			return err
		}
		link := s.links(t, "/password/reset?token="+url.QueryEscape(token))
		w := mail.WordingFor(t, tenants.MailReset, brand, c.Email)
		env.Subject = w.Subject
		minutes := int(ResetTTL.Minutes())
		msg, err = mail.Render(ctx, env, email.ResetHTML(brand, w.Intro, link, minutes), email.ResetText(brand, w.Intro, link, minutes))
		if err != nil {
			return jobs.Permanent(err)
		}
	default:
		ids, err := store.Identities(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			sent = "sign_in_methods"
			providers := providerNames(t, ids)
			env.Subject = "How you sign in to " + brand.Name
			msg, err = mail.Render(ctx, env, email.SocialResetHTML(brand, providers, s.links(t, "/login")), email.SocialResetText(brand, providers, s.links(t, "/login")))
			if err != nil {
				return jobs.Permanent(err)
			}
			break
		}
		// No password and no provider: nothing to reset and no button to
		// point at, so the way in is choosing a first password.
		if s.setPassword == nil {
			return jobs.Permanent(apperr.New(apperr.Internal, "accounts: no set-password links wired"))
		}
		sent = "set_password_link"
		link, ttl, err := s.setPassword.SetPasswordLink(ctx, t, c.ID)
		if err != nil {
			return err
		}
		w := mail.WordingFor(t, tenants.MailSetPassword, brand, c.Email)
		env.Subject = w.Subject
		days := int(ttl / (24 * time.Hour))
		msg, err = mail.Render(ctx, env, email.FirstPasswordHTML(brand, w.Intro, link, days), email.FirstPasswordText(brand, w.Intro, link, days))
		if err != nil {
			return jobs.Permanent(err)
		}
	}
	if err := s.queue.EnqueueMail(ctx, msg); err != nil {
		return err
	}
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.password.reset_requested", c.Email, Request{IP: p.IP, UserAgent: p.UserAgent}, map[string]any{"sent": sent})
	return nil
}

// providerNames names a customer's sign-in providers as the login page's
// buttons do (a brand's own provider by the brand's name), each once.
func providerNames(t *tenants.Tenant, ids []Identity) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		name := ProviderName(id.Provider)
		if id.Provider == "oidc" || id.Provider == "oauth2" {
			name = t.Theme.DisplayName
			if name == "" {
				name = t.Name
			}
			name += " account"
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// CheckResetToken reports whether a reset link can still be used, so the
// form can say so before the customer types a password.
func (s *Service) CheckResetToken(ctx context.Context, t *tenants.Tenant, token string) error {
	return s.tokens.Check(ctx, t.ID, tokens.Reset, token)
}

// ResetPassword sets a new password with a reset token. The token is used
// only once the new password passes the policy, and exactly once however
// many requests race. Afterwards every session of the customer ends, a
// confirmation mail goes out, and nobody is signed in. The customer is
// returned so the browser that used the link can be given a device cookie:
// a customer whom strangers' guesses have throttled gets back in through
// the link, then logs in from that browser.
func (s *Service) ResetPassword(ctx context.Context, t *tenants.Tenant, token, password string, r Request) (*Customer, error) {
	if perr := s.policy.Check("password", password, t.Settings.MinPasswordLength); perr != nil {
		// A dead link is the more useful thing to say than a weak password.
		if terr := s.tokens.Check(ctx, t.ID, tokens.Reset, token); terr != nil {
			return nil, terr
		}
		return nil, perr
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	// Using the link, the new hash, the end of every session and the
	// notice's outbox row commit together, so a failure halfway leaves the
	// link usable and the password as it was.
	var c *Customer
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		red, err := s.tokens.Redeem(ctx, t.ID, tokens.Reset, token)
		if err != nil {
			return err
		}
		store := s.store.For(t.ID)
		c, err = store.ByID(ctx, red.SubjectID)
		// A link mailed before staff disabled the customer is dead with the
		// account: it must not change the password of an account on hold.
		if err != nil || c.Status != StatusActive {
			return tokens.ErrInvalid
		}
		if err := store.SetPasswordHash(ctx, c.ID, hash); err != nil {
			return err
		}
		if err := s.endSessions(ctx, t, c.ID, ""); err != nil {
			return err
		}
		// Proving control of the mailbox also verifies it.
		if !c.EmailVerified {
			if err := store.MarkVerified(ctx, c.ID, c.Email); err != nil {
				return err
			}
		}
		return s.queuePasswordChanged(ctx, t, c)
	})
	if err != nil {
		return nil, err
	}
	s.passwordSucceeded(ctx, s.guardFor(t, c.Email, c, r))
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.password.reset", c.Email, r, nil)
	return c, nil
}

// VerifyEmail confirms the address a verification link was sent to.
func (s *Service) VerifyEmail(ctx context.Context, t *tenants.Tenant, token string, r Request) (*Customer, error) {
	c, _, err := s.verifyEmail(ctx, t, token, r)
	return c, err
}

// VerifyEmailInFlow confirms the address like VerifyEmail and, when the
// link came from a sign-up made on the way somewhere (an app's
// authorization) and is opened in the browser that signed up (browser is
// the value of its sign-up cookie), returns where to carry on: the caller
// signs the customer in and goes there. The mailbox and the browser that
// chose the password are both proven, so nobody else's browser is signed
// in by a forwarded or intercepted link. Anywhere else returnTo is empty.
func (s *Service) VerifyEmailInFlow(ctx context.Context, t *tenants.Tenant, token, browser string, r Request) (*Customer, string, error) {
	c, data, err := s.verifyEmail(ctx, t, token, r)
	if err != nil || browser == "" || data["return_to"] == "" {
		return c, "", err
	}
	if subtle.ConstantTimeCompare([]byte(BrowserBinding(browser)), []byte(data["browser"])) != 1 {
		return c, "", nil
	}
	return c, data["return_to"], nil
}

// BrowserBinding is what a sign-up stores of its browser's cookie value.
func BrowserBinding(cookie string) string {
	sum := sha256.Sum256([]byte("gatehouse signup browser\x00" + cookie))
	return hex.EncodeToString(sum[:])
}

func (s *Service) verifyEmail(ctx context.Context, t *tenants.Tenant, token string, r Request) (*Customer, map[string]string, error) {
	red, err := s.tokens.Redeem(ctx, t.ID, tokens.Verify, token)
	if err != nil {
		return nil, nil, err
	}
	store := s.store.For(t.ID)
	c, err := store.ByID(ctx, red.SubjectID)
	if err != nil {
		return nil, nil, tokens.ErrInvalid
	}
	// The link confirms the address it was sent to; if the customer has
	// changed address since, it confirms nothing.
	if err := store.MarkVerified(ctx, c.ID, red.Data["email"]); err != nil {
		return nil, nil, tokens.ErrInvalid
	}
	c.EmailVerified = true
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.email.verified", c.Email, r, nil)
	return c, red.Data, nil
}

// ResendVerification sends a new verification link, a few times an hour at
// most. rawEmail is used when nobody is signed in (the login page's button);
// the answer is the same whether or not the address has an account.
func (s *Service) ResendVerification(ctx context.Context, t *tenants.Tenant, c *Customer, rawEmail string) error {
	if c == nil {
		email, err := NormalizeEmail(rawEmail)
		if err != nil {
			return err
		}
		if err := s.limiter.Allow(ctx, "resend:"+t.ID.String()+":"+email, 3, ratelimitHour); err != nil {
			return err
		}
		c, err = s.store.For(t.ID).ByEmail(ctx, email)
		if err != nil || c.EmailVerified {
			return nil
		}
	} else if err := s.limiter.Allow(ctx, "resend:"+t.ID.String()+":"+c.Email, 3, ratelimitHour); err != nil {
		return err
	}
	if c.EmailVerified {
		return nil
	}
	return s.sendVerification(ctx, t, c, nil)
}

// sendVerification mails a link confirming c's address. flow, when not
// nil, is the sign-up's return_to and browser binding (see Registration).
func (s *Service) sendVerification(ctx context.Context, t *tenants.Tenant, c *Customer, flow map[string]string) error {
	data := map[string]string{"email": c.Email}
	for k, v := range flow {
		data[k] = v
	}
	token, err := s.tokens.Issue(ctx, t.ID, c.ID, tokens.Verify, VerifyTTL, data)
	if err != nil {
		return err
	}
	brand := mail.BrandOf(t, s.links(t, ""))
	link := s.links(t, "/verify-email?token="+url.QueryEscape(token))
	w := mail.WordingFor(t, tenants.MailVerify, brand, c.Email)
	msg, err := mail.Render(ctx, mail.Envelope{TenantID: t.ID, From: s.from(t), To: c.Email, Subject: w.Subject},
		email.VerifyHTML(brand, w.Intro, link), email.VerifyText(brand, w.Intro, link))
	if err != nil {
		return err
	}
	return s.queue.EnqueueMail(ctx, msg)
}

func (s *Service) notifyPasswordChanged(ctx context.Context, t *tenants.Tenant, c *Customer) {
	if err := s.queuePasswordChanged(ctx, t, c); err != nil {
		s.log.Error("password_changed_mail_not_queued", "tenant_id", t.ID, "error", err)
	}
}

// queuePasswordChanged queues the "your password was changed" notice.
func (s *Service) queuePasswordChanged(ctx context.Context, t *tenants.Tenant, c *Customer) error {
	brand := mail.BrandOf(t, s.links(t, ""))
	when := s.now().Format("2 January 2006 at 15:04 UTC")
	forgot := s.links(t, "/password/forgot")
	msg, err := mail.Render(ctx, mail.Envelope{TenantID: t.ID, From: s.from(t), To: c.Email, Subject: "Your " + brand.Name + " password was changed"},
		email.PasswordChangedHTML(brand, when, forgot), email.PasswordChangedText(brand, when, forgot))
	if err != nil {
		return err
	}
	return s.queue.EnqueueMail(ctx, msg)
}

// from is the sender of a tenant's mail: the brand's name on the platform's
// address, so replies and SPF stay ours.
func (s *Service) from(t *tenants.Tenant) string {
	addr := s.mailFrom
	if i := strings.LastIndexByte(addr, '<'); i >= 0 {
		addr = strings.TrimSuffix(addr[i+1:], ">")
	}
	name := t.Theme.DisplayName
	if name == "" {
		name = t.Name
	}
	name = strings.NewReplacer(`"`, "", `\`, "", "\r", "", "\n", "").Replace(name)
	return `"` + name + `" <` + addr + `>`
}

// MethodName is how a provider key reads to a customer of t: the brand's
// own provider is called by the brand's name, as its button is.
func MethodName(t *tenants.Tenant, key string) string {
	if key == "oidc" || key == "oauth2" {
		return BrandAccount(t)
	}
	return ProviderName(key)
}

// BrandAccount names a tenant's own sign-in ("Acme Coffee account"), the
// same on the login button, the account page and in mail.
func BrandAccount(t *tenants.Tenant) string {
	name := t.Theme.DisplayName
	if name == "" {
		name = t.Name
	}
	return name + " account"
}

// ProviderName is how a provider key reads to a customer.
func ProviderName(key string) string {
	switch key {
	case "google":
		return "Google"
	case "facebook":
		return "Facebook"
	case "apple":
		return "Apple"
	case "github":
		return "GitHub"
	case "oidc", "oauth2":
		return "your company account"
	}
	return key
}
