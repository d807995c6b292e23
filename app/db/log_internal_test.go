package db

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSlowQueryHoldsNoValues hands the logger a statement that began an
// hour ago, as a slow one would, with a value in its text: the warning
// names the duration and rows, never the text.
func TestSlowQueryHoldsNoValues(t *testing.T) {
	var out bytes.Buffer
	l := queryLog{log: slog.New(slog.NewJSONHandler(&out, nil)), slow: time.Second}
	text := func() (string, int64) {
		return `UPDATE customers SET password_hash = '$argon2id$v=19$secret' WHERE id = 1`, 1
	}
	l.Trace(context.Background(), time.Now(), text, nil)
	if out.Len() != 0 {
		t.Fatalf("a fast statement was logged: %s", out.String())
	}
	l.Trace(context.Background(), time.Now().Add(-time.Hour), text, nil)
	got := out.String()
	if !strings.Contains(got, `"level":"WARN","msg":"database_slow_query"`) || !strings.Contains(got, `"rows":1`) {
		t.Fatalf("no slow-query warning: %s", got)
	}
	if strings.Contains(got, "argon2id") || strings.Contains(got, "UPDATE") {
		t.Fatalf("the warning holds the statement: %s", got)
	}
	if sql, vars := l.ParamsFilter(context.Background(), "SELECT ?", "secret"); sql != "SELECT ?" || vars != nil {
		t.Fatalf("ParamsFilter kept the values: %q %v", sql, vars)
	}
}
