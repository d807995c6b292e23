package accounts_test

import (
	"database/sql"
	"os"
	"testing"
	"time"

	"gatehouse/app/apptest"
)

// dbStats are the counters of one database in pg_stat_database.
type dbStats struct{ commits, inserted, updated, deleted int64 }

// BenchmarkLoginDatabaseCost signs in b.N times with a password on a
// private PostgreSQL database and reads, from pg_stat_database before and
// after, what the logins cost the database: commits (xact_commit) and rows
// inserted, updated and deleted, per login. The tenant has one webhook
// endpoint that subscribes to logins, so each login also writes its
// webhook event, delivery and outbox rows, as it would for such a tenant.
// PostgreSQL only: it skips without GATEHOUSE_TEST_DATABASE_URL.
func BenchmarkLoginDatabaseCost(b *testing.B) {
	admin := os.Getenv(apptest.EnvDatabase)
	if admin == "" {
		b.Skip("needs PostgreSQL: set " + apptest.EnvDatabase)
	}
	rig := newLoginRig(b)
	var name string
	if err := rig.db.Raw("SELECT current_database()").Row().Scan(&name); err != nil {
		b.Fatal(err)
	}
	// Read the counters over a connection to another database, so reading
	// them adds nothing to them.
	stats, err := sql.Open("pgx", admin)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	read := func() dbStats {
		// Backends hand their counters to the statistics system when they
		// end: close the pool's connections first.
		pool := rig.counter.ConnPool.(*sql.DB)
		pool.SetMaxIdleConns(0)
		pool.SetMaxIdleConns(2)
		var s dbStats
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, _ = stats.Exec("SELECT pg_stat_clear_snapshot()")
			var before dbStats
			err := stats.QueryRow(`SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = $1`, name).
				Scan(&before.commits, &before.inserted, &before.updated, &before.deleted)
			if err != nil {
				b.Fatal(err)
			}
			if before == s || time.Now().After(deadline) {
				return s
			}
			s = before
			time.Sleep(300 * time.Millisecond) // until two reads agree: every backend has reported
		}
	}
	if _, err := rig.signIn("correct horse battery"); err != nil { // warm the caches
		b.Fatal(err)
	}
	start := read()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rig.signIn("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	end := read()
	n := float64(b.N)
	b.ReportMetric(float64(end.commits-start.commits)/n, "commits/login")
	b.ReportMetric(float64(end.inserted-start.inserted)/n, "inserted/login")
	b.ReportMetric(float64(end.updated-start.updated)/n, "updated/login")
	b.ReportMetric(float64(end.deleted-start.deleted)/n, "deleted/login")
}
