package api

import "github.com/gin-gonic/gin"

// mountManagement registers customer management for brands' back-ends.
func mountManagement(g *gin.RouterGroup, d Deps) {
	_ = g
	_ = d
}
