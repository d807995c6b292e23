package imports

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

// Submission is a file sent together with everything needed to start a
// pass over it, as the JSON API's POST /imports takes it: there is no
// mapping screen between the upload and the start.
type Submission struct {
	Name   string    // the file's name, for the job list and the report's name
	Format Format    // "" guesses from Name and the first bytes
	Body   io.Reader // streamed into staging, never held whole
	// Mapping holds the mode, the value conventions and the legacy
	// passwords opt-in. Its Columns are the caller's placements, laid over
	// what AutoMap guesses from the file's column names.
	Mapping Mapping
	DryRun  bool
}

// ParseColumnMap reads one COLUMN=TARGET placement, as the CLI's --map
// and the API's map parameter write it. field names the input in errors.
func ParseColumnMap(field, pair string, fields []tenants.Field) (ColumnMap, error) {
	col, target, ok := strings.Cut(pair, "=")
	col = strings.TrimSpace(col)
	if !ok || col == "" {
		return ColumnMap{}, apperr.Field(field, "%q is not COLUMN=TARGET", clip(pair))
	}
	tg, err := ParseTarget(target, fields)
	if err != nil {
		e, _ := apperr.As(err)
		return ColumnMap{}, apperr.Field(field, "column %q: %s", clip(col), e.Message)
	}
	return ColumnMap{Column: col, Target: tg}, nil
}

// Place sends column cm.Column to cm.Target. A target held by another
// column moves to this one, so a placement beats a guess of AutoMap.
func (m *Mapping) Place(cm ColumnMap) {
	found := false
	for i := range m.Columns {
		switch {
		case m.Columns[i].Column == cm.Column:
			m.Columns[i].Target, found = cm.Target, true
		case m.Columns[i].Target == cm.Target && cm.Target != TargetIgnore:
			m.Columns[i].Target = TargetIgnore
		}
	}
	if !found {
		m.Columns = append(m.Columns, cm)
	}
}

// Submit stages sub's body into a new job of tenant t, maps its columns
// (AutoMap, then the submission's placements) and starts the dry run or
// the run, all in one call. Options that do not depend on the file are
// checked before a byte is read. A file that cannot be read returns a
// *FileError naming the line, like Stage; a mapping that does not fit the
// file fails the staged job (its chunks are dropped) and returns the
// Invalid error naming the field.
func (s *Service) Submit(ctx context.Context, t *tenants.Tenant, a Actor, sub Submission) (*Job, error) {
	m := sub.Mapping
	if m.Mode == "" {
		m.Mode = DefaultMode
	}
	if err := m.checkOptions(); err != nil {
		return nil, err
	}
	placed := m.Columns
	j, err := s.Stage(ctx, t, a, sub.Name, sub.Format, sub.Body)
	if err != nil {
		return nil, err
	}
	m.Columns = AutoMap(j.Dialect.Columns, t.Fields, m.LegacyPasswords)
	for _, cm := range placed {
		m.Place(cm)
	}
	if err := m.Check(j.Dialect, t.Fields); err != nil {
		var e *apperr.Error
		reason := "the mapping does not fit the file"
		if errors.As(err, &e) {
			reason = e.Message
		}
		if ferr := s.store.For(t.ID).failReady(context.WithoutCancel(ctx), j.ID, reason); ferr != nil {
			s.log.Error("import_discard_failed", "import_id", j.ID, "error", ferr)
		}
		s.record(ctx, t.ID, a, "import.upload_failed", j, map[string]any{"file": j.FileName, "reason": reason})
		return nil, err
	}
	return s.Start(ctx, t, a, j.ID, m, sub.DryRun)
}

// MaxUpload is the largest file staging accepts, in bytes.
func (s *Service) MaxUpload() int64 { return s.limits.MaxBytes }

// UploadBody wraps a request body that is streamed into staging, as the
// console's upload does: past max bytes it ends with a FileError saying
// the file is too large (before http.MaxBytesReader would cut the
// connection), and while bytes keep coming it moves the connection's
// read and write deadlines on, so a long upload outlasts the server's
// timeouts and a stalled one still times out.
func UploadBody(w http.ResponseWriter, body io.ReadCloser, max int64) io.Reader {
	return &stopOnLimit{r: &slidingDeadline{r: http.MaxBytesReader(w, body, max+1<<20), rc: http.NewResponseController(w)}, max: max}
}

// failReady fails a staged job that will never start, and drops its file.
func (s TenantStore) failReady(ctx context.Context, jobID uuid.UUID, reason string) error {
	if err := s.updateJob(ctx, jobID, []Status{StatusReady}, map[string]any{"status": string(StatusFailed), "error": reason, "chunks": 0}); err != nil {
		return err
	}
	if err := s.q(ctx).Where("job_id = ?", jobID).Delete(&chunkRow{}).Error; err != nil {
		return apperr.Wrap(err, "drop staged chunks")
	}
	return nil
}

// RunAfterDry starts the real run of a file whose dry run has ended, with
// the dry run's mapping, so an API client need not send the file twice.
func (s *Service) RunAfterDry(ctx context.Context, t *tenants.Tenant, a Actor, jobID uuid.UUID) (*Job, error) {
	j, err := s.store.For(t.ID).Job(ctx, jobID)
	if err != nil {
		return nil, err
	}
	if !j.DryRun || j.Run == 0 {
		return nil, apperr.New(apperr.Conflict, "This import is not a dry run: it cannot be run again.")
	}
	return s.Start(ctx, t, a, jobID, j.Mapping, false)
}
