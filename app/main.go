// Package app is Gatehouse's composition root: the subcommands, the wiring
// of every dependency by constructor, the routes and graceful shutdown. Tests
// boot the same Main the binary does.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"strings"

	"gatehouse/app/apperr"
	"gatehouse/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad arguments or configuration
)

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, env *Env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "[--dev]", "serve hosted pages, the console and the APIs", runServe},
		{"worker", "", "run background jobs (mail, imports, campaigns)", runWorker},
		{"migrate", "up|status", "apply or show database migrations", runMigrate},
		{"tenant", "create|list|suspend|resume|domain", "manage tenants", runTenant},
		{"mail", "test --to EMAIL", "queue a test mail to check delivery", runMail},
		{"import", "--tenant S FILE | work", "import customers from CSV or JSON Lines", runImport},
		{"staff", "create|grant|password|list", "manage console staff (password on stdin)", runStaff},
		{"app", "create|list|rotate-secret|delete", "manage a tenant's OAuth apps (clients)", runApp},
		{"version", "", "print the version", runVersion},
	}
}

// Env is what a command gets from the process: arguments aside, its
// environment and streams. Nothing reads os.Getenv, os.Stdin or os.Stdout
// directly, so tests can run many Mains side by side.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader // passwords for `staff`; empty under Main
	Stdout io.Writer
	Stderr io.Writer
	opts   Options
}

// Main runs the subcommand named by args[0] with an empty stdin and returns
// the process exit code. It returns when the command ends or, for serve and
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
	env := &Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr, opts: opts}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: gatehouse <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %-36s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag is also an environment variable: --database-url is GATEHOUSE_DATABASE_URL.")
	fmt.Fprintln(w, "Run `gatehouse <command> -h` for a command's flags.")
}

// loadConfig parses a command's flags over the environment. extra, when set,
// binds the command's own flags to the same set. It prints the problem and
// returns ok=false on a bad flag.
func loadConfig(env *Env, name string, args []string, extra func(fs *flag.FlagSet)) (*config.Config, *flag.FlagSet, bool) {
	cfg, fs := config.Load("gatehouse "+name, env.Getenv)
	fs.SetOutput(env.Stderr)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, false
	}
	cfg.Finish()
	return cfg, fs, true
}

// newLogger logs JSON in production and readable text in development.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Dev {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// fail prints err as one line for an operator and returns the exit code:
// usage errors (bad input) get 2, everything else 1.
func fail(env *Env, err error) int {
	msg := err.Error()
	if e, ok := apperr.As(err); ok && e.Code != apperr.Internal {
		msg = e.Message
		if e.Field != "" {
			msg = "--" + e.Field + ": " + msg
		}
		fmt.Fprintln(env.Stderr, "gatehouse: "+msg)
		if e.Code == apperr.Invalid || e.Code == apperr.Conflict || e.Code == apperr.NotFound {
			return exitUsage
		}
		return exitFailure
	}
	fmt.Fprintln(env.Stderr, "gatehouse: "+msg)
	if errors.Is(err, errUsage) {
		return exitUsage
	}
	return exitFailure
}

var errUsage = errors.New("usage")

func runVersion(_ context.Context, env *Env, _ []string) int {
	fmt.Fprintln(env.Stdout, "gatehouse "+version())
	return exitOK
}

// version reads the module version and VCS revision stamped by the Go
// toolchain, so no build flag is needed.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v = strings.TrimPrefix(v+" ", "(devel) ") + s.Value[:12]
		}
	}
	return v
}
