package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"gatehouse/app/csvsafe"
	"gatehouse/app/imports"
)

// finishImport prints the outcome and the rejected rows, and writes the
// error report when asked.
func (r *runner) finishImport(ctx context.Context, svc *imports.Service, p imports.Progress, dry bool, errorsPath string) error {
	j := p.Job
	if j.Status != imports.StatusDone {
		msg := "the import is " + string(j.Status)
		if j.Error != "" {
			msg += ": " + j.Error
		}
		r.note("%s", msg)
		return exit(exitFailure)
	}
	r.printCounts(p, dry)
	if p.Counts.Rejected == 0 {
		return nil
	}
	if errorsPath != "" {
		return r.writeErrorReport(ctx, svc, j, errorsPath)
	}
	return r.printRejected(ctx, svc, j, p.Counts.Rejected)
}

func (r *runner) printCounts(p imports.Progress, dry bool) {
	j, c := p.Job, p.Counts
	took := time.Duration(0)
	if j.StartedAt != nil && j.FinishedAt != nil {
		took = j.FinishedAt.Sub(*j.StartedAt)
	}
	verb := []string{"created", "updated"}
	if dry {
		r.printf("dry run, nothing written: ")
		verb = []string{"would create", "would update"}
	} else {
		r.printf("done: ")
	}
	r.printf("%s rows · %s %s · %s %s · %s skipped · %s rejected", thousands(c.Rows), verb[0], thousands(c.Created), verb[1], thousands(c.Updated), thousands(c.Skipped), thousands(c.Rejected))
	if took > 0 {
		r.printf(" · %s (%s rows/s)", took.Round(time.Millisecond), thousands(int64(float64(c.Rows)/took.Seconds())))
	}
	r.printf("\n")
}

func (r *runner) writeErrorReport(ctx context.Context, svc *imports.Service, j *imports.Job, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	werr := svc.WriteErrorReport(ctx, j.TenantID, j.ID, f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return werr
	}
	r.printf("rejected rows, with the reason for each: %s\n", path)
	return nil
}

// printRejected shows the first few rejections; the report has them all.
func (r *runner) printRejected(ctx context.Context, svc *imports.Service, j *imports.Job, rejected int64) error {
	var b strings.Builder
	if err := svc.WriteErrorReport(ctx, j.TenantID, j.ID, &limitWriter{w: &b, max: 64 << 10}); err != nil && !errors.Is(err, errReportCut) {
		return err
	}
	r.printf("rejected rows (write them all, ready to fix and import again, with --errors FILE):\n")
	rd := csv.NewReader(strings.NewReader(b.String()))
	rd.FieldsPerRecord = -1
	shown := 0
	for rec, err := rd.Read(); err == nil && shown < 10; rec, err = rd.Read() {
		if len(rec) < 2 || rec[0] == "line" {
			continue
		}
		r.printf("  line %s: %s\n", rec[0], csvsafe.Restore(rec[1]))
		shown++
	}
	if rejected > int64(shown) {
		r.printf("  … and %s more\n", thousands(rejected-int64(shown)))
	}
	return nil
}

var errReportCut = errors.New("report cut")

// limitWriter stops a report after max bytes.
type limitWriter struct {
	w   io.Writer
	n   int
	max int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, errReportCut
	}
	l.n += len(p)
	return l.w.Write(p)
}
