package app

import (
	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
)

// mountConsole lists the console's routes on its own engine, grouped by who
// may call them. Staff accounts and RBAC arrive with the console; until then
// the console host serves only what every host serves.
func mountConsole(e *gin.Engine, s *services, render *web.Renderer) error {
	_, _, _ = e, s, render
	return nil
}
