package oidc

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/tenants"
)

// The errors of a grant whose code or refresh token was spent first.
var (
	ErrCodeSpent    = errCodeSpent
	ErrRefreshSpent = errRefreshSpent
)

// WriteGrant writes, as tenant t, new tokens for t's app and customer that
// spend the code of the request spendID (kind "code") or rotate the refresh
// token spendID (kind "refresh"), whichever tenant those belong to: the
// write itself must not spend another tenant's.
func (s *Storage) WriteGrant(ctx context.Context, t *tenants.Tenant, kind, spendID string, appID, customerID uuid.UUID) error {
	now := s.now()
	family := uuid.Must(uuid.NewV7())
	w := issue{
		refresh: &refreshRow{
			ID: uuid.Must(uuid.NewV7()), TenantID: t.ID, AppID: appID, CustomerID: customerID, FamilyID: family,
			TokenHash: hashToken(randomID(16)), Scopes: jsonList(nil), AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		},
		access: accessRow{
			ID: uuid.Must(uuid.NewV7()), TenantID: t.ID, AppID: appID, CustomerID: &customerID, Subject: customerID.String(),
			FamilyID: &family, Scopes: jsonList(nil), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		},
	}
	switch kind {
	case "code":
		w.code = &Request{ID: spendID}
	case "refresh":
		id, err := uuid.Parse(spendID)
		if err != nil {
			return err
		}
		w.rotated = &refreshRow{ID: id}
	}
	return s.writeIssue(ctx, t, w, now)
}

// SetKeysClock lets tests move the key store's clock through a rotation.
func SetKeysClock(k *Keys, now func() time.Time) { k.now = now }

// IssueStatement is a PostgreSQL statement of writeIssue with numbered
// parameters, as pgx prepares it, and how many it takes.
type IssueStatement struct {
	SQL    string
	Params int
}

// IssueStatements are the statements a refresh and a code exchange write
// their tokens with (issueStatementSQL).
func IssueStatements() map[string]IssueStatement {
	out := map[string]IssueStatement{}
	for name, w := range map[string]issue{
		"refresh":       {rotated: &refreshRow{}, refresh: &refreshRow{}},
		"code exchange": {code: &Request{}, refresh: &refreshRow{}},
	} {
		q, args := issueStatementSQL(&tenants.Tenant{}, w, time.Time{})
		var b strings.Builder
		n := 0
		for _, r := range q {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		if n != len(args) {
			panic("issueStatementSQL: " + strconv.Itoa(n) + " placeholders for " + strconv.Itoa(len(args)) + " arguments")
		}
		out[name] = IssueStatement{SQL: b.String(), Params: n}
	}
	return out
}
