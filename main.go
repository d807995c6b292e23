// Command gatehouse is the multi-tenant customer identity service. All of it
// lives in package app; main only hands over the process's environment.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"gatehouse/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
