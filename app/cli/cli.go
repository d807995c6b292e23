// Package cli is Gatehouse's command line, on spf13/cobra: one small file per
// command, whose run function parses, calls one service and prints.
//
// Package app is the composition root and imports cli, never the other way
// round: app.Main hands Run the process's streams and a Wiring, which builds
// what needs app's own plumbing (the server, the worker, Redis). The commands
// build the rest from feature packages by constructor.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"gatehouse/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad arguments or configuration
)

// Env is what a command gets from the process: arguments aside, its
// environment and streams. Nothing reads os.Getenv, os.Stdin or os.Stdout
// directly, so tests can run many Mains side by side.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader // passwords for `staff`
	Stdout io.Writer
	Stderr io.Writer
}

// runner is one run of the command line: its streams, the wiring and the
// one config that the root's flags and the environment fill.
type runner struct {
	env *Env
	w   Wiring
	cfg *config.Config
}

// Run runs the command line args and returns the process exit code. It
// returns when the command ends or, for serve and worker, when ctx is
// cancelled and shutdown has finished.
func Run(ctx context.Context, args []string, env *Env, w Wiring) int {
	r := &runner{env: env, w: w}
	root := r.root()
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	return exitCode(env.Stderr, err)
}

// root is `gatehouse`: every GATEHOUSE_* setting is a flag of every command,
// defined once in config.Load.
func (r *runner) root() *cobra.Command {
	cfg, goFlags := config.Load("gatehouse", r.env.Getenv)
	r.cfg = cfg
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Gatehouse, a multi-tenant customer identity service",
		Long: "Gatehouse, a multi-tenant customer identity service.\n\n" +
			"Every flag is also an environment variable: --database-url is GATEHOUSE_DATABASE_URL.",
		Args:              cobra.ArbitraryArgs,
		RunE:              r.group,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: func(*cobra.Command, []string) error { cfg.Finish(); return nil },
	}
	addGoFlags(root.PersistentFlags(), goFlags)
	// A group runs only to refuse a bad command line: its usage shows the
	// subcommands, not "gatehouse tenant [flags]".
	root.Annotations = map[string]string{"group": "true"}
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "{{if .Runnable}}", `{{if and .Runnable (ne (index .Annotations "group") "true")}}`, 1))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError(c, err.Error()) })
	root.AddCommand(r.serveCmd(), r.workerCmd(), r.migrateCmd(), r.tenantCmd(), r.mailCmd(),
		r.importCmd(), r.staffCmd(), r.appCmd(), versionCmd())
	return root
}

// addGoFlags adds config's flags, keeping their built-in defaults for help:
// pflag would otherwise show the value, which may come from a secret.
func addGoFlags(to *pflag.FlagSet, from *flag.FlagSet) {
	to.AddGoFlagSet(from)
	from.VisitAll(func(f *flag.Flag) { to.Lookup(f.Name).DefValue = f.DefValue })
}

// group runs a command that only holds others: alone it prints its help to
// stderr, and with an argument it names the unknown command. Both exit 2.
func (r *runner) group(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return badUsage{msg: fmt.Sprintf("unknown command %q", args[0]), use: c.CommandPath() + " [command]", name: c.CommandPath()}
	}
	c.SetOut(r.env.Stderr)
	_ = c.Help()
	return exit(exitUsage)
}

// groupCmd is a command that only holds subcommands.
func (r *runner) groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs, RunE: r.group, Annotations: map[string]string{"group": "true"}}
	c.AddCommand(subs...)
	return c
}

// logger logs JSON in production and readable text in development.
func (r *runner) logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(r.cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if r.cfg.Dev {
		return slog.New(slog.NewTextHandler(r.env.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(r.env.Stderr, opts))
}

// printf writes one line of a command's output.
func (r *runner) printf(format string, args ...any) {
	fmt.Fprintf(r.env.Stdout, format, args...)
}

// note writes one line for the operator on stderr.
func (r *runner) note(format string, args ...any) {
	fmt.Fprintf(r.env.Stderr, "gatehouse: "+format+"\n", args...)
}

// fprintf writes to w, for tables.
func (r *runner) fprintf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, args...)
}
