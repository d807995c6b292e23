package app

// ConsoleRoutes is the console's route table, exported for the app_test
// package so the access test walks every route there is.
var ConsoleRoutes = consoleRoutes
