package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/imports"
)

// follow starts the import and prints its progress until it ends, then
// its outcome.
func (im *importing) follow(ctx context.Context, job *imports.Job, m imports.Mapping, in importFlags) error {
	if _, err := im.run.Service.Start(ctx, im.t, im.actor, job.ID, m, in.dry); err != nil {
		return err
	}
	what := "importing"
	if in.dry {
		what = "dry run"
	}
	im.r.printf("%s (import %s, mode %s)…\n", what, job.ID, m.Mode)
	p, err := im.watch(ctx, job.ID)
	if err != nil {
		if ctx.Err() != nil {
			im.interrupted(job.ID)
			return exit(exitFailure)
		}
		return err
	}
	return im.r.finishImport(ctx, im.run.Service, p, in.dry, in.errorsPath)
}

// watch prints the progress at most once a second until the pass ends.
// It looks ten times a second (one small query), so the command ends
// when the import does, not up to a second later.
func (im *importing) watch(ctx context.Context, jobID uuid.UUID) (imports.Progress, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last, printed := "", time.Time{}
	for {
		p, err := im.run.Service.Progress(ctx, im.t.ID, jobID)
		if err != nil {
			return p, err
		}
		switch p.Job.Status {
		case imports.StatusDone, imports.StatusFailed, imports.StatusCancelled, imports.StatusPaused:
			return p, nil
		}
		if line := progressLine(p); line != last && time.Since(printed) >= time.Second {
			im.r.printf("%s\n", line)
			last, printed = line, time.Now()
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-tick.C:
		}
	}
}

func progressLine(p imports.Progress) string {
	line := fmt.Sprintf("  %3d%% · %s of %s rows", p.Percent, thousands(p.Applied), thousands(p.Job.Rows))
	if p.RowsPerSecond >= 1 {
		line += fmt.Sprintf(" · %s rows/s", thousands(int64(p.RowsPerSecond)))
	}
	if p.ETA > 0 {
		line += " · ETA " + p.ETA.Round(time.Second).String()
	}
	return line
}

// interrupted says what becomes of a job the CLI stops following: with
// Redis, other workers carry on; in process, nothing will, so it is paused.
func (im *importing) interrupted(jobID uuid.UUID) {
	if !im.run.Local {
		im.r.note("stopped watching import %s; any `gatehouse worker` carries it on", jobID)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = im.run.Service.Pause(ctx, im.t.ID, im.actor, jobID)
	im.r.note("interrupted; import %s is paused (resume it in the console)", jobID)
}
