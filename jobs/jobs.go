// Package jobs holds Gatehouse's background work on asynq: the task type
// names, their payloads, the client that enqueues them and the worker server
// that runs their handlers. Every payload carries the tenant it belongs to, so
// a handler never has to guess whose data it is touching.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"gatehouse/txn"
)

// Queue names, by priority. Mail must not wait behind a million-row import.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueBulk     = "bulk"
)

// Task type names.
const (
	TypeSendMail       = "mail:send"
	TypeForgotPassword = "account:forgot-password"
	// TypeStaffForgotPassword is a console staff member's forgotten
	// password: like TypeForgotPassword, the request only enqueues it.
	TypeStaffForgotPassword = "staff:forgot-password"
	// TypeOIDCSweep is the periodic sweep of expired authorization
	// requests and tokens. It is a platform task with no payload: the
	// handler goes through the tenants one by one.
	TypeOIDCSweep = "oidc:sweep"
	// TypeBackchannelLogout tells one app that a customer's session on a
	// tenant host ended (OpenID Connect Back-Channel Logout 1.0).
	TypeBackchannelLogout = "oidc:backchannel-logout"
)

// BackchannelLogout asks the worker to send one app a logout_token for a
// session that ended. The token is built and signed by the worker, with
// the tenant's signing key of the moment, so a retry sends a fresh token
// (its own jti and iat) for the same logout.
type BackchannelLogout struct {
	TenantID uuid.UUID `json:"tenant_id"`
	ClientID string    `json:"client_id"` // the app, looked up again within the tenant
	Issuer   string    `json:"issuer"`    // the issuer of the host the session was on
	Subject  string    `json:"sub"`
	SID      string    `json:"sid"`
}

// BackchannelLogouts sends logout tokens to apps.
type BackchannelLogouts interface {
	SendBackchannelLogout(ctx context.Context, p BackchannelLogout) error
}

// SendMail asks the worker to deliver one message. The body is rendered by the
// enqueuer, so the worker needs no templates and a retry sends the same bytes.
type SendMail struct {
	TenantID uuid.UUID `json:"tenant_id"` // uuid.Nil for platform mail (staff, operators)
	From     string    `json:"from"`
	To       string    `json:"to"`
	Subject  string    `json:"subject"`
	Text     string    `json:"text"`
	HTML     string    `json:"html"`
	// TaskID is the asynq task id the worker delivers the mail under (set
	// by the worker, never queued): the message's Message-ID is made from
	// it, so every attempt at one task sends the same Message-ID.
	TaskID string `json:"-"`
}

// ForgotPassword asks the worker to send a reset link (or, for a social-only
// account, a "you sign in with…" mail) if the address has an account. The
// web request only enqueues this, so its timing is the same whether or not
// the account exists.
type ForgotPassword struct {
	TenantID uuid.UUID `json:"tenant_id"`
	Email    string    `json:"email"`
	IP       string    `json:"ip"`
	// UserAgent is the requesting device's, for the audit event.
	UserAgent string `json:"user_agent,omitempty"`
}

// StaffForgotPassword asks the worker to mail a console reset link if the
// address is an active staff member's. It belongs to no tenant.
type StaffForgotPassword struct {
	Email     string `json:"email"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Enqueuer puts tasks on the queue. It is the narrow face of Client that the
// feature packages depend on.
type Enqueuer interface {
	EnqueueMail(ctx context.Context, m SendMail) error
}

// Client starts jobs. With an outbox (WithOutbox), which every serving
// node and worker has, a job becomes a job_outbox row written through the
// transaction the context carries (txn.Run), so it exists if and only if
// the change it is about commits, and the relay queues it when Redis can
// take it. Without one (operator commands) it enqueues on asynq at once.
type Client struct {
	asynq *asynq.Client
	db    *gorm.DB
	kick  func()
}

var _ Enqueuer = (*Client)(nil)

// NewClient returns a client on the given Redis connection.
func NewClient(opt asynq.RedisConnOpt) *Client {
	return &Client{asynq: asynq.NewClient(opt)}
}

// WithOutbox makes the client write jobs to the outbox in db, and call
// kick (the local relay's Kick) once each row has committed.
func (c *Client) WithOutbox(db *gorm.DB, kick func()) *Client {
	c.db, c.kick = db, kick
	return c
}

// Close releases the client's Redis connections.
func (c *Client) Close() error { return c.asynq.Close() }

// EnqueueMail queues m on the critical queue, retried with asynq's exponential
// backoff for about a day before it is given up.
func (c *Client) EnqueueMail(ctx context.Context, m SendMail) error {
	if m.To == "" {
		return fmt.Errorf("jobs: mail without a recipient")
	}
	return c.add(ctx, OutboxTask{TenantID: m.TenantID, Type: TypeSendMail, Payload: m, Queue: QueueCritical, MaxRetry: 20, Timeout: time.Minute})
}

// EnqueueForgotPassword queues a reset request on the critical queue.
func (c *Client) EnqueueForgotPassword(ctx context.Context, p ForgotPassword) error {
	return c.add(ctx, OutboxTask{TenantID: p.TenantID, Type: TypeForgotPassword, Payload: p, Queue: QueueCritical, MaxRetry: 5, Timeout: time.Minute})
}

// EnqueueStaffForgotPassword queues a staff reset request on the critical
// queue, as a platform task.
func (c *Client) EnqueueStaffForgotPassword(ctx context.Context, p StaffForgotPassword) error {
	return c.add(ctx, OutboxTask{Type: TypeStaffForgotPassword, Payload: p, Queue: QueueCritical, MaxRetry: 5, Timeout: time.Minute})
}

// EnqueueBackchannelLogout queues a logout token for one app on the default
// queue, retried with a doubling delay (BackchannelRetryDelay) for about an
// hour: a receiver that is down for a deploy still hears of the logout.
func (c *Client) EnqueueBackchannelLogout(ctx context.Context, p BackchannelLogout) error {
	if p.TenantID == uuid.Nil || p.ClientID == "" {
		return fmt.Errorf("jobs: back-channel logout without a tenant or app")
	}
	return c.add(ctx, OutboxTask{TenantID: p.TenantID, Type: TypeBackchannelLogout, Payload: p, Queue: QueueDefault, MaxRetry: 10, Timeout: 30 * time.Second})
}

// add writes t to the outbox, in the transaction ctx carries if any, or
// enqueues it at once when the client has no outbox.
func (c *Client) add(ctx context.Context, t OutboxTask) error {
	if c.db == nil {
		opts := []asynq.Option{asynq.Queue(t.Queue), asynq.MaxRetry(t.MaxRetry), asynq.Timeout(t.Timeout)}
		if t.TaskID != "" {
			opts = append(opts, asynq.TaskID(t.TaskID))
		}
		if !t.ProcessAt.IsZero() {
			opts = append(opts, asynq.ProcessAt(t.ProcessAt))
		}
		return c.enqueue(ctx, t.Type, t.Payload, opts...)
	}
	if _, err := AddToOutbox(ctx, txn.DB(ctx, c.db), t); err != nil {
		return err
	}
	if c.kick != nil {
		txn.AfterCommit(ctx, c.kick)
	}
	return nil
}

// BackchannelRetryDelay is the wait before retry n (from 0) of a
// back-channel logout: 2 s, 4 s, 8 s, … up to 10 minutes.
func BackchannelRetryDelay(n int) time.Duration {
	if n > 8 {
		return 10 * time.Minute
	}
	d := 2 * time.Second << n
	return min(d, 10*time.Minute)
}

func (c *Client) enqueue(ctx context.Context, typ string, payload any, opts ...asynq.Option) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("jobs: encode %s: %w", typ, err)
	}
	if _, err := c.asynq.EnqueueContext(ctx, asynq.NewTask(typ, b), opts...); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", typ, err)
	}
	return nil
}

// MailDeliverer hands a message to the mail system: SMTP in production, the
// outbox folder in development.
type MailDeliverer interface {
	DeliverMail(ctx context.Context, m SendMail) error
}

// PasswordResets sends the mail a forgot-password request calls for.
type PasswordResets interface {
	SendPasswordReset(ctx context.Context, p ForgotPassword) error
}

// StaffPasswordResets sends the mail a staff forgot-password request
// calls for.
type StaffPasswordResets interface {
	SendStaffPasswordReset(ctx context.Context, p StaffForgotPassword) error
}

// Permanent marks err as one that a retry cannot fix (a rejected address, a
// malformed payload), so asynq archives the task instead of retrying it.
func Permanent(err error) error {
	return fmt.Errorf("%w: %w", asynq.SkipRetry, err)
}

// Sweeper removes what has expired in every tenant: the OpenID Provider's
// rows, imports' leftover scratch.
type Sweeper interface {
	SweepExpired(ctx context.Context) error
}
