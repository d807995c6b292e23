// Package app is Gatehouse's composition root: the wiring of every
// dependency by constructor, the routes, serve and graceful shutdown. The
// commands live in app/cli, which app hands a Wiring; cli never imports
// app. Tests boot the same Main the binary does.
package app

import (
	"context"
	"io"
	"net/netip"
	"strings"

	"gatehouse/app/cli"
)

// Main runs the command line args with an empty stdin and returns the
// process exit code. It returns when the command ends or, for serve and
// worker, when ctx is cancelled and shutdown has finished.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return MainIO(ctx, args, getenv, strings.NewReader(""), stdout, stderr)
}

// MainIO is Main with a stdin, which `staff create` reads a password from.
func MainIO(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return MainWith(ctx, args, getenv, stdin, stdout, stderr, Options{})
}

// Options are wiring that only a program embedding Main can choose, the
// tests: none of them has a variable or a flag, so no deployment can set
// one. The zero value is production.
type Options struct {
	// OutboundResolve replaces DNS for the calls made on a tenant's behalf
	// (outbound.Options.Resolve): a test points another tenant's
	// *.localhost host at the server, so one tenant can be another's
	// OpenID provider. The dial-time address check still applies.
	OutboundResolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// MainWith is MainIO with wiring options.
func MainWith(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer, opts Options) int {
	env := &cli.Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	return cli.Run(ctx, args, env, wiring{opts: opts})
}
