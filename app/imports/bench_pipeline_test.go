package imports_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"gatehouse/app/apptest"
	"gatehouse/app/audit"
	"gatehouse/app/db"
	"gatehouse/app/imports"
	"gatehouse/tenants"
)

// BenchmarkImportPipeline stages and imports (create mode) a generated
// 100,000-row file in process, two chunks at a time, into a fresh tenant
// per iteration: the whole of an import's work, for CPU profiles of the
// worker's side (go test -run '^$' -bench ImportPipeline -cpuprofile).
// bench-import measures the binary against \copy; this one is for pprof.
func BenchmarkImportPipeline(b *testing.B) {
	const rows = 100_000
	ctx := context.Background()
	d, err := db.Open(ctx, apptest.Database(b), quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.MigrateUp(ctx); err != nil {
		b.Fatal(err)
	}
	var file bytes.Buffer
	file.WriteString("email,first_name,last_name,email_verified,created_at\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&file, "customer%07d@example.com,First%d,Last%d,%t,20%02d-%02d-%02d\n", i, i, i, i%3 == 0, 10+i%15, 1+i%12, 1+i%28)
	}
	ts := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", quiet)
	store, err := imports.NewStore(d.Gorm)
	if err != nil {
		b.Fatal(err)
	}
	svc := imports.NewService(imports.Deps{Store: store, Tenants: ts, Audit: audit.NewRecorder(d.Gorm, quiet), Log: quiet})
	qctx, cancel := context.WithCancel(ctx)
	q := imports.NewLocalQueue(qctx, svc, 2)
	b.Cleanup(func() { cancel(); q.Wait() })
	svc.SetQueue(q)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tn, err := ts.Create(ctx, tenants.NewTenant{Slug: fmt.Sprintf("bench%d", i), Name: "Bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ts.SaveFields(ctx, tn.ID, []tenants.Field{
			{Key: "first_name", Label: "First name", Type: tenants.TypeText, Capture: tenants.CaptureRequired},
			{Key: "last_name", Label: "Last name", Type: tenants.TypeText, Capture: tenants.CaptureOptional},
		}); err != nil {
			b.Fatal(err)
		}
		if tn, err = ts.ByID(ctx, tn.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		j, err := svc.Stage(ctx, tn, cli, "customers.csv", "", bytes.NewReader(file.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		m := imports.Mapping{Mode: imports.ModeCreate, Columns: imports.AutoMap(j.Dialect.Columns, tn.Fields, false)}
		if _, err := svc.Start(ctx, tn, cli, j.ID, m, false); err != nil {
			b.Fatal(err)
		}
		q.Wait()
		b.StopTimer()
		p, err := svc.Progress(ctx, tn.ID, j.ID)
		if err != nil {
			b.Fatal(err)
		}
		if p.Job.Status != imports.StatusDone || p.Counts.Created != rows {
			b.Fatalf("import ended %s (%s) with %+v", p.Job.Status, p.Job.Error, p.Counts)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
