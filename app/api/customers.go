package api

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/apperr"
)

// CustomerJSON is a customer as the management API shows it. There is no
// password hash field, so none can be written out.
type CustomerJSON struct {
	ID            uuid.UUID      `json:"id"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Status        string         `json:"status"`
	HasPassword   bool           `json:"has_password"`
	Profile       map[string]any `json:"profile"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	LastLoginAt   *time.Time     `json:"last_login_at,omitempty"`
}

func customerJSON(c *accounts.Customer) CustomerJSON {
	p := c.Profile
	if p == nil {
		p = map[string]any{}
	}
	return CustomerJSON{
		ID: c.ID, Email: c.Email, EmailVerified: c.EmailVerified, Status: c.Status, HasPassword: c.HasPassword(),
		Profile: p, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), LastLoginAt: c.LastLoginAt,
	}
}

// ETag is a customer's version: every change to the row moves updated_at.
// Microseconds, because that is what PostgreSQL keeps.
func ETag(c *accounts.Customer) string {
	return `"c` + strconv.FormatInt(c.UpdatedAt.UTC().UnixMicro(), 36) + `"`
}

var errStale = &apperr.Error{Code: apperr.Precondition,
	Message: "This customer has changed since the version named in If-Match. Fetch it again and retry."}

// checkIfMatch honours If-Match (RFC 9110 §13.1.1): absent passes, "*"
// passes, otherwise one of the listed tags must be the current one. When
// one is, the request's writes are made conditional on the version read
// (accounts.IfUnmodified), so a change that lands between the read and
// the write also gets 412 rather than being overwritten.
func checkIfMatch(c *gin.Context, cust *accounts.Customer) error {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" || h == "*" {
		return nil
	}
	cur := ETag(cust)
	for _, tag := range strings.Split(h, ",") {
		if strings.TrimSpace(tag) == cur {
			c.Request = c.Request.WithContext(accounts.IfUnmodified(c.Request.Context(), cust.UpdatedAt))
			return nil
		}
	}
	return errStale
}

// pageJSON is one page of a list, with the cursor of the next.
type pageJSON struct {
	Customers  []CustomerJSON `json:"customers"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// Cursors are opaque to clients: the search's own cursor, base64url.
func encodeCursor(s string) string {
	if s == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", apperr.Field("cursor", "is not a cursor this API gave out")
	}
	return string(b), nil
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return 25, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 0, apperr.Field("limit", "must be a whole number from 1 to 100")
	}
	return n, nil
}

// profileString renders stored profile values back into the text the
// registration fields parse, so a merge patch can be checked by the same
// rules (and messages) as the hosted form.
func profileString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}
