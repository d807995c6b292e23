package cli

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gatehouse/app/imports"
	"gatehouse/tenants"
)

// importRun is one `gatehouse import`: stage the file, settle the mapping,
// start the import and follow it to the end.
func (r *runner) importRun(c *cobra.Command, path string, in importFlags) error {
	ctx := c.Context()
	format, err := imports.ParseFormat(in.format)
	if err != nil {
		return err
	}
	mode, err := imports.ParseMode(in.mode)
	if err != nil {
		return err
	}
	s, err := r.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	t, err := s.tenant(ctx, "tenant", in.slug)
	if err != nil {
		return err
	}
	file, err := os.Open(path)
	if err != nil {
		return Usage(err)
	}
	defer file.Close()
	run, err := r.w.Imports(ctx, r.cfg, s.log, s.db, r.env.Stderr, in.workers, false)
	if err != nil {
		return err
	}
	defer run.Close()
	im := &importing{r: r, run: run, t: t, actor: r.importActor()}
	job, err := im.stage(ctx, path, format, file)
	if err != nil {
		return err
	}
	m := imports.Mapping{Mode: mode, DateLayout: in.dateFormat, DefaultCountry: strings.ToUpper(in.country), LegacyPasswords: in.legacy}
	if m, err = im.mapping(ctx, c, job, m, in); err != nil {
		return err
	}
	return im.follow(ctx, job, m, in)
}

// importing is one import this process drives.
type importing struct {
	r     *runner
	run   *ImportRunner
	t     *tenants.Tenant
	actor imports.Actor
}

// importActor is who the audit log names: the operator's login when known.
func (r *runner) importActor() imports.Actor {
	if u := r.env.Getenv("USER"); u != "" {
		return imports.Actor{Name: "cli:" + u}
	}
	return imports.Actor{Name: "cli"}
}

// stage copies the file into the database and reports its shape. A file
// that does not parse is the operator's to fix: it exits 2, naming the line.
func (im *importing) stage(ctx context.Context, path string, format imports.Format, file *os.File) (*imports.Job, error) {
	started := time.Now()
	im.r.printf("staging %s…\n", path)
	job, err := im.run.Service.Stage(ctx, im.t, im.actor, path, format, file)
	var fe *imports.FileError
	if errors.As(err, &fe) {
		im.r.note("%s: %s", path, fe.Error())
		return nil, exit(exitUsage)
	} else if err != nil {
		return nil, err
	}
	im.r.printf("staged %s rows (%s, %s) in %s\n", thousands(job.Rows), describeDialect(job.Dialect), humanSize(job.SizeBytes), time.Since(started).Round(time.Millisecond))
	return job, nil
}
