package imports

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"gatehouse/apperr"
	views "gatehouse/views/imports"
)

// Upload streams a multipart upload straight into the staging tables:
// the file part is never held whole in memory or on local disk, so any
// node can take any size up to the limit and any worker can read it.
func (h *Handlers) Upload(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	// The server's timeouts suit forms, not gigabytes: while bytes keep
	// coming, each read pushes the read and write deadlines on; a stalled
	// upload still times out.
	c.Request.Body = &slidingDeadline{r: http.MaxBytesReader(c.Writer, c.Request.Body, h.d.MaxUpload+1<<20), rc: http.NewResponseController(c.Writer)}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		h.uploadFailed(c, apperr.Field("file", "Choose a file to upload."))
		return
	}
	var format Format
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			h.uploadFailed(c, apperr.Field("file", "Choose a file to upload."))
			return
		}
		if err != nil {
			h.uploadFailed(c, uploadError(err))
			return
		}
		switch part.FormName() {
		case "format":
			b, _ := io.ReadAll(io.LimitReader(part, 16))
			if format, err = ParseFormat(string(b)); err != nil {
				h.uploadFailed(c, err)
				return
			}
		case "file":
			if part.FileName() == "" {
				h.uploadFailed(c, apperr.Field("file", "Choose a file to upload."))
				return
			}
			j, err := h.d.Service.Stage(c.Request.Context(), t, h.d.Actor(c), part.FileName(), format, &stopOnLimit{r: part, max: h.d.MaxUpload})
			if err != nil {
				h.uploadFailed(c, uploadError(err))
				return
			}
			seeOther(c, jobHref(t, j))
			return
		}
		_ = part.Close()
	}
}

// uploadIdle is how long an upload may send nothing before it is dropped.
const uploadIdle = time.Minute

// slidingDeadline moves the connection's read and write deadlines on as
// data arrives, so the answer to a long upload can still be written.
// Where the writer cannot set deadlines (tests), it only reads.
type slidingDeadline struct {
	r    io.ReadCloser
	rc   *http.ResponseController
	last time.Time
	off  bool
}

func (s *slidingDeadline) Read(p []byte) (int, error) {
	if now := time.Now(); !s.off && now.Sub(s.last) > time.Second {
		if err := s.rc.SetReadDeadline(now.Add(uploadIdle)); err != nil {
			s.off = true
		}
		_ = s.rc.SetWriteDeadline(now.Add(uploadIdle))
		s.last = now
	}
	return s.r.Read(p)
}

func (s *slidingDeadline) Close() error { return s.r.Close() }

// stopOnLimit ends the file at max bytes with a clean "too large", before
// http.MaxBytesReader cuts the connection.
type stopOnLimit struct {
	r   io.Reader
	n   int64
	max int64
}

func (s *stopOnLimit) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.n > s.max {
		return n, &FileError{Reason: "the file is larger than " + humanBytes(s.max) + ", the most one import takes; split it"}
	}
	return n, err
}

// uploadError says what went wrong with an upload in words for its form.
func uploadError(err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return apperr.Field("file", "%s", clipTo(fe.Error(), maxMessage))
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.Field("file", "The file is too large.")
	}
	if apperr.CodeOf(err) == apperr.Internal && strings.Contains(err.Error(), "multipart") {
		return apperr.Field("file", "The upload was cut off; try again.")
	}
	return err
}

func (h *Handlers) uploadFailed(c *gin.Context, err error) {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid {
		h.d.Render.Error(c, err)
		return
	}
	t := h.d.Tenant(c)
	v, lerr := h.listPage(c, t)
	if lerr != nil {
		h.d.Render.Error(c, lerr)
		return
	}
	v.UploadError = e.Message
	h.page(c, http.StatusUnprocessableEntity, "Imports", views.List(v))
}
