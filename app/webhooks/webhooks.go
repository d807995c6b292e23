// Package webhooks is a tenant's webhook endpoints, the events Gatehouse
// sends them, signed per Standard Webhooks, and the delivery log.
//
// An event is written in the same database transaction as the change it
// reports (Emit, called by the accounts store and the import pipeline with
// their *gorm.DB transaction): one webhook_events row, one
// webhook_deliveries row per enabled endpoint that subscribes to it, and one
// job_outbox row per delivery. The outbox relay hands deliveries to asynq,
// where DeliverWebhook signs and posts them through the guarded outbound
// client.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event types a tenant's endpoints may subscribe to.
const (
	CustomerCreated         = "customer.created"
	CustomerUpdated         = "customer.updated"
	CustomerDeleted         = "customer.deleted"
	CustomerDisabled        = "customer.disabled"
	CustomerLogin           = "customer.login"
	CustomerPasswordChanged = "customer.password_changed"
	IdentityLinked          = "identity.linked"
	ImportCompleted         = "import.completed"
)

// EventTypes lists every event type, in the order the console shows them.
var EventTypes = []string{
	CustomerCreated, CustomerUpdated, CustomerDeleted, CustomerDisabled,
	CustomerLogin, CustomerPasswordChanged, IdentityLinked, ImportCompleted,
}

func knownEvent(e string) bool {
	for _, k := range EventTypes {
		if k == e {
			return true
		}
	}
	return false
}

// Endpoint is one receiver of a tenant's events, as pages see it: no
// secret.
type Endpoint struct {
	ID             uuid.UUID
	TenantID       uuid.UUID
	URL            string
	Description    string
	Events         []string
	Enabled        bool
	DisabledReason string
	// Rotating is set while a previous secret still signs, until RotatingUntil.
	RotatingUntil *time.Time
	FailingSince  *time.Time
	CreatedAt     time.Time
}

// Subscribes reports whether e receives events of type typ.
func (e Endpoint) Subscribes(typ string) bool {
	for _, k := range e.Events {
		if k == typ {
			return true
		}
	}
	return false
}

// Delivery is one line of the delivery log.
type Delivery struct {
	ID             uuid.UUID
	EndpointID     uuid.UUID
	EventID        string
	EventType      string
	Status         string // pending, retrying, succeeded, failed, skipped
	Attempts       int
	ResponseStatus int
	LastError      string
	LastAttemptAt  *time.Time
	CreatedAt      time.Time
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusRetrying  = "retrying"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped" // the endpoint was disabled before its turn
)

const secretPrefix = "whsec_"

// newSecret returns a Standard Webhooks secret: whsec_ and 32 random bytes
// in base64.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey is the HMAC key of a whsec_ secret.
func secretKey(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil {
		return nil, fmt.Errorf("webhooks: malformed secret: %w", err)
	}
	return k, nil
}

// Sign returns the webhook-signature header for one attempt: "v1,<base64
// HMAC-SHA256 of id.timestamp.body>" for each secret, separated by spaces,
// so a receiver holding either secret during a rotation accepts it.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	var sigs []string
	for _, s := range secrets {
		k, err := secretKey(s)
		if err != nil {
			return "", err
		}
		m := hmac.New(sha256.New, k)
		m.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}
