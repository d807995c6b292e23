package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOPStatementsPerRequest pins how many SQL statements and transactions
// each hot OpenID Provider request costs, so that a change which adds a
// query to userinfo, introspection or a grant fails here rather than
// showing up only as a slower benchmark.
func TestOPStatementsPerRequest(t *testing.T) {
	t.Parallel()
	ob, st := newOPBenchCounted(t)
	// The most each request may cost: reads ("query"), inserts
	// ("create"), updates, writes of several rows in one statement
	// ("write") and transactions. A kind not named may not occur.
	measure := func(name string, want map[string]int, do func()) {
		st.Start()
		do()
		got := st.Stop()
		t.Logf("%s: %v", name, got)
		for kind, n := range got {
			if n > want[kind] {
				t.Errorf("%s: %d %s statements, want at most %d (all: %v)", name, n, kind, want[kind], got)
			}
		}
	}
	ok := func(req *http.Request) {
		if code, body := benchDo(ob.client, req); code != http.StatusOK {
			t.Fatalf("%s: %d %.300s", req.URL.Path, code, body)
		}
	}
	measure("userinfo", map[string]int{"query": 1}, func() {
		req, _ := http.NewRequest(http.MethodGet, ob.srv.URL(ob.host, "/oauth/userinfo"), nil)
		req.Header.Set("Authorization", "Bearer "+ob.access)
		ok(req)
	})
	// The caller's secrets and the token come in one read.
	measure("introspect", map[string]int{"query": 1}, func() {
		req := ob.tokenPost("/oauth/introspect", url.Values{"token": {ob.access}}.Encode(), ob.web)
		if code, body := benchDo(ob.client, req); code != http.StatusOK || !strings.Contains(body, `"active":true`) {
			t.Fatalf("introspect: %d %.300s", code, body)
		}
	})
	// client_credentials spends nothing: one INSERT, atomic alone.
	measure("client_credentials", map[string]int{"query": 1, "create": 1}, func() {
		ok(ob.tokenPost("/oauth/token", url.Values{"grant_type": {"client_credentials"}}.Encode(), ob.machine))
	})
	// A grant spends its code or rotates its refresh token and inserts
	// the new tokens all at once: on PostgreSQL in one statement, its own
	// transaction; on SQLite, which has no UPDATE or INSERT inside WITH,
	// in a transaction of an update and two inserts.
	grant := map[string]int{"query": 2, "write": 1}
	if st.Dialect() != "postgres" {
		grant = map[string]int{"query": 2, "update": 1, "create": 2, "transaction": 1}
	}
	c := ob.code(t, ob.visitors[0])
	var rt string
	measure("code exchange", grant, func() { rt = ob.exchange(t, c).RefreshToken })
	measure("refresh", grant, func() {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()
		if _, err := ob.tokenCall(ob.tokenPost("/oauth/token", form, ob.web)); err != nil {
			t.Fatal(err)
		}
	})
}
