package db_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"gatehouse/app/apptest"
	"gatehouse/app/db"
)

// lockedBuffer is a log destination safe for gorm's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestQueryLogHoldsNoValues runs statements that fail on a real database,
// each carrying a secret as a value, and reads what the database logger
// wrote at debug: handled errors (duplicate key, no row) write nothing,
// other errors write the calling line and the error, and no line holds the
// secret or the SQL.
func TestQueryLogHoldsNoValues(t *testing.T) {
	var out lockedBuffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := db.Open(context.Background(), apptest.Database(t), log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	g := d.Gorm.WithContext(context.Background())
	const secret = "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0$aGFzaA"
	if err := g.Exec("CREATE TABLE people (email TEXT PRIMARY KEY, hash TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	type person struct{ Email, Hash string }
	row := person{Email: "zed@example.com", Hash: secret}
	if err := g.Table("people").Create(&row).Error; err != nil {
		t.Fatal(err)
	}

	t.Run("handled errors are silent", func(t *testing.T) {
		before := out.String()
		if err := g.Table("people").Create(&row).Error; err == nil {
			t.Fatal("a duplicate key was accepted")
		}
		var p person
		if err := g.Table("people").Where("hash = ?", secret+"x").Take(&p).Error; err == nil {
			t.Fatal("found a row that does not exist")
		}
		if got := strings.TrimPrefix(out.String(), before); got != "" {
			t.Fatalf("handled errors were logged:\n%s", got)
		}
	})

	t.Run("other errors name the caller, not the values", func(t *testing.T) {
		before := out.String()
		if err := g.Table("missing").Create(&row).Error; err == nil {
			t.Fatal("an insert into a missing table worked")
		}
		var n int
		if err := g.Raw("SELECT COUNT(*) FROM missing WHERE hash = ?", secret).Scan(&n).Error; err == nil {
			t.Fatal("a query of a missing table worked")
		}
		got := strings.TrimPrefix(out.String(), before)
		if strings.Count(got, `"msg":"database_error"`) != 2 || strings.Count(got, `"source":"db/log_test.go:`) != 2 || strings.Count(got, `"error":"`) != 2 {
			t.Fatalf("want two errors naming this file and the error, got:\n%s", got)
		}
		for _, leak := range []string{"argon2id", "zed@example.com", "INSERT", "SELECT"} {
			if strings.Contains(got, leak) {
				t.Errorf("the log holds %q:\n%s", leak, got)
			}
		}
	})

	t.Run("debug mode does not log statements", func(t *testing.T) {
		before := out.String()
		var n int
		if err := g.Debug().Raw("SELECT COUNT(*) FROM people WHERE hash = ?", secret).Scan(&n).Error; err != nil || n != 1 {
			t.Fatalf("count = %d, %v", n, err)
		}
		if got := strings.TrimPrefix(out.String(), before); got != "" {
			t.Fatalf("a statement was logged:\n%s", got)
		}
	})
}
