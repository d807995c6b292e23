package accounts

import (
	"context"
	"time"

	"gatehouse/app/mail"
	"gatehouse/tenants"
	"gatehouse/views/email"
)

// Signup is where a sign-up form leads. The service decides, not the
// handler, so the hosted form and the JSON API give the same answer.
type Signup struct {
	// Customer is the new account, to be signed in at once. It is nil when
	// the answer is "check your inbox": the tenant requires a verified
	// address, and the form must not tell a new address from a known one.
	Customer *Customer
	// Pending is the new account that waits for its address to be
	// verified, when the answer is "check your inbox" for a new address;
	// nil for a known one. Only the headless API uses it, to bind its
	// auth_session to the account the caller just made, and it answers
	// both cases alike.
	Pending *Customer
}

// CheckInbox reports whether the answer is "check your inbox for a link"
// rather than a signed-in customer.
func (s Signup) CheckInbox() bool { return s.Customer == nil }

// Sign-up throttles: per address to stop one client from probing or
// mailing at speed, per tenant as the ceiling on verification mail however
// many addresses an attacker has. Every attempt counts, valid or not.
const (
	signupWindow     = 10 * time.Minute
	signupsPerIP     = 30
	signupsPerTenant = 1000
	// An address's owner hears about sign-up attempts with it at most once
	// in this long, so the notice cannot be used to flood a mailbox.
	signupNoticeEvery = 6 * time.Hour
)

func verificationRequired(t *tenants.Tenant) bool {
	return t.Settings.EmailVerification == "required"
}

// throttleSignup refuses a sign-up past the address's or the tenant's
// allowance with a TooMany error (429 with Retry-After).
func (s *Service) throttleSignup(ctx context.Context, t *tenants.Tenant, r Request) error {
	tid := t.ID.String()
	if err := s.limiter.Allow(ctx, "signup:ip:"+tid+":"+ipKey(r.IP), signupsPerIP, signupWindow); err != nil {
		return err
	}
	return s.limiter.Allow(ctx, "signup:tenant:"+tid, signupsPerTenant, signupWindow)
}

// signupExisting answers a sign-up with an address that already has an
// account, on a tenant that requires verification: "check your inbox", as
// for a new address, and a mail to the owner telling them to log in or
// reset instead. The request has already paid for the password hash and
// the insert, so it takes about as long as a real sign-up.
func (s *Service) signupExisting(ctx context.Context, t *tenants.Tenant, addr string, r Request) Signup {
	s.record(ctx, t, "anonymous", "customer.signup.existing", addr, r, nil)
	if err := s.limiter.Allow(ctx, "signup:notice:"+t.ID.String()+":"+addr, 1, signupNoticeEvery); err != nil {
		return Signup{}
	}
	brand := mail.BrandOf(t, s.links(t, ""))
	login, forgot := s.links(t, "/login"), s.links(t, "/password/forgot")
	msg, err := mail.Render(ctx, mail.Envelope{TenantID: t.ID, From: s.from(t), To: addr, Subject: "You already have a " + brand.Name + " account"},
		email.SignupExistsHTML(brand, login, forgot), email.SignupExistsText(brand, login, forgot))
	if err == nil {
		err = s.queue.EnqueueMail(ctx, msg)
	}
	if err != nil {
		s.log.Error("signup_exists_mail_not_queued", "tenant_id", t.ID, "error", err)
	}
	return Signup{}
}
