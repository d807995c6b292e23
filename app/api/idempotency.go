package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// IdempotencyTTL is how long a key's answer is kept for retries.
const IdempotencyTTL = 24 * time.Hour

type idempotencyRow struct {
	TenantID    uuid.UUID
	ClientID    string
	Key         string
	RequestHash string
	Status      int
	Header      datatypes.JSON
	Body        []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

func (idempotencyRow) TableName() string { return "api_idempotency" }

// replayed headers: what a client may read from the first answer.
var replayHeaders = []string{"Content-Type", "Location", "ETag"}

// idempotent makes a POST with an Idempotency-Key safe to retry. The first
// request claims the key (an INSERT that only one of two racing requests
// wins) and stores its answer; a retry with the same method, path and body
// gets that answer again, one with a different body a 422, and one that
// arrives while the first still runs a 409. A failure of ours (5xx) frees
// the key so the retry runs for real. Keys belong to one app of one tenant.
func (f *framework) idempotent(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		c.Next()
		return
	}
	if len(key) > 255 {
		Problem(c, apperr.Field("Idempotency-Key", "must be at most 255 characters"))
		return
	}
	body, err := readBody(c)
	if err != nil {
		Problem(c, err)
		return
	}
	p := PrincipalOf(c)
	t := tenants.FromGin(c)
	h := sha256.New()
	h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\n"))
	h.Write(body)
	hash := hex.EncodeToString(h.Sum(nil))
	now := time.Now().UTC()
	db := f.d.DB.WithContext(c.Request.Context())
	where := db.Where("tenant_id = ? AND client_id = ? AND key = ?", t.ID, p.ClientID, key)
	if err := where.Session(&gorm.Session{}).Where("expires_at <= ?", now).Delete(&idempotencyRow{}).Error; err != nil {
		Problem(c, apperr.Wrap(err, "idempotency: expire"))
		return
	}
	claim := idempotencyRow{
		TenantID: t.ID, ClientID: p.ClientID, Key: key, RequestHash: hash, Header: datatypes.JSON("{}"),
		CreatedAt: now, ExpiresAt: now.Add(IdempotencyTTL),
	}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&claim)
	if res.Error != nil {
		Problem(c, apperr.Wrap(res.Error, "idempotency: claim"))
		return
	}
	if res.RowsAffected == 0 {
		f.replay(c, where, hash)
		return
	}
	w := &capture{ResponseWriter: c.Writer}
	c.Writer = w
	c.Next()
	status := w.Status()
	if status >= 500 || status == http.StatusTooManyRequests {
		if err := where.Session(&gorm.Session{}).Delete(&idempotencyRow{}).Error; err != nil {
			loggerOf(c).Error("idempotency_release_failed", "request_id", web.RequestID(c), "error", err)
		}
		return
	}
	hdr := map[string]string{}
	for _, k := range replayHeaders {
		if v := w.Header().Get(k); v != "" {
			hdr[k] = v
		}
	}
	hb, _ := json.Marshal(hdr)
	err = where.Session(&gorm.Session{}).Model(&idempotencyRow{}).
		Updates(map[string]any{"status": status, "header": datatypes.JSON(hb), "body": w.body.Bytes()}).Error
	if err != nil {
		loggerOf(c).Error("idempotency_store_failed", "request_id", web.RequestID(c), "error", err)
	}
}

var (
	errKeyReused = withType("idempotency-key-reused", &apperr.Error{Code: apperr.Invalid, Field: "Idempotency-Key",
		Message: "This Idempotency-Key was used with a different request. Use a new key for a new request."})
	errKeyBusy = &apperr.Error{Code: apperr.Conflict, Message: "A request with this Idempotency-Key is still being processed. Retry in a moment."}
)

func (f *framework) replay(c *gin.Context, where *gorm.DB, hash string) {
	var row idempotencyRow
	err := where.Session(&gorm.Session{}).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// The first request failed and released the key just now.
		Problem(c, errKeyBusy)
		return
	}
	if err != nil {
		Problem(c, apperr.Wrap(err, "idempotency: read"))
		return
	}
	if row.RequestHash != hash {
		Problem(c, errKeyReused)
		return
	}
	if row.Status == 0 {
		c.Header("Retry-After", "1")
		Problem(c, errKeyBusy)
		return
	}
	var hdr map[string]string
	_ = json.Unmarshal(row.Header, &hdr)
	for k, v := range hdr {
		c.Header(k, v)
	}
	c.Header("Idempotent-Replayed", "true")
	c.Data(row.Status, hdr["Content-Type"], row.Body)
	c.Abort()
}

// capture keeps a copy of the body written, for the idempotency record.
type capture struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *capture) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *capture) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
