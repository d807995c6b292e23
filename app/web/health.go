package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Check is one dependency /readyz asks after.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Live answers /healthz: the process is up and serving.
func Live(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "ok\n")
}

// Ready answers /readyz: 200 when every check passes within two seconds,
// else 503 naming which failed (never why, which may hold addresses).
func Ready(checks ...Check) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		status, results := http.StatusOK, gin.H{}
		for _, ch := range checks {
			if err := ch.Ping(ctx); err != nil {
				status = http.StatusServiceUnavailable
				results[ch.Name] = "unavailable"
				continue
			}
			results[ch.Name] = "ok"
		}
		c.Header("Cache-Control", "no-store")
		word := "ok"
		if status != http.StatusOK {
			word = "unavailable"
		}
		c.JSON(status, gin.H{"status": word, "checks": results})
	}
}
