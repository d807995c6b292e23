package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
)

// /me shows a customer as the management API does, except that
// last_login_at is there, as null, before the first sign-in.
func TestMeIsTheCustomerWithLastLoginAlwaysPresent(t *testing.T) {
	c := &accounts.Customer{ID: uuid.New(), Email: "ann@example.com", Status: accounts.StatusActive,
		CreatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	me, _ := json.Marshal(meOf(c))
	admin, _ := json.Marshal(customerJSON(c))
	if !strings.Contains(string(me), `"last_login_at":null`) || strings.Contains(string(admin), "last_login_at") {
		t.Fatalf("before a sign-in: /me %s, management API %s", me, admin)
	}
	var m map[string]any
	_ = json.Unmarshal(me, &m)
	delete(m, "last_login_at")
	var a map[string]any
	_ = json.Unmarshal(admin, &a)
	if len(m) != len(a) || m["email"] != a["email"] || m["id"] != c.ID.String() {
		t.Fatalf("/me %v and the management view %v differ beyond last_login_at", m, a)
	}
	at := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	c.LastLoginAt = &at
	me, _ = json.Marshal(meOf(c))
	if strings.Count(string(me), "last_login_at") != 1 || !strings.Contains(string(me), `"last_login_at":"2026-12-02T06:00:00Z"`) {
		t.Fatalf("after a sign-in: %s", me)
	}
}
