// Package imports holds the console's import pages: the upload form and
// the list of imports, one import's page (preview, mapping, dry run, run,
// progress, error report) and the "set your password" campaigns. Handlers
// in app/imports fill these view models; no store type reaches a template.
//
// Each page is content for the console's frame: the handler wraps it in
// the console chrome for a full page and sends it alone to htmx. The
// progress panel polls itself with htmx and stops when the pass ends; with
// JavaScript off it has a refresh link.
package imports

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// ListPage is GET /t/:slug/imports.
type ListPage struct {
	Base        string // /t/:slug/imports
	Jobs        []JobRow
	UploadError string
	MaxUpload   string // "2.5 GB"
	Campaigns   CampaignsPanel
}

// JobRow is one import in the list.
type JobRow struct {
	Href     string
	FileName string
	Status   Status
	Rows     string
	Created  string
	Summary  string // "1,000 created · 3 rejected"
}

// Status is a status with how to show it.
type Status struct {
	Label string
	Kind  string // ok, warn, off, or "" for neutral
}

// JobPage is GET /t/:slug/imports/:id.
type JobPage struct {
	Base      string
	Href      string
	FileName  string
	Status    Status
	Created   string
	CreatedBy string
	Format    string
	Size      string
	Rows      string
	Error     string
	Preview   PreviewTable
	Mapping   *MappingForm // nil when the job cannot start a pass
	Progress  ProgressPanel
	Dry       *Counts
	Run       *Counts
	Controls  Controls
}

// PreviewTable is the first rows of the file.
type PreviewTable struct {
	Columns []string
	Rows    []PreviewRow
}

// PreviewRow is one row of the preview.
type PreviewRow struct {
	Line   string
	Values []string
	Error  string
}

// MappingForm chooses where each column goes and how values are read.
type MappingForm struct {
	Action      string // POST target
	Columns     []MappingColumn
	Modes       []Option
	DateLayouts []Option
	Country     string
	Legacy      bool
	Saved       []Option // saved mappings, for the "use" form
	SavedAction string   // GET target of the "use" form
	SaveAs      string
	Error       string
	HasRun      bool // a dry run was done: the real run is the main button
}

// MappingColumn is one column's row in the mapping form.
type MappingColumn struct {
	Index   string
	Name    string
	Sample  string
	Targets []Option
}

// ProgressPanel is the progress bar and counts of the current pass.
type ProgressPanel struct {
	Href          string // polled while Active
	Active        bool
	DryRun        bool
	Status        Status
	Phase         string
	Percent       int
	PercentText   string
	Done          string // "450,000 of 1,000,000 rows"
	RowsPerSecond string
	ETA           string
	Counts        Counts
	Error         string
	Started       bool
}

// Counts are a pass's outcome.
type Counts struct {
	Rows, Created, Updated, Skipped, Rejected string
	ReportHref                                string // empty when nothing was rejected
}

// Controls are the buttons that stop and restart a pass.
type Controls struct {
	PauseAction, ResumeAction, CancelAction string // empty hides the button
}

// CampaignsPanel lists "set your password" campaigns and starts one.
type CampaignsPanel struct {
	Action     string
	Candidates string // customers who would get the mail now
	// CandidatesText is "1 customer has" or "3 customers have".
	CandidatesText string
	// Running is true while a campaign is sending: its recipients are no
	// longer candidates, which must not read as "everyone has a password".
	Running       bool
	Rows          []CampaignRow
	Rate          string
	RemindDays    string
	Error         string
	HasCandidates bool
}

// CampaignRow is one campaign.
type CampaignRow struct {
	Status     Status
	Started    string
	Recipients string
	Sent       string
	Reminded   string
	Used       string
	Rate       string
	Remind     string
	StopAction string // empty when it cannot be stopped
}

// CampaignConfirm asks before a campaign starts.
type CampaignConfirm struct {
	Action, Cancel       string
	Rate, RemindDays     string // the form's values, sent again on confirm
	Recipients, Throttle string // "120 customers", "100 mails a minute"
	Duration             string // "about 2 minutes"; empty when nothing to send
	Reminder             string
}

// OverwriteConfirm asks before an upsert or update run changes customers
// the tenant already has.
type OverwriteConfirm struct {
	Action, Cancel string
	Mode           string   // upsert or update
	Fields         []Hidden // the mapping form, sent again on confirm
	Known          bool     // a dry run of this mode counted the changes
	Changes        string   // "3 existing customers"
}

// Hidden is one hidden form field.
type Hidden struct{ Name, Value string }
