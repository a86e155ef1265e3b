// Command desilo turns scattered customer data into one customer model.
// Each command lives in its own file as a runX function that tests call
// directly; errors become exit codes in one place (exit.go).
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// buildGCPercent is the garbage collector's target during a build,
// unless GOGC is set. A build's large data (staged rows, the identity
// result) sits in pointer-free typed columns the collector barely scans,
// so collecting more often costs little CPU and keeps the peak heap near
// the live data: on 1 M records GOGC=30 lowered peak RSS by about 30%
// against the default 100 (BENCHMARKS.md). Extraction keeps the default:
// its live heap is small, and at 30 it collected three times as often for
// about a second more CPU per million records.
const buildGCPercent = 30

// tuneGCForBuild sets buildGCPercent unless the user chose GOGC.
func tuneGCForBuild() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(buildGCPercent)
	}
}

func main() {
	// Ctrl-C and SIGTERM cancel the context: commands stop their plugins,
	// leave no half-written output and advance no state.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
