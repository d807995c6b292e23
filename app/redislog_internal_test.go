package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// While Redis is down go-redis reports every failed dial. They must reach
// the log as structured WARN lines, one a minute, counting the rest.
func TestRedisClientMessagesAreRateLimited(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clock := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	l := &redisLog{now: func() time.Time { return clock }}
	l.use(slog.New(slog.NewJSONHandler(&buf, nil)))
	l.use(nil) // a one-shot command keeps the logger in use
	ctx := context.Background()
	for range 100 {
		l.Printf(ctx, "redis: connection pool: failed to dial after %d attempts: %s", 5, "connection refused")
		clock = clock.Add(100 * time.Millisecond)
	}
	clock = clock.Add(redisLogEvery)
	l.Printf(ctx, "redis: connection pool: failed to dial after %d attempts: %s", 5, "connection refused")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines for 101 messages over 70 s, want 2:\n%s", len(lines), buf.String())
	}
	var first, second map[string]any
	if json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &second) != nil {
		t.Fatalf("not JSON: %s", buf.String())
	}
	if first["level"] != "WARN" || first["msg"] != "redis_client" || first["message"] != "redis: connection pool: failed to dial after 5 attempts: connection refused" || first["left_out_since_last"] != 0.0 {
		t.Errorf("first line: %v", first)
	}
	if second["left_out_since_last"] != 99.0 {
		t.Errorf("second line counts %v left out, want 99", second["left_out_since_last"])
	}
}
