package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/pipeline"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/host"
)

// Exit codes, the one place they are decided. Schedulers act on them;
// `desilo --help` and the README list them.
const (
	exitOK          = 0
	exitFailure     = 1   // anything not listed below
	exitUsage       = 2   // bad flags or arguments
	exitConfig      = 3   // desilo.yaml or a source's config is invalid, or its connector not found
	exitSource      = 4   // a source failed: check, discovery or extraction
	exitLocked      = 5   // another run holds the state directory or the output folder
	exitOutput      = 6   // the snapshot is written but an output (BigQuery) failed
	exitInterrupted = 130 // interrupted by SIGINT or SIGTERM
)

const exitCodesHelp = `Exit codes:
  0    success
  1    failure not covered below
  2    usage error (flags, arguments)
  3    invalid configuration (desilo.yaml, a source's config, a connector not
       found, a config its connector says is wrong), also when a sync ran the
       other sources
  4    a source failed (check, discover or extract); 1 when every failed
       source failed on this machine (staging could not write)
  5    another run holds the lock of the state directory or of the output
       folder
  6    the snapshot was written but an output (BigQuery) failed
  130  interrupted (SIGINT or SIGTERM); nothing half-written was kept`

// exitError carries an exit code chosen where the failure is understood.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// silentError has been reported already (e.g. a table of check results);
// only its code is left to return.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode maps an error to the process exit code and prints it.
// With --log-format json the error is a JSON line too, so that stderr
// stays JSON lines throughout.
func exitCode(ctx context.Context, err error, stderr io.Writer, jsonLog bool) int {
	if err == nil {
		return exitOK
	}
	var silent *silentError
	if errors.As(err, &silent) {
		return silent.code
	}
	msg := errorMessage(ctx, err)
	if jsonLog {
		slog.New(slog.NewJSONHandler(stderr, nil)).Error("desilo failed", "error", msg)
	} else {
		fmt.Fprintln(stderr, "desilo:", msg)
	}
	var ee *exitError
	var ce *config.Error
	var ces config.Errors
	var hce *host.ConfigError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ee):
		if ee.code == exitSource && sourceConfigError(err) {
			return exitConfig
		}
		if ee.code == exitSource && localFailure(err) {
			return exitFailure
		}
		return ee.code
	case errors.As(err, &ces), errors.As(err, &ce), errors.As(err, &hce):
		return exitConfig
	}
	return exitFailure
}

// errorMessage is how err is told to a person: on stderr and in the run
// summary. An interruption says so: "context canceled" alone tells a
// person nothing.
func errorMessage(ctx context.Context, err error) string {
	msg := err.Error()
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		if msg == context.Canceled.Error() {
			return "interrupted"
		}
		return "interrupted: " + msg
	}
	if localFailure(err) {
		return msg + " (on this machine, not at the sources: staging could not write; see each source's error)"
	}
	return msg
}

// localFailure reports whether every source of a run failed on this
// machine, not at the source: staging could not write (a full disk, a
// folder it may not write). Such a source's error carries the operating
// system's error; a connector's errors cross the process boundary as
// text and never do. Exit code 4 would send the on-call engineer to the
// sources; 1 does not.
func localFailure(err error) bool {
	var failed *pipeline.SourcesError
	if !errors.As(err, &failed) || len(failed.Errs) == 0 {
		return false
	}
	for _, e := range failed.Errs {
		var pe *fs.PathError
		var se *os.SyscallError
		var le *os.LinkError
		if !errors.As(e, &pe) && !errors.As(e, &se) && !errors.As(e, &le) {
			return false
		}
	}
	return true
}

// sourceConfigError reports whether a source of a run failed on its
// configuration (its connector not found, its config refused by the
// connector's schema, a stream or mapping in desilo.yaml that does not fit
// what the connector offers): check and discover exit 3 for it, and so does
// sync, whatever else failed.
func sourceConfigError(err error) bool {
	var failed *pipeline.SourcesError
	if !errors.As(err, &failed) {
		return false
	}
	return slices.ContainsFunc(failed.Errs, func(e error) bool {
		var ce *config.Error
		return codeOf(e, exitSource) == exitConfig || errors.As(e, &ce) || errors.Is(e, connector.ErrConfig)
	})
}

// sourceCode is the exit code of a source's failure: 3 when its connector
// said the config is wrong (connector.ErrConfig), else 4.
func sourceCode(err error) int {
	if errors.Is(err, connector.ErrConfig) {
		return exitConfig
	}
	return exitSource
}

// plural is "1 source", "2 sources".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
