package jobs

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestBackchannelRetryDelay(t *testing.T) {
	task := asynq.NewTask(TypeBackchannelLogout, nil)
	for n, want := range map[int]time.Duration{0: 2 * time.Second, 1: 4 * time.Second, 3: 16 * time.Second, 8: 512 * time.Second, 9: 10 * time.Minute, 40: 10 * time.Minute} {
		if got := ImportRetryDelay(n, nil, task); got != want {
			t.Errorf("retry %d: %s, want %s", n, got, want)
		}
	}
}

func TestMailRetryDelay(t *testing.T) {
	task := asynq.NewTask(TypeSendMail, nil)
	if a, b := ImportRetryDelay(0, nil, task), ImportRetryDelay(1, nil, task); a != 5*time.Second || b != 15*time.Second {
		t.Fatalf("first retries after %v and %v; want 5s and 15s", a, b)
	}
	if c := ImportRetryDelay(2, nil, task); c <= 15*time.Second {
		t.Fatalf("third retry after %v; want asynq's growing delay", c)
	}
}
