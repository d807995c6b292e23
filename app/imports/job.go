package imports

import (
	"time"

	"github.com/google/uuid"
)

// Status is where an import stands, as the console shows it.
type Status string

// The statuses.
const (
	StatusStaging   Status = "staging"   // the file is being uploaded
	StatusReady     Status = "ready"     // uploaded; waiting for a mapping and a dry run or run
	StatusQueued    Status = "queued"    // a pass was started; no worker has taken it yet
	StatusRunning   Status = "running"   // workers are on it
	StatusPaused    Status = "paused"    // stopped by staff; resume goes on where it stopped
	StatusCancelled Status = "cancelled" // stopped for good; chunks already applied stay applied
	StatusFailed    Status = "failed"    // stopped by an error; resume retries
	StatusDone      Status = "done"      // the pass finished
)

// Active reports whether workers should be working on the job.
func (s Status) Active() bool { return s == StatusQueued || s == StatusRunning }

// Phase is the step of a pass. Every pass scans each chunk (recording each
// row's email), finds the emails the file holds more than once, then
// applies each chunk (or, in a dry run, only classifies its rows).
type Phase string

// The phases.
const (
	PhaseScan  Phase = "scan"
	PhaseDedup Phase = "dedup"
	PhaseApply Phase = "apply"
)

// Counts are what a pass did with the file's rows. Created + Updated +
// Skipped + Rejected = Rows once the pass is done.
type Counts struct {
	Rows     int64 `json:"rows"`
	Created  int64 `json:"created"`
	Updated  int64 `json:"updated"`
	Skipped  int64 `json:"skipped"`
	Rejected int64 `json:"rejected"`
}

// Result keeps the counts of the last finished dry run and real run.
type Result struct {
	Dry *Counts `json:"dry,omitempty"`
	Run *Counts `json:"run,omitempty"`
	// DryPass is the pass number of the dry run counted in Dry, whose
	// rejected rows are kept for its report after the real run.
	DryPass int `json:"dry_pass,omitempty"`
	// Preview is the file's first rows, kept when a real run drops the
	// staged file, so the job page still shows what was imported.
	Preview *Preview `json:"preview,omitempty"`
}

// Job is one uploaded file and what is being done with it.
type Job struct {
	ID         uuid.UUID
	TenantID   uuid.UUID
	FileName   string
	Dialect    Dialect
	SizeBytes  int64
	Rows       int64
	Chunks     int
	Mapping    Mapping
	Status     Status
	Phase      Phase
	DryRun     bool // the current (or last) pass writes no customer
	Run        int  // the current pass's number; 0 before the first
	Attempt    int  // bumped by each resume, so resumed tasks get fresh ids
	Error      string
	Result     Result
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// HasRun reports whether a real (not dry) pass has started: the file
// cannot be started again after that, only resumed.
func (j *Job) HasRun() bool { return j.Run > 0 && !j.DryRun }

// Startable reports whether a new pass (dry run or run) may begin: after
// upload, after a finished or failed dry run, or after a cancelled dry run.
func (j *Job) Startable() bool {
	switch j.Status {
	case StatusReady:
		return true
	case StatusDone, StatusFailed, StatusCancelled:
		return j.DryRun
	}
	return false
}

// Rejected is a row the pass refused, with why.
type Rejected struct {
	Line   int64
	Column string
	Reason string
	Raw    string // the row as the file had it (JSON array of CSV values, or the JSON line)
}
