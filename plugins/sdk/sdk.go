// Package sdk is what a connector author imports. A connector is a type
// that implements connector.Connector; its main function is:
//
//	func main() { sdk.Serve(mysource.New()) }
//
// Serve speaks the plugin protocol to the desilo host over stdin/stdout
// (hashicorp/go-plugin, gRPC, AutoMTLS). Logs go through log/slog to
// stderr, which the host relays tagged with the source name: a connector
// must not write to stdout. Test a connector with plugins/sdk/sdktest.
package sdk

import (
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/internal/rpc"
)

// LogLevelEnv is how the host tells a plugin its log level
// (debug, info, warn, error).
const LogLevelEnv = "DESILO_LOG_LEVEL"

// Serve runs c as a plugin process until the host disconnects. It does not
// return on success: it exits the process. Run directly from a terminal
// (without the host's handshake) it prints a short explanation and exits
// with status 1.
func Serve(c connector.Connector) {
	// go-plugin swaps os.Stderr for a pipe to the host's stdio stream; the
	// real stderr, kept here, is the one the host reads logs from.
	stderr := os.Stderr
	slog.SetDefault(slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: levelFromEnv()})))
	go exitWhenOrphaned(os.Getppid(), time.Second)

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: rpc.Handshake,
		Plugins:         plugin.PluginSet{rpc.PluginName: &rpc.Plugin{Impl: c}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts, rpc.ServerOptions()...))
		},
		// go-plugin's own chatter only when something is wrong.
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: stderr, JSONFormat: true}),
	})
	os.Exit(0)
}

func levelFromEnv() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(os.Getenv(LogLevelEnv)))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// exitWhenOrphaned ends the plugin when its host is gone: a host killed by
// SIGKILL cannot clean up, and the kernel re-parents its children, which
// changes our parent pid.
func exitWhenOrphaned(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			slog.Warn("host process is gone; connector exits")
			os.Exit(3)
		}
	}
}
