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
