package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/app/access"
	"gatehouse/config"
)

// TestSeedConsole: the first dev run creates a platform admin and prints
// its password once; the next run prints no password.
func TestSeedConsole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	database := migratedSQLite(t, dir, log)
	rc, _ := miniRedisConn(t)
	cfg, _ := config.Load("test", func(string) string { return "" })
	cfg.Dev, cfg.DataDir, cfg.SecretKey = true, dir, strings.Repeat("ab", 32)
	cfg.Finish()
	s, err := newServices(cfg, log, database, rc, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()

	var out bytes.Buffer
	if err := seedConsole(ctx, s, &out); err != nil {
		t.Fatal(err)
	}
	m1 := regexp.MustCompile(`shown once\): (\S+) / (\S+)`).FindStringSubmatch(out.String())
	if m1 == nil || m1[1] != "admin@console.localhost" {
		t.Fatalf("first run printed %q", out.String())
	}
	rbac, _ := access.NewRBAC(ctx, database.Gorm, policyClock(rc), 0)
	svc := access.NewService(database.Gorm, rbac, s.hasher, s.policy, nil, nil)
	st, err := svc.Authenticate(ctx, m1[1], m1[2], "")
	if err != nil {
		t.Fatalf("the printed password does not sign in: %v", err)
	}
	if ok, _ := svc.IsPlatformAdmin(ctx, st.ID); !ok {
		t.Fatal("the seeded admin is not a platform admin")
	}

	out.Reset()
	if err := seedConsole(ctx, s, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), m1[2]) || !strings.Contains(out.String(), "admin@console.localhost") {
		t.Fatalf("second run printed %q", out.String())
	}
}
