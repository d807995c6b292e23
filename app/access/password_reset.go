package access

import (
	"context"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/sessions"
	"gatehouse/app/tokens"
	"gatehouse/apperr"
	"gatehouse/jobs"
	"gatehouse/txn"
)

// ResetTTL is how long a staff reset link works: the customers' rule
// (accounts.ResetTTL), 30 minutes.
const ResetTTL = 30 * time.Minute

// forgotPerAddress is how many reset requests an address gets an hour;
// past it they are dropped quietly, as customers' are, so the answer
// stays the same.
const forgotPerAddress = 5

// ResetMail is what a staff reset mail says.
type ResetMail struct {
	To      string
	Token   string // the raw single-use token; only ever in the mail
	Expires time.Duration
}

// ResetMailer queues the reset mail; app wires it to the mail outbox.
type ResetMailer interface {
	StaffPasswordReset(ctx context.Context, m ResetMail) error
}

// ResetQueue enqueues the request, so the web request does the same work
// whether or not the address is a staff member's.
type ResetQueue interface {
	EnqueueStaffForgotPassword(ctx context.Context, p jobs.StaffForgotPassword) error
}

// Throttle counts requests per key; ratelimit.Limiter is one.
type Throttle interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) error
}

// SessionEnder ends every session of a subject; sessions.Store is one.
type SessionEnder interface {
	RevokeAll(ctx context.Context, kind sessions.Kind, tenantID, subjectID uuid.UUID, keep string) error
}

// Recovery is the console's forgotten-password flow. Its tokens are the
// customers' (app/tokens: 256 bits, stored hashed, single-use by one
// guarded UPDATE, 30 minutes), as platform tokens since staff belong to
// no one tenant. A reset signs nobody in, so a staff member with
// two-factor sign-in still gives a code at the next sign-in.
type Recovery struct {
	staff    *Service
	tokens   *tokens.Store
	sessions SessionEnder
	queue    ResetQueue
	limiter  Throttle
	mailer   ResetMailer
}

// NewRecovery returns the flow. staff's roles are not used: the worker
// may pass a Service without an enforcer.
func NewRecovery(staff *Service, tok *tokens.Store, ends SessionEnder, queue ResetQueue, limiter Throttle, mailer ResetMailer) *Recovery {
	return &Recovery{staff: staff, tokens: tok, sessions: ends, queue: queue, limiter: limiter, mailer: mailer}
}

// Forgot asks for a reset link for rawEmail. Known, unknown and throttled
// addresses get the same nil after the same work (one enqueue at most);
// only a malformed address is an error, naming the field.
func (r *Recovery) Forgot(ctx context.Context, rawEmail, ip, userAgent string) error {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return err
	}
	if err := r.limiter.Allow(ctx, "console:forgot:"+email, forgotPerAddress, time.Hour); err != nil {
		if apperr.Is(err, apperr.TooMany) {
			return nil
		}
		return err
	}
	return r.queue.EnqueueStaffForgotPassword(ctx, jobs.StaffForgotPassword{Email: email, IP: ip, UserAgent: userAgent})
}

// SendStaffPasswordReset runs in the worker: an active staff member with
// a password gets a new link, which makes older ones worthless; anyone
// else gets nothing. The token, the mail's outbox row and the audit event
// commit together.
func (r *Recovery) SendStaffPasswordReset(ctx context.Context, p jobs.StaffForgotPassword) error {
	row, err := r.staff.staff.byEmail(ctx, p.Email)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.Status != string(Active) || row.PasswordHash == nil {
		return nil
	}
	return txn.Run(ctx, r.staff.db, func(ctx context.Context) error {
		if err := r.tokens.RevokePlatform(ctx, row.ID, tokens.StaffReset); err != nil {
			return err
		}
		token, err := r.tokens.IssuePlatform(ctx, row.ID, tokens.StaffReset, ResetTTL, nil)
		if err != nil {
			return err
		}
		if err := r.mailer.StaffPasswordReset(ctx, ResetMail{To: row.Email, Token: token, Expires: ResetTTL}); err != nil {
			return err
		}
		// Anyone who knows the address can ask: the actor is unknown.
		r.staff.record(ctx, Actor{IP: p.IP}, PlatformDomain, "staff.password.reset_requested", row.Email, nil)
		return nil
	})
}

// CheckReset reports whether a reset link can still be used, so the page
// says so before a password is typed.
func (r *Recovery) CheckReset(ctx context.Context, token string) error {
	return r.tokens.CheckPlatform(ctx, tokens.StaffReset, token)
}

// Reset sets a new password with a reset token. The token is spent only
// once the password passes the policy, and exactly once however many
// requests race; the new hash, the spent token and the end of every
// session of the staff member commit together. Two-factor sign-in stays
// as it was, and nobody is signed in.
func (r *Recovery) Reset(ctx context.Context, token, password, ip string) (Staff, error) {
	red, err := r.tokens.PeekPlatform(ctx, tokens.StaffReset, token)
	if err != nil {
		return Staff{}, err
	}
	row, err := r.staff.staff.byID(ctx, red.SubjectID)
	if err != nil || row.Status != string(Active) {
		return Staff{}, tokens.ErrInvalid
	}
	if err := r.staff.policy.Check("password", password, MinPasswordLength, row.Email); err != nil {
		return Staff{}, err
	}
	hash, err := r.staff.hasher.Hash(ctx, password)
	if err != nil {
		return Staff{}, err
	}
	err = txn.Run(ctx, r.staff.db, func(ctx context.Context) error {
		red, err := r.tokens.RedeemPlatform(ctx, tokens.StaffReset, token)
		if err != nil {
			return err
		}
		if red.SubjectID != row.ID {
			return tokens.ErrInvalid
		}
		if err := r.staff.staff.update(ctx, txn.DB(ctx, r.staff.db), row.ID, map[string]any{"password_hash": hash}); err != nil {
			return err
		}
		return r.sessions.RevokeAll(ctx, sessions.Staff, uuid.Nil, row.ID, "")
	})
	if err != nil {
		return Staff{}, err
	}
	r.staff.record(ctx, Actor{StaffID: row.ID, Email: row.Email, IP: ip}, PlatformDomain, "staff.password.reset", row.Email, nil)
	return row.staff(), nil
}
