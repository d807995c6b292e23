package app

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/apperr"
	"gatehouse/app/audit"
	"gatehouse/app/csvsafe"
	"gatehouse/app/db"
	"gatehouse/app/imports"
	"gatehouse/app/passwords"
	"gatehouse/app/tokens"
	"gatehouse/config"
	"gatehouse/jobs"
	"gatehouse/tenants"
)

const importUsage = `usage:
  gatehouse import --tenant S FILE [--format csv|jsonl] [--map COLUMN=TARGET,...] [--mode create|upsert|update] [--dry-run]
                   [--date-format DD/MM/YYYY] [--country DE] [--legacy-passwords] [--mapping NAME] [--save-mapping NAME]
                   [--errors REPORT.csv] [--workers N]
  gatehouse import work [--concurrency N]     run a worker for imports only (the bulk queue)

TARGET is email, email_verified, password_hash, created_at, ignore, or a registration field's key.
Columns not named in --map are mapped by their names (email, e-mail, verified, created_at, a field's
key or label) or ignored.`

// runImport imports a file of customers through the same pipeline as the
// console: the file is staged in the database, and its steps run on the
// bulk queue. This process works on them too, so an import needs no
// separate worker; with no Redis configured it runs them all in process.
func runImport(ctx context.Context, env *Env, args []string) int {
	if len(args) > 0 && args[0] == "work" {
		return runImportWorker(ctx, env, args[1:])
	}
	var (
		slug, format, mode, dateFormat, country, mapName, saveName, errorsPath string
		maps                                                                   stringList
		dry, legacy                                                            bool
		workers                                                                int
	)
	cfg, fs, ok := loadConfig(env, "import", args, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "tenant", "", "the tenant's slug")
		fs.StringVar(&format, "format", "", "csv or jsonl (default: from the file name and content)")
		fs.Var(&maps, "map", "COLUMN=TARGET pairs, comma-separated (repeatable)")
		fs.StringVar(&mode, "mode", "upsert", "create, upsert or update")
		fs.BoolVar(&dry, "dry-run", false, "validate every row and count what would happen; write no customer")
		fs.StringVar(&dateFormat, "date-format", "", "how dates are written, e.g. DD/MM/YYYY (default YYYY-MM-DD)")
		fs.StringVar(&country, "country", "", "country of phone numbers written without +code, e.g. DE")
		fs.BoolVar(&legacy, "legacy-passwords", false, "import password hashes (bcrypt, argon2, PBKDF2, scrypt); they are re-hashed at first login")
		fs.StringVar(&mapName, "mapping", "", "start from the mapping saved under this name")
		fs.StringVar(&saveName, "save-mapping", "", "save the mapping under this name for the next file")
		fs.StringVar(&errorsPath, "errors", "", "write the rejected rows, with a reason column, to this CSV file")
		fs.IntVar(&workers, "workers", 2, "chunks this process works on at once")
	})
	if !ok {
		return exitUsage
	}
	// Flags may follow the file name.
	var files []string
	for rest := fs.Args(); len(rest) > 0; rest = fs.Args() {
		files = append(files, rest[0])
		if err := fs.Parse(rest[1:]); err != nil {
			return exitUsage
		}
	}
	if len(files) != 1 || slug == "" {
		fmt.Fprintln(env.Stderr, importUsage)
		return exitUsage
	}
	path := files[0]
	fmtFlag, err := imports.ParseFormat(format)
	if err != nil {
		return fail(env, err)
	}
	modeFlag, err := imports.ParseMode(mode)
	if err != nil {
		return fail(env, err)
	}
	cliFallbacks(cfg, env)
	if err := cfg.Validate(config.NeedDatabase); err != nil {
		return fail(env, fmt.Errorf("%w: %v", errUsage, err))
	}
	log := newLogger(cfg, env.Stderr)
	database, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return fail(env, err)
	}
	defer database.Close()
	tenantStore := tenants.NewStore(database.Gorm)
	t, err := tenantStore.BySlug(ctx, slug)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return fail(env, apperr.Field("tenant", "no tenant has the slug %q", slug))
		}
		return fail(env, err)
	}
	file, err := os.Open(path)
	if err != nil {
		return fail(env, fmt.Errorf("%w: %v", errUsage, err))
	}
	defer file.Close()

	w, err := newImportWorker(ctx, env, cfg, log, database, workers, false)
	if err != nil {
		return fail(env, err)
	}
	defer w.close()
	svc := w.svc
	actor := imports.Actor{Name: "cli"}
	if u := env.Getenv("USER"); u != "" {
		actor.Name = "cli:" + u
	}

	started := time.Now()
	fmt.Fprintf(env.Stdout, "staging %s…\n", path)
	job, err := svc.Stage(ctx, t, actor, path, fmtFlag, file)
	if err != nil {
		var fe *imports.FileError
		if errors.As(err, &fe) {
			fmt.Fprintf(env.Stderr, "gatehouse: %s: %s\n", path, fe.Error())
			return exitUsage
		}
		return fail(env, err)
	}
	fmt.Fprintf(env.Stdout, "staged %s rows (%s, %s) in %s\n", thousands(job.Rows), describeDialect(job.Dialect), humanSize(job.SizeBytes), time.Since(started).Round(time.Millisecond))

	m := imports.Mapping{Mode: modeFlag, DateLayout: dateFormat, DefaultCountry: strings.ToUpper(country), LegacyPasswords: legacy}
	if mapName != "" {
		saved, err := svc.Mapping(ctx, t.ID, mapName)
		if err != nil {
			return fail(env, err)
		}
		m = mergeFlags(saved, m, fs)
	} else {
		m.Columns = imports.AutoMap(job.Dialect.Columns, t.Fields, legacy)
	}
	if err := applyMapFlags(&m, maps, t.Fields); err != nil {
		return fail(env, err)
	}
	printMapping(env.Stdout, m, t.Fields)
	if err := m.Check(job.Dialect, t.Fields); err != nil {
		return fail(env, err)
	}
	if saveName != "" {
		if err := svc.SaveMapping(ctx, t.ID, actor, saveName, m); err != nil {
			return fail(env, err)
		}
		fmt.Fprintf(env.Stdout, "saved the mapping as %q\n", saveName)
	}
	if _, err := svc.Start(ctx, t, actor, job.ID, m, dry); err != nil {
		return fail(env, err)
	}
	what := "importing"
	if dry {
		what = "dry run"
	}
	fmt.Fprintf(env.Stdout, "%s (import %s, mode %s)…\n", what, job.ID, m.Mode)
	p, err := followImport(ctx, env, svc, t.ID, job.ID)
	if err != nil {
		if ctx.Err() != nil {
			w.interrupted(t.ID, job.ID, actor)
			return exitFailure
		}
		return fail(env, err)
	}
	return finishImport(ctx, env, svc, p, dry, errorsPath)
}

// importWorker is the import service of a CLI run, with whatever runs its
// steps: an asynq server on the bulk queue when Redis is configured (other
// workers then share the work), else a queue in this process. A dedicated
// worker (withCampaigns) also sends "set your password" campaign mail.
type importWorker struct {
	env   *Env
	svc   *imports.Service
	local *imports.LocalQueue
	stop  func()
}

func newImportWorker(ctx context.Context, env *Env, cfg *config.Config, log *slog.Logger, database *db.DB, workers int, withCampaigns bool) (*importWorker, error) {
	store, err := imports.NewStore(database.Gorm)
	if err != nil {
		return nil, err
	}
	svc := imports.NewService(imports.Deps{
		Store: store, Tenants: tenants.NewStore(database.Gorm), Audit: audit.NewRecorder(database.Gorm, log), Log: log, Window: workers,
	})
	w := &importWorker{env: env, svc: svc}
	if cfg.RedisURL == "" {
		qctx, cancel := context.WithCancel(ctx)
		w.local = imports.NewLocalQueue(qctx, svc, workers)
		svc.SetQueue(w.local)
		w.stop = func() { cancel(); w.local.Wait() }
		fmt.Fprintln(env.Stderr, "gatehouse: GATEHOUSE_REDIS_URL is not set; the import runs in this process only")
		return w, nil
	}
	rc, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	client := jobs.NewClient(rc.asynq)
	svc.SetQueue(client)
	var campaigns jobs.CampaignWorker
	if withCampaigns {
		campaigns = imports.NewCampaigns(imports.CampaignDeps{
			DB: database.Gorm, Tokens: tokens.NewStore(database.Gorm), Accounts: accounts.NewStore(database.Gorm),
			Hasher: passwords.NewHasher(passwords.Default, 0, 2*time.Second), Policy: passwords.NewPolicy(),
			Queue: client, Tenants: tenants.NewStore(database.Gorm), MailFrom: cfg.MailFrom, Audit: audit.NewRecorder(database.Gorm, log),
			Links: func(t *tenants.Tenant, p string) string { return cfg.PublicURL(t.Host(cfg.BaseDomain)) + p },
		})
	}
	srv, mux := jobs.ImportServer(rc.asynq, workers, svc, campaigns, log)
	if err := srv.Start(mux); err != nil {
		client.Close()
		rc.client.Close()
		return nil, err
	}
	w.stop = func() {
		srv.Shutdown()
		client.Close()
		rc.client.Close()
	}
	return w, nil
}

func (w *importWorker) close() { w.stop() }

// interrupted says what becomes of a job the CLI stops following: with
// Redis, other workers carry on; in process, nothing will, so it is paused.
func (w *importWorker) interrupted(tenantID, jobID uuid.UUID, actor imports.Actor) {
	if w.local == nil {
		fmt.Fprintf(w.env.Stderr, "gatehouse: stopped watching import %s; any `gatehouse worker` carries it on\n", jobID)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.svc.Pause(ctx, tenantID, actor, jobID)
	fmt.Fprintf(w.env.Stderr, "gatehouse: interrupted; import %s is paused (resume it in the console)\n", jobID)
}

// followImport prints the progress once a second until the pass ends.
func followImport(ctx context.Context, env *Env, svc *imports.Service, tenantID, jobID uuid.UUID) (imports.Progress, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := ""
	for {
		p, err := svc.Progress(ctx, tenantID, jobID)
		if err != nil {
			return p, err
		}
		switch p.Job.Status {
		case imports.StatusDone, imports.StatusFailed, imports.StatusCancelled, imports.StatusPaused:
			return p, nil
		}
		line := fmt.Sprintf("  %3d%% · %s of %s rows", p.Percent, thousands(p.Applied), thousands(p.Job.Rows))
		if p.RowsPerSecond >= 1 {
			line += fmt.Sprintf(" · %s rows/s", thousands(int64(p.RowsPerSecond)))
		}
		if p.ETA > 0 {
			line += " · ETA " + p.ETA.Round(time.Second).String()
		}
		if line != last {
			fmt.Fprintln(env.Stdout, line)
			last = line
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-tick.C:
		}
	}
}

// finishImport prints the outcome and the rejected rows, and writes the
// error report when asked.
func finishImport(ctx context.Context, env *Env, svc *imports.Service, p imports.Progress, dry bool, errorsPath string) int {
	j := p.Job
	if j.Status != imports.StatusDone {
		fmt.Fprintf(env.Stderr, "gatehouse: the import is %s", j.Status)
		if j.Error != "" {
			fmt.Fprintf(env.Stderr, ": %s", j.Error)
		}
		fmt.Fprintln(env.Stderr)
		return exitFailure
	}
	c := p.Counts
	took := time.Duration(0)
	if j.StartedAt != nil && j.FinishedAt != nil {
		took = j.FinishedAt.Sub(*j.StartedAt)
	}
	verb := []string{"created", "updated"}
	if dry {
		fmt.Fprint(env.Stdout, "dry run, nothing written: ")
		verb = []string{"would create", "would update"}
	} else {
		fmt.Fprint(env.Stdout, "done: ")
	}
	fmt.Fprintf(env.Stdout, "%s rows · %s %s · %s %s · %s skipped · %s rejected", thousands(c.Rows), verb[0], thousands(c.Created), verb[1], thousands(c.Updated), thousands(c.Skipped), thousands(c.Rejected))
	if took > 0 {
		fmt.Fprintf(env.Stdout, " · %s (%s rows/s)", took.Round(time.Millisecond), thousands(int64(float64(c.Rows)/took.Seconds())))
	}
	fmt.Fprintln(env.Stdout)
	if c.Rejected == 0 {
		return exitOK
	}
	if errorsPath != "" {
		f, err := os.Create(errorsPath)
		if err != nil {
			return fail(env, err)
		}
		werr := svc.WriteErrorReport(ctx, j.TenantID, j.ID, f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fail(env, werr)
		}
		fmt.Fprintf(env.Stdout, "rejected rows, with the reason for each: %s\n", errorsPath)
		return exitOK
	}
	// Show the first few rejections; the report has them all.
	var b strings.Builder
	if err := svc.WriteErrorReport(ctx, j.TenantID, j.ID, &limitWriter{w: &b, max: 64 << 10}); err != nil && !errors.Is(err, errReportCut) {
		return fail(env, err)
	}
	fmt.Fprintln(env.Stdout, "rejected rows (write them all, ready to fix and import again, with --errors FILE):")
	r := csv.NewReader(strings.NewReader(b.String()))
	r.FieldsPerRecord = -1
	shown := 0
	for rec, err := r.Read(); err == nil && shown < 10; rec, err = r.Read() {
		if len(rec) < 2 || rec[0] == "line" {
			continue
		}
		fmt.Fprintf(env.Stdout, "  line %s: %s\n", rec[0], csvsafe.Restore(rec[1]))
		shown++
	}
	if c.Rejected > int64(shown) {
		fmt.Fprintf(env.Stdout, "  … and %s more\n", thousands(c.Rejected-int64(shown)))
	}
	return exitOK
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

// mergeFlags lays the flags given on the command line over a saved mapping.
func mergeFlags(saved, flags imports.Mapping, fs *flag.FlagSet) imports.Mapping {
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "mode":
			saved.Mode = flags.Mode
		case "date-format":
			saved.DateLayout = flags.DateLayout
		case "country":
			saved.DefaultCountry = flags.DefaultCountry
		case "legacy-passwords":
			saved.LegacyPasswords = flags.LegacyPasswords
		}
	})
	return saved
}

// applyMapFlags sets the columns named by --map COLUMN=TARGET,….
func applyMapFlags(m *imports.Mapping, maps stringList, fields []tenants.Field) error {
	for _, list := range maps {
		for _, pair := range strings.Split(list, ",") {
			if strings.TrimSpace(pair) == "" {
				continue
			}
			col, target, ok := strings.Cut(pair, "=")
			col = strings.TrimSpace(col)
			if !ok || col == "" {
				return apperr.Field("map", "%q is not COLUMN=TARGET", pair)
			}
			tg, err := imports.ParseTarget(target, fields)
			if err != nil {
				return err
			}
			found := false
			for i := range m.Columns {
				if m.Columns[i].Column == col {
					m.Columns[i].Target, found = tg, true
				} else if m.Columns[i].Target == tg && tg != imports.TargetIgnore {
					// The target moves to the column named here.
					m.Columns[i].Target = imports.TargetIgnore
				}
			}
			if !found {
				m.Columns = append(m.Columns, imports.ColumnMap{Column: col, Target: tg})
			}
		}
	}
	return nil
}

func printMapping(w io.Writer, m imports.Mapping, fields []tenants.Field) {
	var ignored []string
	fmt.Fprintln(w, "mapping:")
	for _, c := range m.Columns {
		if c.Target == imports.TargetIgnore || c.Target == "" {
			ignored = append(ignored, strconv.Quote(c.Column))
			continue
		}
		fmt.Fprintf(w, "  %-24s → %s\n", c.Column, c.Target.Label(fields))
	}
	if len(ignored) > 0 {
		fmt.Fprintf(w, "  ignored: %s\n", strings.Join(ignored, ", "))
	}
}

func describeDialect(d imports.Dialect) string {
	if d.Format == imports.FormatJSONL {
		return "JSON Lines"
	}
	return "CSV, " + imports.DelimiterName(d.Delimiter) + "-separated"
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// thousands writes n with thin separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// runImportWorker runs a worker that takes only import steps and campaign
// ticks (the bulk queue), for machines set aside for imports. It stops
// like `gatehouse worker`: running steps get 10 s, then go back to the
// queue, where any worker finishes them.
func runImportWorker(ctx context.Context, env *Env, args []string) int {
	var concurrency int
	cfg, _, ok := loadConfig(env, "import work", args, func(fs *flag.FlagSet) {
		fs.IntVar(&concurrency, "concurrency", 2, "import steps run at once")
	})
	if !ok {
		return exitUsage
	}
	if err := cfg.Validate(config.NeedDatabase, config.NeedRedis); err != nil {
		return fail(env, fmt.Errorf("%w: %v", errUsage, err))
	}
	log := newLogger(cfg, env.Stderr)
	database, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return fail(env, err)
	}
	defer database.Close()
	w, err := newImportWorker(ctx, env, cfg, log, database, concurrency, true)
	if err != nil {
		return fail(env, err)
	}
	fmt.Fprintln(env.Stdout, "gatehouse: import worker running (queue bulk)")
	<-ctx.Done()
	w.close()
	return exitOK
}
