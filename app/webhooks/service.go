package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/app/audit"
	"gatehouse/app/secrets"
	"gatehouse/apperr"
	"gatehouse/jobs"
)

// Notifier tells a tenant's admins that an endpoint was disabled because it
// kept failing; app implements it with a mail queued through jobs.
type Notifier interface {
	EndpointDisabled(ctx context.Context, tenantID uuid.UUID, endpointURL, reason string) error
}

// Auditor records what the service decides on its own, such as disabling
// an endpoint.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// DisableAfter is how long an endpoint may fail every attempt, with no
// success in between, before it is disabled and its admins are told.
const DisableAfter = 24 * time.Hour

// Deps are the service's collaborators.
type Deps struct {
	DB     *gorm.DB
	Box    *secrets.Box
	Client *http.Client // the guarded outbound client (app/outbound)
	Notify Notifier
	Audit  Auditor
	Log    *slog.Logger
	// AllowHTTP accepts http:// endpoint URLs: only in --dev and in
	// tests that allow loopback. Production endpoints must be https.
	AllowHTTP bool
	// Now is the clock; nil is time.Now in UTC.
	Now func() time.Time
}

// Service manages endpoints, writes events and delivers them.
type Service struct {
	d   Deps
	now func() time.Time
}

// NewService returns the webhooks service.
func NewService(d Deps) *Service {
	now := d.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	return &Service{d: d, now: now}
}

// New is an endpoint to register.
type New struct {
	URL         string
	Description string
	Events      []string
}

func (s *Service) check(n New) (New, error) {
	n.URL = strings.TrimSpace(n.URL)
	n.Description = strings.TrimSpace(n.Description)
	u, err := url.Parse(n.URL)
	switch {
	case n.URL == "":
		return n, apperr.Field("url", "is required")
	case err != nil || u.Host == "" || u.Opaque != "":
		return n, apperr.Field("url", "must be an absolute URL such as https://example.com/webhooks")
	case u.User != nil:
		return n, apperr.Field("url", "must not carry a user name or password")
	case len(n.URL) > 2000:
		return n, apperr.Field("url", "must be at most 2000 characters")
	case u.Scheme == "https":
	case u.Scheme == "http" && s.d.AllowHTTP:
	default:
		return n, apperr.Field("url", "must start with https://")
	}
	if u.Fragment != "" {
		return n, apperr.Field("url", "must not have a #fragment")
	}
	if utf8.RuneCountInString(n.Description) > 200 {
		return n, apperr.Field("description", "must be at most 200 characters")
	}
	seen := map[string]bool{}
	var events []string
	for _, e := range n.Events {
		if !knownEvent(e) {
			return n, apperr.Field("events", "%q is not an event type", e)
		}
		if !seen[e] {
			seen[e] = true
			events = append(events, e)
		}
	}
	if len(events) == 0 {
		return n, apperr.Field("events", "pick at least one event")
	}
	n.Events = events
	return n, nil
}

func sealContext(id uuid.UUID, previous bool) string {
	if previous {
		return "webhook-secret:" + id.String() + ":previous"
	}
	return "webhook-secret:" + id.String()
}

// Create registers an endpoint and returns its secret, the one time it is
// shown in plain text.
func (s *Service) Create(ctx context.Context, tenantID uuid.UUID, n New) (Endpoint, string, error) {
	n, err := s.check(n)
	if err != nil {
		return Endpoint{}, "", err
	}
	if tenantID == uuid.Nil {
		return Endpoint{}, "", apperr.New(apperr.Internal, "webhooks: no tenant")
	}
	id := uuid.Must(uuid.NewV7())
	secret := newSecret()
	sealed, err := s.d.Box.Seal(secret, sealContext(id, false))
	if err != nil {
		return Endpoint{}, "", err
	}
	now := s.now()
	r := endpointRow{
		ID: id, TenantID: tenantID, URL: n.URL, Description: n.Description, Events: strings.Join(n.Events, " "),
		SecretSealed: sealed, Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.d.DB.WithContext(ctx).Create(&r).Error; err != nil {
		return Endpoint{}, "", apperr.Wrap(err, "create webhook endpoint")
	}
	return r.endpoint(now), secret, nil
}

// List returns a tenant's endpoints, oldest first.
func (s *Service) List(ctx context.Context, tenantID uuid.UUID) ([]Endpoint, error) {
	var rows []endpointRow
	if err := scoped(s.d.DB.WithContext(ctx), tenantID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list webhook endpoints")
	}
	now := s.now()
	out := make([]Endpoint, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.endpoint(now))
	}
	return out, nil
}

// Get returns one endpoint of the tenant; another tenant's is NotFound.
func (s *Service) Get(ctx context.Context, tenantID, id uuid.UUID) (Endpoint, error) {
	r, err := endpointByID(ctx, s.d.DB, tenantID, id)
	if err != nil {
		return Endpoint{}, err
	}
	return r.endpoint(s.now()), nil
}

// Rotate gives an endpoint a new secret and returns it. For overlap the
// previous secret signs too (both signatures, space-separated), so a
// receiver can switch without dropping an event.
func (s *Service) Rotate(ctx context.Context, tenantID, id uuid.UUID, overlap time.Duration) (string, error) {
	if overlap < 0 || overlap > 7*24*time.Hour {
		return "", apperr.Field("overlap", "must be between none and 7 days")
	}
	var secret string
	err := s.d.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := endpointByID(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		current, err := s.d.Box.Open(r.SecretSealed, sealContext(r.ID, false))
		if err != nil {
			return err
		}
		secret = newSecret()
		sealed, err := s.d.Box.Seal(secret, sealContext(r.ID, false))
		if err != nil {
			return err
		}
		cols := map[string]any{"secret_sealed": sealed, "previous_sealed": nil, "previous_expires_at": nil}
		if overlap > 0 {
			prev, err := s.d.Box.Seal(current, sealContext(r.ID, true))
			if err != nil {
				return err
			}
			cols["previous_sealed"] = prev
			cols["previous_expires_at"] = s.now().Add(overlap)
		}
		return updateEndpoint(ctx, tx, tenantID, r.ID, cols)
	})
	return secret, err
}

// SetEnabled turns an endpoint on or off. Turning it on forgets its
// failures, so it gets a full DisableAfter again.
func (s *Service) SetEnabled(ctx context.Context, tenantID, id uuid.UUID, on bool) error {
	cols := map[string]any{"enabled": on}
	if on {
		cols["disabled_reason"] = ""
		cols["failing_since"] = nil
	} else {
		cols["disabled_reason"] = "Disabled by staff."
	}
	return updateEndpoint(ctx, s.d.DB, tenantID, id, cols)
}

// Delete removes an endpoint and its delivery log.
func (s *Service) Delete(ctx context.Context, tenantID, id uuid.UUID) error {
	res := scoped(s.d.DB.WithContext(ctx), tenantID).Where("id = ?", id).Delete(&endpointRow{})
	if res.Error != nil {
		return apperr.Wrap(res.Error, "delete webhook endpoint")
	}
	if res.RowsAffected == 0 {
		return errNoEndpoint
	}
	return nil
}

// Deliveries is the endpoint's delivery log, newest first.
func (s *Service) Deliveries(ctx context.Context, tenantID, endpointID uuid.UUID, limit int) ([]Delivery, error) {
	var rows []struct {
		ID             uuid.UUID
		EndpointID     uuid.UUID
		EventID        string
		EventType      string
		Status         string
		Attempts       int
		ResponseStatus int
		LastError      string
		LastAttemptAt  *time.Time
		CreatedAt      time.Time
	}
	err := s.d.DB.WithContext(ctx).Table("webhook_deliveries AS d").
		Select("d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.status, d.attempts, d.response_status, d.last_error, d.last_attempt_at, d.created_at").
		Joins("JOIN webhook_events e ON e.id = d.event_id AND e.tenant_id = d.tenant_id").
		Where("d.tenant_id = ? AND d.endpoint_id = ?", tenantID, endpointID).
		Order("d.created_at DESC, d.id DESC").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, apperr.Wrap(err, "list deliveries")
	}
	out := make([]Delivery, 0, len(rows))
	for _, r := range rows {
		out = append(out, Delivery{
			ID: r.ID, EndpointID: r.EndpointID, EventID: r.EventID, EventType: r.EventType, Status: r.Status,
			Attempts: r.Attempts, ResponseStatus: r.ResponseStatus, LastError: r.LastError,
			LastAttemptAt: r.LastAttemptAt, CreatedAt: r.CreatedAt,
		})
	}
	return out, nil
}

// Resend queues the event of a delivery again, to the same endpoint, with
// the same webhook-id (receivers may drop it as a duplicate; that is the
// point of the id). It is a new line in the log.
func (s *Service) Resend(ctx context.Context, tenantID, endpointID, deliveryID uuid.UUID) error {
	return s.d.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var d deliveryRow
		err := scoped(tx.WithContext(ctx), tenantID).Where("id = ? AND endpoint_id = ?", deliveryID, endpointID).Take(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errNoDelivery
		}
		if err != nil {
			return apperr.Wrap(err, "find delivery")
		}
		ep, err := endpointByID(ctx, tx, tenantID, endpointID)
		if err != nil {
			return err
		}
		if !ep.Enabled {
			return apperr.New(apperr.Conflict, "Enable the endpoint before resending to it.")
		}
		return s.queue(ctx, tx, tenantID, endpointID, d.EventID)
	})
}

// queue writes a pending delivery and its outbox row through tx.
func (s *Service) queue(ctx context.Context, tx *gorm.DB, tenantID, endpointID uuid.UUID, eventID string) error {
	d := deliveryRow{
		ID: uuid.Must(uuid.NewV7()), TenantID: tenantID, EndpointID: endpointID, EventID: eventID,
		Status: StatusPending, CreatedAt: s.now(),
	}
	if err := tx.WithContext(ctx).Create(&d).Error; err != nil {
		return apperr.Wrap(err, "queue delivery")
	}
	if _, err := jobs.AddToOutbox(ctx, tx, jobs.WebhookOutboxTask(jobs.WebhookDelivery{TenantID: tenantID, DeliveryID: d.ID})); err != nil {
		return apperr.Wrap(err, "queue delivery")
	}
	return nil
}

// payload is the body every event carries, per Standard Webhooks.
type payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Emit records event typ of tenantID through tx, the transaction of the
// change it reports, for every enabled endpoint of the tenant that
// subscribes to it. With no such endpoint nothing is written and data is
// never called, so a tenant without webhooks pays one indexed read.
func (s *Service) Emit(ctx context.Context, tx *gorm.DB, tenantID uuid.UUID, typ string, data func() (any, error)) error {
	if tenantID == uuid.Nil {
		return nil
	}
	var rows []endpointRow
	if err := scoped(tx.WithContext(ctx), tenantID).Where("enabled = ?", true).Select("id", "events").Find(&rows).Error; err != nil {
		return apperr.Wrap(err, "find webhook endpoints")
	}
	var targets []uuid.UUID
	for _, r := range rows {
		if (Endpoint{Events: strings.Fields(r.Events)}).Subscribes(typ) {
			targets = append(targets, r.ID)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	v, err := data()
	if err != nil {
		return err
	}
	now := s.now()
	body, err := json.Marshal(payload{Type: typ, Timestamp: now.Truncate(time.Millisecond), Data: v})
	if err != nil {
		return apperr.Wrap(err, "encode webhook event")
	}
	ev := eventRow{ID: "msg_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", ""), TenantID: tenantID, Type: typ, Body: body, CreatedAt: now}
	if err := tx.WithContext(ctx).Create(&ev).Error; err != nil {
		return apperr.Wrap(err, "write webhook event")
	}
	for _, id := range targets {
		if err := s.queue(ctx, tx, tenantID, id, ev.ID); err != nil {
			return err
		}
	}
	return nil
}
