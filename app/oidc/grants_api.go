package oidc

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

// ConnectedApp is one app a customer has let in: it holds live tokens for
// them, or their consent, or both.
type ConnectedApp struct {
	AppID      uuid.UUID
	ClientID   string
	Name       string
	FirstParty bool
	Scopes     []string  // what it was allowed, live tokens and consent together
	Since      time.Time // the earliest live token or consent
	LastUsed   time.Time // the latest token issued
}

// CustomerApps lists the apps customerID has let in, for the self-service
// API: those with a live access or refresh token, and those with consent.
func (s *Storage) CustomerApps(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID) ([]ConnectedApp, error) {
	now := s.now()
	db := s.db.WithContext(ctx)
	var refresh []refreshRow
	if err := db.Select("app_id", "scopes", "created_at").
		Where("tenant_id = ? AND customer_id = ? AND revoked_at IS NULL AND used_at IS NULL AND expires_at > ?", t.ID, customerID, now).
		Find(&refresh).Error; err != nil {
		return nil, apperr.Wrap(err, "oidc: customer refresh tokens")
	}
	var access []accessRow
	if err := db.Select("app_id", "scopes", "created_at").
		Where("tenant_id = ? AND customer_id = ? AND revoked_at IS NULL AND expires_at > ?", t.ID, customerID, now).
		Find(&access).Error; err != nil {
		return nil, apperr.Wrap(err, "oidc: customer access tokens")
	}
	var consents []consentRow
	if err := db.Where("tenant_id = ? AND customer_id = ?", t.ID, customerID).Find(&consents).Error; err != nil {
		return nil, apperr.Wrap(err, "oidc: customer consents")
	}
	byApp := map[uuid.UUID]*ConnectedApp{}
	note := func(appID uuid.UUID, scopes []string, at time.Time, issued bool) {
		c, ok := byApp[appID]
		if !ok {
			c = &ConnectedApp{Since: at}
			byApp[appID] = c
		}
		for _, sc := range scopes {
			if !slices.Contains(c.Scopes, sc) {
				c.Scopes = append(c.Scopes, sc)
			}
		}
		if at.Before(c.Since) {
			c.Since = at
		}
		if issued && at.After(c.LastUsed) {
			c.LastUsed = at
		}
	}
	for _, r := range refresh {
		note(r.AppID, unjsonList(r.Scopes), r.CreatedAt, true)
	}
	for _, r := range access {
		note(r.AppID, unjsonList(r.Scopes), r.CreatedAt, true)
	}
	for _, r := range consents {
		note(r.AppID, unjsonList(r.Scopes), r.GrantedAt, false)
	}
	if len(byApp) == 0 {
		return []ConnectedApp{}, nil
	}
	list, err := s.apps.For(t.ID).List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ConnectedApp, 0, len(byApp))
	for _, a := range list {
		c, ok := byApp[a.ID]
		if !ok {
			continue
		}
		c.AppID, c.ClientID, c.Name, c.FirstParty = a.ID, a.ClientID, a.Name, a.FirstParty
		sort.Strings(c.Scopes)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RevokeCustomerApp signs the customer out of one app: every token it
// holds for them is revoked and their consent forgotten, so a third-party
// app must ask again. Audited. An app they never let in is NotFound.
func (s *Storage) RevokeCustomerApp(ctx context.Context, t *tenants.Tenant, customerID uuid.UUID, clientID string) error {
	a, err := s.apps.For(t.ID).ByClientID(ctx, clientID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return errNotConnected
		}
		return err
	}
	if err := s.RevokeApp(ctx, t, customerID, a.ID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return errNotConnected
		}
		return err
	}
	s.record(ctx, t, "customer:"+customerID.String(), "oidc.app.revoked", a.ClientID, map[string]any{"app": a.Name})
	return nil
}

var errNotConnected = apperr.New(apperr.NotFound, "That app is not connected to your account.")
