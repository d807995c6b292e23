package imports

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Events hears that an import finished, inside the transaction that marks
// it done, so the report commits with it. app wires webhooks.Service in.
type Events interface {
	Emit(ctx context.Context, tx *gorm.DB, tenantID uuid.UUID, event string, data func() (any, error)) error
}

// EventCompleted is sent when a real (not dry) pass has applied every row.
const EventCompleted = "import.completed"

// CompletedData is the body of import.completed.
type CompletedData struct {
	JobID      uuid.UUID `json:"job_id"`
	FileName   string    `json:"file_name"`
	Rows       int64     `json:"rows"`
	Created    int64     `json:"created"`
	Updated    int64     `json:"updated"`
	Skipped    int64     `json:"skipped"`
	Rejected   int64     `json:"rejected"`
	FinishedAt time.Time `json:"finished_at"`
}

// WithEvents makes the store report finished imports to e.
func (s *Store) WithEvents(e Events) *Store {
	s.events = e
	return s
}

func (s TenantStore) emitCompleted(ctx context.Context, j *Job, c Counts, at time.Time) error {
	if s.events == nil {
		return nil
	}
	return s.events.Emit(ctx, s.db, s.tenantID, EventCompleted, func() (any, error) {
		return CompletedData{
			JobID: j.ID, FileName: j.FileName, Rows: c.Rows, Created: c.Created, Updated: c.Updated,
			Skipped: c.Skipped, Rejected: c.Rejected, FinishedAt: at,
		}, nil
	})
}
