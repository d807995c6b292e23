package accounts

import (
	"context"
	"net"
	"strconv"
	"time"

	"gatehouse/app/mail"
	"gatehouse/app/ratelimit"
	"gatehouse/tenants"
	"gatehouse/views/email"
)

// The password throttle. Every place that checks a customer's password
// (/login, the current password on /account/password, /social/link) goes
// through guardFor, checkThrottle and passwordFailed/passwordSucceeded, so
// they share one set of keys and rules. Keys carry the tenant; the counts
// live in Redis, so every node sees the same.
//
//   - Per account and device-or-address: a browser with this account's
//     device cookie has a counter of its own, any other request counts
//     against (account, address). A stranger guessing from elsewhere only
//     slows themselves down; the owner's browser still gets in.
//   - Per account, across everything: a ceiling that never refuses
//     anyone but, once per window, mails the owner and writes an audit
//     event.
//   - Per address: slows guessing from one address across accounts. A
//     browser with the account's device cookie is not held by it, and its
//     allowance grows with the address's recent successful sign-ins, so
//     customers behind one NAT, shop Wi-Fi or mobile carrier are not
//     refused for each other's typos.
var (
	accountBackoff = ratelimit.Backoff{Free: 5, Window: 15 * time.Minute, MaxDelay: 15 * time.Minute}
	ipBackoff      = ratelimit.Backoff{Free: 30, Window: 15 * time.Minute, MaxDelay: 5 * time.Minute}
)

const (
	// accountCeiling failures on one account within accountCeilingWindow,
	// from anywhere, send the owner one notice per window.
	accountCeiling       = 20
	accountCeilingWindow = time.Hour
	// Each successesPerExtraFailure successful sign-ins from an address
	// within ipBackoff.Window allow one more failure from it, up to
	// maxExtraFailures. An attacker with an account of their own must sign
	// in several times for every extra guess.
	successesPerExtraFailure = 4
	maxExtraFailures         = 2000
)

// guard is the set of keys one password check counts against.
type guard struct {
	account string // (account, device) or (account, address)
	all     string // the account across everything
	ip      string // the address, across accounts
	ipOK    string // the address's successful sign-ins
	trusted bool   // the request carries this account's device cookie
}

// guardFor returns the keys of a password check for email (normalised, or
// as typed when it is not a valid address) and its customer, nil when the
// address has no account.
func (s *Service) guardFor(t *tenants.Tenant, email string, c *Customer, r Request) guard {
	tid := t.ID.String()
	addr := ipKey(r.IP)
	g := guard{
		account: "login:acct:" + tid + ":" + email + ":ip:" + addr,
		all:     "login:acct-all:" + tid + ":" + email,
		ip:      "login:ip:" + tid + ":" + addr,
		ipOK:    "login:ip-ok:" + tid + ":" + addr,
	}
	if c != nil {
		if dev, ok := s.devices.id(r.Device, t.ID, c.ID, s.now()); ok {
			g.account = "login:acct:" + tid + ":" + email + ":dev:" + dev
			g.trusted = true
		}
	}
	return g
}

// checkThrottle refuses a check while its (account, device-or-address) key
// is in a delay, or, for a browser without this account's device cookie,
// while its address is.
func (s *Service) checkThrottle(ctx context.Context, g guard) error {
	if err := s.limiter.Blocked(ctx, g.account); err != nil {
		return err
	}
	if !g.trusted {
		if err := s.limiter.Blocked(ctx, g.ip); err != nil {
			return err
		}
	}
	return nil
}

// passwordFailed counts a wrong password against every key of g, and
// tells the owner (c, when the account exists) once per window when the
// account-wide count reaches the ceiling.
func (s *Service) passwordFailed(ctx context.Context, t *tenants.Tenant, c *Customer, g guard, r Request) {
	s.failureCounted(ctx, t, c, s.countFailure(ctx, t, g), r)
}

// failureCounted tells the owner (c, when the account exists) once per
// window, when the account-wide count n of wrong passwords has just
// reached the ceiling. It writes only to the database (the mail's outbox
// row and an audit event), so a login calls it inside its transaction.
func (s *Service) failureCounted(ctx context.Context, t *tenants.Tenant, c *Customer, n int, r Request) {
	if n == accountCeiling && c != nil {
		s.notifyLoginAttempts(ctx, t, c, n, r)
	}
}

// countFailure counts a wrong password against every key of g in Redis and
// returns the account-wide count, or 0 when it could not be read. A login
// calls it with its checks, never inside its transaction: on SQLite that
// holds the file's one write lock, and would hold it for every round trip.
func (s *Service) countFailure(ctx context.Context, t *tenants.Tenant, g guard) int {
	if err := s.limiter.Fail(ctx, g.account, accountBackoff); err != nil {
		s.log.Warn("login_throttle_failed", "tenant_id", t.ID, "error", err)
	}
	ipb := ipBackoff
	if ok, err := s.limiter.Peek(ctx, g.ipOK); err == nil {
		ipb.Free += min(ok/successesPerExtraFailure, maxExtraFailures)
	}
	if err := s.limiter.Fail(ctx, g.ip, ipb); err != nil {
		s.log.Warn("login_throttle_failed", "tenant_id", t.ID, "error", err)
	}
	n, _, err := s.limiter.Count(ctx, g.all, accountCeilingWindow)
	if err != nil {
		s.log.Warn("login_throttle_failed", "tenant_id", t.ID, "error", err)
		return 0
	}
	return n
}

// passwordSucceeded clears the delay of the key that just got it right and
// credits the address with a success. It does not clear the address's
// failures: one good sign-in must not buy an attacker a fresh allowance.
func (s *Service) passwordSucceeded(ctx context.Context, g guard) {
	_ = s.limiter.Reset(ctx, g.account)
	_, _, _ = s.limiter.Count(ctx, g.ipOK, ipBackoff.Window)
}

// notifyLoginAttempts mails the owner that their account is being guessed
// at, and records that it did.
func (s *Service) notifyLoginAttempts(ctx context.Context, t *tenants.Tenant, c *Customer, n int, r Request) {
	brand := mail.BrandOf(t, s.links(t, ""))
	forgot := s.links(t, "/password/forgot")
	failures, window := strconv.Itoa(n), "hour"
	msg, err := mail.Render(ctx, mail.Envelope{TenantID: t.ID, From: s.from(t), To: c.Email, Subject: "Someone is trying to sign in to your " + brand.Name + " account"},
		email.LoginAttemptsHTML(brand, failures, window, forgot), email.LoginAttemptsText(brand, failures, window, forgot))
	if err == nil {
		err = s.queue.EnqueueMail(ctx, msg)
	}
	if err != nil {
		s.log.Error("login_attempts_mail_not_queued", "tenant_id", t.ID, "error", err)
		return
	}
	s.log.Warn("login_attempts_notified", "tenant_id", t.ID, "customer_id", c.ID, "failures", n)
	s.record(ctx, t, "system", "customer.login.attempts_notified", c.Email, r, map[string]any{"failures": n, "window": accountCeilingWindow.String()})
}

// ipKey is the part of an address that throttles key on: the address
// itself for IPv4, its /64 for IPv6, since one subscriber holds a whole
// /64 and could otherwise step through it.
func ipKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil {
		return ip
	}
	if a.To4() != nil {
		return a.To4().String()
	}
	return a.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
