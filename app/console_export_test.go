package app

import (
	"gatehouse/app/apps"
	"gatehouse/app/console"
	"gatehouse/app/imports"
	"gatehouse/app/webhooks"
)

// ConsoleRoutes is the console's route table, exported for the app_test
// package so the access test walks every route there is.
func ConsoleRoutes(dev bool) []console.Route {
	return consoleRoutes(dev, &imports.Handlers{}, &apps.Handlers{}, &webhooks.Handlers{})
}
