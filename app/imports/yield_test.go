package imports_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"gatehouse/app/apptest"
	"gatehouse/app/imports"
	"gatehouse/app/yield"
)

// An import reads the pressure serve nodes publish after every chunk: with
// none it never waits; with the hashers full it waits after each chunk
// until the chunk has taken as long as the floor rate allows.
func TestPublishedPressureSlowsTheImport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	opt, err := redis.ParseURL(apptest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	key := yield.Key("gatehouse:test:")
	// 20 units/s for the job: with two 3-row chunks side by side, each is
	// held to 75 ms scanning and 225 ms applying.
	ctrl := yield.Controller{Low: 0.2, High: 0.7, Floor: 20}
	pacer := yield.NewPacer(rdb, key, ctrl, quiet)
	f.svc.SetPacer(pacer)

	idle := f.stage(t, f.a, "idle.csv", dupFile)
	f.pass(t, f.a, idle, auto(idle, f.a, imports.ModeUpsert), false)
	calm := pacer.Decisions()
	if len(calm) != 2*idle.Chunks {
		t.Fatalf("%d decisions for %d chunks scanned and applied", len(calm), 2*idle.Chunks)
	}
	for _, d := range calm {
		if d.Pressure != 0 || d.Delay != 0 {
			t.Fatalf("no pressure published, yet %+v", d)
		}
	}

	// A serve node whose hashers are all busy.
	if err := yield.NewPublisher(rdb, key, nil, time.Minute, quiet).Publish(f.ctx, 1); err != nil {
		t.Fatal(err)
	}
	busy := f.stage(t, f.a, "busy.csv", dupFile)
	if busy.Rows != 6 {
		t.Fatalf("staged %d rows, want 6", busy.Rows)
	}
	began := time.Now()
	f.pass(t, f.a, busy, auto(busy, f.a, imports.ModeUpsert), false)
	// Every row weighs one unit, scanned and applied: the whole job, its
	// lanes together, may not beat the floor.
	if took, least := time.Since(began), time.Duration(float64(busy.Rows)/ctrl.Floor*float64(time.Second)); took < least {
		t.Fatalf("the paced pass of %d rows took %v; the floor allows no less than %v", busy.Rows, took, least)
	}
	all := pacer.Decisions()
	paced := all[len(calm):]
	if len(paced) != 2*busy.Chunks {
		t.Fatalf("%d decisions for %d chunks scanned and applied", len(paced), 2*busy.Chunks)
	}
	// Two chunks of the job run side by side (the default window), so each
	// is paced as twice its own rows: the job, not each lane, is held to
	// the floor.
	var scans, applies int
	for _, d := range paced {
		switch d.Units {
		case 2 * 0.75:
			scans++
		case 2 * 2.25:
			applies++
		}
		floor := time.Duration(d.Units / ctrl.Floor * float64(time.Second))
		if d.Pressure != 1 || d.Delay != ctrl.Delay(1, d.Units, d.Worked) || (d.Worked < floor && d.Worked+d.Delay < floor) {
			t.Fatalf("under full pressure the chunk was not held to the floor: %+v (floor %v)", d, floor)
		}
	}
	if scans != busy.Chunks || applies != busy.Chunks {
		t.Fatalf("%d scans and %d applies paced, want %d of each", scans, applies, busy.Chunks)
	}
}
