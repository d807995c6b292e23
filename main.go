// Command gatehouse is the multi-tenant customer identity service. Package
// app wires it and app/cli is its command line; main only hands over the
// process's environment and streams.
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
	code := app.MainIO(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
