package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// TypeWebhookDeliver sends one webhook event to one endpoint.
const TypeWebhookDeliver = "webhook:deliver"

// WebhookDelivery names one row of webhook_deliveries; the event's body and
// the endpoint are read from the database when the task runs, so a
// disabled endpoint is never called and a rotated secret signs at once.
type WebhookDelivery struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	DeliveryID uuid.UUID `json:"delivery_id"`
}

// WebhookDeliverer runs webhook deliveries; app/webhooks implements it.
type WebhookDeliverer interface {
	DeliverWebhook(ctx context.Context, d WebhookDelivery) error
}

// WebhookSchedule is the wait before each retry of a failed webhook
// delivery: exponential, from 5 s up to 8 h, about 24 h in all (see
// WebhookMaxRetry). The first retry is quick so a receiver that hiccuped
// hears almost at once.
var WebhookSchedule = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour,
}

// WebhookMaxRetry is how many retries a delivery gets after its first
// attempt: one per step of WebhookSchedule, 23 h 42 min after the first.
var WebhookMaxRetry = len(WebhookSchedule)

// WebhookOutboxTask is the outbox row that queues delivery d.
func WebhookOutboxTask(d WebhookDelivery) OutboxTask {
	return OutboxTask{
		TenantID: d.TenantID, Type: TypeWebhookDeliver, Payload: d, Queue: QueueDefault,
		MaxRetry: WebhookMaxRetry, Timeout: time.Minute,
	}
}

func webhookRetryDelay(n int) time.Duration {
	if n < 0 {
		n = 0
	}
	if n >= len(WebhookSchedule) {
		return WebhookSchedule[len(WebhookSchedule)-1]
	}
	return WebhookSchedule[n]
}

func webhookHandler(w WebhookDeliverer) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var d WebhookDelivery
		if err := json.Unmarshal(t.Payload(), &d); err != nil {
			return Permanent(fmt.Errorf("decode webhook payload: %w", err))
		}
		return w.DeliverWebhook(ctx, d)
	}
}

// LastAttempt reports whether the task running under ctx has no retry
// left, so a handler can record a failure as final.
func LastAttempt(ctx context.Context) bool {
	n, ok := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok && ok2 && n >= maxRetry
}
