// Command desilo turns scattered customer data into one customer model.
// Each command lives in its own file as a runX function that tests call
// directly; errors become exit codes in one place (exit.go).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Ctrl-C and SIGTERM cancel the context: commands stop their plugins,
	// leave no half-written output and advance no state.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
