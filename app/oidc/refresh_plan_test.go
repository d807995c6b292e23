package oidc_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"gatehouse/app/accounts"
	"gatehouse/app/apptest"
	"gatehouse/app/oidc"
)

// TestRefreshPlans pins the PostgreSQL plans of the statements every
// refresh runs on oidc_refresh_tokens (Storage.refreshWithSID, and the
// rotation's UPDATE at the head of the one statement that writes the new
// tokens) to the unique token_hash index and the primary key, and the code
// exchange's UPDATE of its request to that table's primary key. It takes
// the generic plan, which pgx's prepared statements settle on after five
// runs, on a table that has never been analysed: the worst case, and the
// one CI's PostgreSQL (autovacuum off) stays in. With indexes led by tenant_id that plan read
// every refresh token of the tenant on each refresh (migration 00032).
func TestRefreshPlans(t *testing.T) {
	t.Parallel()
	d := apptest.MigratedDB(t)
	if d.Gorm.Dialector.Name() != "postgres" {
		t.Skip("query plans are PostgreSQL's; set GATEHOUSE_TEST_DATABASE_URL")
	}
	statements := []struct {
		name, prepare, execute, index string
	}{
		{
			name: "lookup",
			prepare: `PREPARE lookup(uuid, text, int) AS SELECT r.*, ar.sid, ` + accounts.JoinedColumns("c") + ` FROM oidc_refresh_tokens AS r ` +
				`LEFT JOIN oidc_auth_requests ar ON ar.id = r.auth_request_id AND ar.tenant_id = r.tenant_id ` +
				`LEFT JOIN customers c ON c.id = r.customer_id AND c.tenant_id = r.tenant_id ` +
				`WHERE r.tenant_id = $1 AND r.token_hash = $2 LIMIT $3`,
			execute: `EXPLAIN EXECUTE lookup('00000000-0000-0000-0000-000000000001', 'x', 1)`,
			index:   "oidc_refresh_tokens_token_hash_key",
		},
	}
	// The grants' writes (oidc.IssueStatements): the UPDATE that spends the
	// refresh token or the code must find its row by the primary key.
	for name, index := range map[string]string{"refresh": "oidc_refresh_tokens_pkey", "code exchange": "oidc_auth_requests_pkey"} {
		st := oidc.IssueStatements()[name]
		nulls := strings.TrimSuffix(strings.Repeat("NULL, ", st.Params), ", ")
		statements = append(statements, struct{ name, prepare, execute, index string }{
			name:    name,
			prepare: "PREPARE " + strings.ReplaceAll(name, " ", "_") + " AS " + st.SQL,
			execute: "EXPLAIN EXECUTE " + strings.ReplaceAll(name, " ", "_") + "(" + nulls + ")",
			index:   index,
		})
	}
	err := d.Gorm.Connection(func(conn *gorm.DB) error {
		if err := conn.Exec("SET plan_cache_mode = force_generic_plan").Error; err != nil {
			return err
		}
		for _, s := range statements {
			if err := conn.Exec(s.prepare).Error; err != nil {
				return err
			}
			var lines []string
			if err := conn.Raw(s.execute).Scan(&lines).Error; err != nil {
				return err
			}
			plan := strings.Join(lines, "\n")
			if !strings.Contains(plan, "Index Scan using "+s.index+" ") {
				t.Errorf("%s: generic plan does not use %s:\n%s", s.name, s.index, plan)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
