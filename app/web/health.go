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
	// Soft marks a dependency the node can serve without for a while
	// (Redis: sessions are in the database, throttles fall back to
	// memory). Its failure makes the answer "degraded" with 200, so a
	// load balancer keeps the node; any other failure makes it 503.
	Soft bool
}

// Live answers /healthz: the process is up and serving.
func Live(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "ok\n")
}

// Ready answers /readyz within two seconds: 200 {"status":"ok"} when every
// check passes, 200 {"status":"degraded"} when only soft ones fail, else
// 503 {"status":"unavailable"}. Each check is listed as "ok", "degraded"
// or "unavailable" (never why, which may hold addresses).
func Ready(checks ...Check) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		word, results := "ok", gin.H{}
		for _, ch := range checks {
			switch err := ch.Ping(ctx); {
			case err == nil:
				results[ch.Name] = "ok"
			case ch.Soft:
				results[ch.Name] = "degraded"
				if word == "ok" {
					word = "degraded"
				}
			default:
				results[ch.Name] = "unavailable"
				word = "unavailable"
			}
		}
		status := http.StatusOK
		if word == "unavailable" {
			status = http.StatusServiceUnavailable
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(status, gin.H{"status": word, "checks": results})
	}
}
