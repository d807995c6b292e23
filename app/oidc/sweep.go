package oidc

import (
	"context"
	"time"

	"github.com/google/uuid"

	"gatehouse/apperr"
)

// TokenRetention is how long token rows outlive their expiry before the
// sweep removes them: a replayed refresh token, or a late introspection,
// still meets its row for a day and is answered as dead rather than
// unknown.
const TokenRetention = 24 * time.Hour

// sweepBatch bounds one DELETE, so a tenant with a backlog of a million
// rows does not hold one long transaction.
const sweepBatch = 1000

// Swept counts the rows one sweep removed.
type Swept struct {
	AuthRequests  int64
	AccessTokens  int64
	RefreshTokens int64
}

func (s *Swept) add(o Swept) {
	s.AuthRequests += o.AuthRequests
	s.AccessTokens += o.AccessTokens
	s.RefreshTokens += o.RefreshTokens
}

// SweepExpired is the periodic task (jobs.TypeOIDCSweep): every tenant's
// expired rows, tenant by tenant. Nothing else deletes them: until it
// runs, every read skips them by their expires_at.
func (s *Storage) SweepExpired(ctx context.Context) error {
	var ids []uuid.UUID
	if err := s.db.WithContext(ctx).Table("tenants").Order("id").Pluck("id", &ids).Error; err != nil {
		return apperr.Wrap(err, "oidc: list tenants to sweep")
	}
	var total Swept
	for _, id := range ids {
		n, err := s.SweepTenant(ctx, id)
		if err != nil {
			return err
		}
		total.add(n)
	}
	s.log.InfoContext(ctx, "oidc_sweep", "tenants", len(ids), "auth_requests", total.AuthRequests,
		"access_tokens", total.AccessTokens, "refresh_tokens", total.RefreshTokens)
	return nil
}

// SweepTenant removes one tenant's authorization requests that have
// expired (unfinished ones after ten minutes; exchanged ones, kept to
// recognise a replayed code, once their tokens can no longer live) and its
// access and refresh tokens that expired more than TokenRetention ago.
// Nothing of another tenant is touched.
func (s *Storage) SweepTenant(ctx context.Context, tenantID uuid.UUID) (Swept, error) {
	if tenantID == uuid.Nil {
		return Swept{}, apperr.New(apperr.Internal, "oidc: sweep without a tenant")
	}
	now := s.now()
	var out Swept
	var err error
	if out.AuthRequests, err = s.sweepTable(ctx, "oidc_auth_requests", tenantID, now); err != nil {
		return out, err
	}
	if out.AccessTokens, err = s.sweepTable(ctx, "oidc_access_tokens", tenantID, now.Add(-TokenRetention)); err != nil {
		return out, err
	}
	if out.RefreshTokens, err = s.sweepTable(ctx, "oidc_refresh_tokens", tenantID, now.Add(-TokenRetention)); err != nil {
		return out, err
	}
	return out, nil
}

// sweepTable deletes the tenant's rows of table that expired before
// cutoff, a batch at a time.
func (s *Storage) sweepTable(ctx context.Context, table string, tenantID uuid.UUID, cutoff time.Time) (int64, error) {
	var total int64
	for {
		// table is one of three names above, never input.
		res := s.db.WithContext(ctx).Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND id IN "+
			"(SELECT id FROM "+table+" WHERE tenant_id = ? AND expires_at < ? LIMIT ?)", tenantID, tenantID, cutoff, sweepBatch)
		if res.Error != nil {
			return total, apperr.Wrap(res.Error, "oidc: sweep %s", table)
		}
		total += res.RowsAffected
		if res.RowsAffected < sweepBatch {
			return total, nil
		}
	}
}
