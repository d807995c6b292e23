package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/config"
)

// InProcessHandler is the handler `gatehouse serve` would run for the
// environment getenv describes (an apptest.Env's: its own PostgreSQL or
// SQLite database, already migrated, and its own Redis), without a
// listener, so that benchmarks in package app_test measure the server and
// not the loopback network. Its stores close when tb ends.
func InProcessHandler(tb testing.TB, getenv func(string) string) http.Handler {
	tb.Helper()
	cfg, _ := config.Load("serve", getenv)
	cfg.Finish()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := openCurrentDB(ctx, cfg, quiet)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	rc, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rc.client.Close() })
	s, err := newServices(cfg, quiet, d, rc, prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.close)
	h, err := newHandler(s)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
