// Package logos keeps each tenant's logo: checked from its bytes (PNG,
// JPEG or WebP, at most 1 MB, never SVG, which can carry script), stored in
// the tenant_logos table, and served from the tenant's own host with a
// content-hashed URL so browsers may cache it for a year.
package logos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of JPEG logos
	_ "image/png"  // DecodeConfig of PNG logos
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

// MaxSize is the largest logo accepted, in bytes.
const MaxSize = 1 << 20

// MaxDimension bounds a logo's width and height in pixels, so a small file
// cannot decode into a huge image in a browser.
const MaxDimension = 4096

// Logo is one stored logo.
type Logo struct {
	ContentType string
	Data        []byte
	SHA256      string // hex; the URL's version
	UpdatedAt   time.Time
}

// Version is the short content hash that versions the logo's URL.
func (l Logo) Version() string {
	if len(l.SHA256) < 12 {
		return l.SHA256
	}
	return l.SHA256[:12]
}

type row struct {
	TenantID    uuid.UUID
	ContentType string
	Data        []byte
	Sha256      string
	UpdatedAt   time.Time
}

func (row) TableName() string { return "tenant_logos" }

// Store keeps logos. Every method takes the tenant and queries by it.
type Store struct {
	db *gorm.DB
}

// NewStore returns a store on db.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// Check returns the content type of a logo file judged from its bytes
// alone (the name and the browser's claimed type are ignored), or an
// Invalid error on field "logo" that says what is wrong.
func Check(data []byte) (string, error) {
	if len(data) == 0 {
		return "", apperr.Field("logo", "choose an image file to upload")
	}
	if len(data) > MaxSize {
		return "", TooLarge(int64(len(data)))
	}
	head := data[:min(len(data), 1024)]
	if looksLikeSVG(head) {
		return "", apperr.Field("logo", "SVG images are not accepted, because they can carry scripts; upload a PNG, JPEG or WebP")
	}
	if bytes.HasPrefix(data, []byte("MZ")) || bytes.HasPrefix(data, []byte("\x7fELF")) {
		return "", apperr.Field("logo", "this file is a program, not an image; upload a PNG, JPEG or WebP")
	}
	ct := http.DetectContentType(data)
	switch ct {
	case "image/png", "image/jpeg":
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return "", apperr.Field("logo", "this image is damaged or incomplete; upload it again")
		}
		if cfg.Width > MaxDimension || cfg.Height > MaxDimension || cfg.Width == 0 || cfg.Height == 0 {
			return "", apperr.Field("logo", "the image is %d×%d pixels; at most %d×%d are allowed", cfg.Width, cfg.Height, MaxDimension, MaxDimension)
		}
	case "image/webp":
		if len(data) < 16 || !bytes.Equal(data[12:15], []byte("VP8")) {
			return "", apperr.Field("logo", "this image is damaged or incomplete; upload it again")
		}
	default:
		return "", apperr.Field("logo", "this file is not a PNG, JPEG or WebP image")
	}
	return ct, nil
}

// TooLarge is the error for a logo over MaxSize; size may be an estimate
// (a request body cut off at the limit).
func TooLarge(size int64) error {
	return apperr.Field("logo", "the file is %s; a logo may be at most 1 MB", humanSize(size))
}

func humanSize(n int64) string {
	if n >= 1<<20 {
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	}
	return strconv.FormatInt((n+1023)/1024, 10) + " KB"
}

// looksLikeSVG spots SVG (and any XML) however it starts: a BOM, an XML
// declaration, a comment or the <svg tag itself.
func looksLikeSVG(head []byte) bool {
	h := bytes.ToLower(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"))
	return bytes.HasPrefix(h, []byte("<?xml")) || bytes.HasPrefix(h, []byte("<svg")) ||
		bytes.HasPrefix(h, []byte("<!--")) || bytes.HasPrefix(h, []byte("<!doctype svg")) || bytes.Contains(h, []byte("<svg"))
}

// Put checks data and stores it as the tenant's logo, replacing any other.
func (s *Store) Put(ctx context.Context, tenantID uuid.UUID, data []byte) (Logo, error) {
	if tenantID == uuid.Nil {
		return Logo{}, apperr.New(apperr.Invalid, "tenant required")
	}
	ct, err := Check(data)
	if err != nil {
		return Logo{}, err
	}
	sum := sha256.Sum256(data)
	r := row{TenantID: tenantID, ContentType: ct, Data: data, Sha256: hex.EncodeToString(sum[:]), UpdatedAt: time.Now().UTC()}
	err = s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"content_type", "data", "sha256", "updated_at"}),
	}).Create(&r).Error
	if err != nil {
		return Logo{}, apperr.Wrap(err, "store logo")
	}
	return fromRow(r), nil
}

// Get returns the tenant's logo, or NotFound.
func (s *Store) Get(ctx context.Context, tenantID uuid.UUID) (Logo, error) {
	var r row
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || tenantID == uuid.Nil {
		return Logo{}, errNoLogo
	}
	if err != nil {
		return Logo{}, apperr.Wrap(err, "find logo")
	}
	return fromRow(r), nil
}

// URL returns the path of the tenant's logo on its host, versioned by
// content ("/logo?v=3f2a1b9c0d11"), or "" when it has none. It reads only
// the hash, never the image.
func (s *Store) URL(ctx context.Context, tenantID uuid.UUID) (string, error) {
	var r row
	err := s.db.WithContext(ctx).Select("sha256").Where("tenant_id = ?", tenantID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || tenantID == uuid.Nil {
		return "", nil
	}
	if err != nil {
		return "", apperr.Wrap(err, "find logo")
	}
	return "/logo?v=" + fromRow(r).Version(), nil
}

// Delete removes the tenant's logo; having none is not an error.
func (s *Store) Delete(ctx context.Context, tenantID uuid.UUID) error {
	if err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Delete(&row{}).Error; err != nil {
		return apperr.Wrap(err, "delete logo")
	}
	return nil
}

var errNoLogo = apperr.New(apperr.NotFound, "no logo")

func fromRow(r row) Logo {
	return Logo{ContentType: r.ContentType, Data: r.Data, SHA256: r.Sha256, UpdatedAt: r.UpdatedAt.UTC()}
}

// Serve answers GET /logo on a tenant's host (mount it in the group that
// runs tenants.Middleware). The image is sent with its sniffed type, no
// sniffing allowed to the browser, and a CSP that would keep any script
// inert; a request carrying the current version may be cached for a year.
func Serve(s *Store, fail func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		t := tenants.FromGin(c)
		if t == nil {
			fail(c, apperr.New(apperr.NotFound, "page not found"))
			return
		}
		l, err := s.Get(c.Request.Context(), t.ID)
		if err != nil {
			fail(c, err)
			return
		}
		Write(c, l)
	}
}

// Write sends a logo as the response.
func Write(c *gin.Context, l Logo) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", fmt.Sprintf("%q", l.Version()))
	if c.Query("v") == l.Version() {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if match := c.GetHeader("If-None-Match"); match != "" && match == h.Get("ETag") {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, l.ContentType, l.Data)
}
