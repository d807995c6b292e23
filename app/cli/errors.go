package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"gatehouse/apperr"
)

// ErrUsage marks an error as the operator's to fix (a bad setting, a
// missing file): it exits 2. Wiring wraps its configuration errors in it.
var ErrUsage = errors.New("usage")

// Usage wraps err in ErrUsage.
func Usage(err error) error { return fmt.Errorf("%w: %v", ErrUsage, err) }

// exitError ends a command with a code whose message is already printed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func exit(code int) error { return exitError(code) }

// badUsage is a command line that does not parse: it is printed with the
// command's usage line.
type badUsage struct {
	msg, use, name string
}

func (e badUsage) Error() string { return e.msg }

func usageError(c *cobra.Command, msg string) error {
	return badUsage{msg: msg, use: c.UseLine(), name: c.CommandPath()}
}

// noArgs refuses positional arguments with exit 2.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(c, fmt.Sprintf("unexpected argument %q", args[0]))
	}
	return nil
}

// exitCode prints err as one line for an operator and returns the exit
// code: usage errors (bad input, settings, not found) get 2, everything
// else 1.
func exitCode(stderr io.Writer, err error) int {
	var ee exitError
	var bu badUsage
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return int(ee)
	case errors.As(err, &bu):
		fmt.Fprintf(stderr, "gatehouse: %s\nusage: %s\nRun '%s --help' for its flags.\n", bu.msg, bu.use, bu.name)
		return exitUsage
	}
	if e, ok := apperr.As(err); ok && e.Code != apperr.Internal {
		msg := e.Message
		if e.Field != "" {
			msg = "--" + e.Field + ": " + msg
		}
		fmt.Fprintln(stderr, "gatehouse: "+msg)
		if e.Code == apperr.Invalid || e.Code == apperr.Conflict || e.Code == apperr.NotFound {
			return exitUsage
		}
		return exitFailure
	}
	fmt.Fprintln(stderr, "gatehouse: "+err.Error())
	if errors.Is(err, ErrUsage) {
		return exitUsage
	}
	return exitFailure
}
