package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"gorm.io/gorm"

	"gatehouse/app/audit"
	"gatehouse/apperr"
	"gatehouse/jobs"
)

var _ jobs.WebhookDeliverer = (*Service)(nil)

// DeliverWebhook makes one attempt of a delivery: it signs the event's
// stored body with the endpoint's secret (and the previous one during a
// rotation) and posts it. A 2xx answer is success; anything else, or no
// answer, is returned as an error so asynq retries on WebhookSchedule. An
// endpoint that has failed every attempt for DisableAfter is disabled
// and its admins are told.
func (s *Service) DeliverWebhook(ctx context.Context, p jobs.WebhookDelivery) error {
	db := s.d.DB.WithContext(ctx)
	var d deliveryRow
	err := scoped(db, p.TenantID).Where("id = ?", p.DeliveryID).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil // the endpoint was deleted, and its log with it
	}
	if err != nil {
		return apperr.Wrap(err, "find delivery")
	}
	if d.Status == StatusSucceeded || d.Status == StatusSkipped {
		return nil
	}
	ep, err := endpointByID(ctx, s.d.DB, p.TenantID, d.EndpointID)
	if errors.Is(err, errNoEndpoint) {
		return nil
	}
	if err != nil {
		return err
	}
	if !ep.Enabled {
		return s.finish(ctx, d, map[string]any{"status": StatusSkipped})
	}
	var ev eventRow
	if err := scoped(db, p.TenantID).Where("id = ?", d.EventID).Take(&ev).Error; err != nil {
		return apperr.Wrap(err, "find webhook event")
	}
	keys, err := s.signingSecrets(ep)
	if err != nil {
		return err
	}
	now := s.now()
	sig, err := Sign(keys, ev.ID, now, ev.Body)
	if err != nil {
		return err
	}
	status, callErr := s.post(ctx, ep.URL, ev.ID, now, sig, ev.Body)
	cols := map[string]any{"attempts": gorm.Expr("attempts + 1"), "response_status": status, "last_attempt_at": now, "last_error": ""}
	if callErr == nil {
		cols["status"] = StatusSucceeded
		if err := s.finish(ctx, d, cols); err != nil {
			return err
		}
		return updateEndpoint(ctx, s.d.DB, p.TenantID, ep.ID, map[string]any{"failing_since": nil})
	}
	cols["last_error"] = clip(callErr.Error(), 300)
	cols["status"] = StatusRetrying
	if jobs.LastAttempt(ctx) {
		cols["status"] = StatusFailed
	}
	if err := s.finish(ctx, d, cols); err != nil {
		return err
	}
	disabled, err := s.recordFailure(ctx, ep, now)
	if err != nil {
		return err
	}
	if disabled {
		return jobs.Permanent(fmt.Errorf("webhook endpoint disabled: %w", callErr))
	}
	return callErr
}

func (s *Service) finish(ctx context.Context, d deliveryRow, cols map[string]any) error {
	err := scoped(s.d.DB.WithContext(ctx), d.TenantID).Model(&deliveryRow{}).Where("id = ?", d.ID).Updates(cols).Error
	if err != nil {
		return apperr.Wrap(err, "record delivery attempt")
	}
	return nil
}

// recordFailure notes a failed attempt on the endpoint and disables it once
// it has failed for DisableAfter with no success in between.
func (s *Service) recordFailure(ctx context.Context, ep endpointRow, now time.Time) (bool, error) {
	if ep.FailingSince == nil {
		return false, updateEndpoint(ctx, s.d.DB, ep.TenantID, ep.ID, map[string]any{"failing_since": now})
	}
	if now.Sub(*ep.FailingSince) < DisableAfter {
		return false, nil
	}
	reason := "Every delivery failed for 24 hours (since " + ep.FailingSince.UTC().Format("2006-01-02 15:04 UTC") + ")."
	res := scoped(s.d.DB.WithContext(ctx), ep.TenantID).Model(&endpointRow{}).Where("id = ? AND enabled = ?", ep.ID, true).
		Updates(map[string]any{"enabled": false, "disabled_reason": reason, "updated_at": now})
	if res.Error != nil {
		return false, apperr.Wrap(res.Error, "disable webhook endpoint")
	}
	if res.RowsAffected == 0 {
		return true, nil // another attempt disabled it first, and told the admins
	}
	if s.d.Log != nil {
		s.d.Log.Warn("webhook_endpoint_disabled", "tenant_id", ep.TenantID, "endpoint_id", ep.ID)
	}
	if s.d.Audit != nil {
		_ = s.d.Audit.Record(ctx, audit.Event{TenantID: ep.TenantID, Actor: "system", Action: "webhook.endpoint.disabled", Target: ep.URL, Detail: map[string]any{"reason": reason}})
	}
	if s.d.Notify != nil {
		if err := s.d.Notify.EndpointDisabled(ctx, ep.TenantID, ep.URL, reason); err != nil && s.d.Log != nil {
			s.d.Log.Error("webhook_disabled_notice_not_queued", "tenant_id", ep.TenantID, "error", err)
		}
	}
	return true, nil
}

func (s *Service) signingSecrets(ep endpointRow) ([]string, error) {
	current, err := s.d.Box.Open(ep.SecretSealed, sealContext(ep.ID, false))
	if err != nil {
		return nil, err
	}
	out := []string{current}
	if ep.PreviousSealed != nil && ep.PreviousExpiresAt != nil && ep.PreviousExpiresAt.After(s.now()) {
		prev, err := s.d.Box.Open(*ep.PreviousSealed, sealContext(ep.ID, true))
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}

// post sends one attempt and returns the answer's status (0 for none).
func (s *Service) post(ctx context.Context, url, id string, ts time.Time, sig string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, jobs.Permanent(fmt.Errorf("webhook request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse-Webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.d.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook endpoint unreachable: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook endpoint answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
