package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/datatypes"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// streamIdempotent is idempotent for a POST whose body is a file streamed
// into an import: the framework's version reads the body before the
// handler, which a 2.5 GB file must not be. Here the body is hashed as the
// handler streams it, and the hash is stored with the answer. A retry with
// the key hashes its own body as it reads it (holding nothing) and gets
// the first answer again when the bodies match, 422 idempotency-key-reused
// when they do not, and 409 while the first request still runs. Only an
// accepted import is kept: any other answer frees the key, so the retry
// runs for real and gets the same refusal, or succeeds.
func (f *framework) streamIdempotent(maxBody func() int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.GetHeader("Idempotency-Key")
		if key == "" {
			c.Next()
			return
		}
		if len(key) > 255 {
			Problem(c, apperr.Field("Idempotency-Key", "must be at most 255 characters"))
			return
		}
		p := PrincipalOf(c)
		t := tenants.FromGin(c)
		now := time.Now().UTC()
		db := f.d.DB.WithContext(c.Request.Context())
		where := db.Where("tenant_id = ? AND client_id = ? AND key = ?", t.ID, p.ClientID, key)
		if err := where.Session(&gorm.Session{}).Where("expires_at <= ?", now).Delete(&idempotencyRow{}).Error; err != nil {
			Problem(c, apperr.Wrap(err, "idempotency: expire"))
			return
		}
		claim := idempotencyRow{
			TenantID: t.ID, ClientID: p.ClientID, Key: key, Header: datatypes.JSON("{}"),
			CreatedAt: now, ExpiresAt: now.Add(IdempotencyTTL),
		}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&claim)
		if res.Error != nil {
			Problem(c, apperr.Wrap(res.Error, "idempotency: claim"))
			return
		}
		h := requestHasher(c)
		if res.RowsAffected == 0 {
			f.replayStreamed(c, where, h, maxBody())
			return
		}
		c.Request.Body = hashingBody{r: c.Request.Body, h: h}
		w := &capture{ResponseWriter: c.Writer}
		c.Writer = w
		c.Next()
		if w.Status() != http.StatusAccepted {
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
		err := where.Session(&gorm.Session{}).Model(&idempotencyRow{}).Updates(map[string]any{
			"request_hash": hex.EncodeToString(h.Sum(nil)), "status": w.Status(), "header": datatypes.JSON(hb), "body": w.body.Bytes(),
		}).Error
		if err != nil {
			loggerOf(c).Error("idempotency_store_failed", "request_id", web.RequestID(c), "error", err)
		}
	}
}

// requestHasher starts the hash of a request with what, besides the body,
// makes two imports the same: the path, the options and the format.
func requestHasher(c *gin.Context) hash.Hash {
	h := sha256.New()
	h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "?" + c.Request.URL.RawQuery + "\n" + c.GetHeader("Content-Type") + "\n"))
	return h
}

// replayStreamed answers a retry: busy while the first request runs,
// otherwise the first answer if this body hashes the same.
func (f *framework) replayStreamed(c *gin.Context, where *gorm.DB, h hash.Hash, max int64) {
	var row idempotencyRow
	err := where.Session(&gorm.Session{}).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		Problem(c, errKeyBusy) // the first request failed and released the key just now
		return
	case err != nil:
		Problem(c, apperr.Wrap(err, "idempotency: read"))
		return
	case row.Status == 0:
		c.Header("Retry-After", "1")
		Problem(c, errKeyBusy)
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, max+1)
	if _, err := io.Copy(h, body); err != nil {
		Problem(c, apperr.Field("body", "could not be read to compare it with the first request's"))
		return
	}
	f.replay(c, where, hex.EncodeToString(h.Sum(nil)))
}

// hashingBody hashes what the handler reads.
type hashingBody struct {
	r io.ReadCloser
	h hash.Hash
}

func (b hashingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	return n, err
}

func (b hashingBody) Close() error { return b.r.Close() }
