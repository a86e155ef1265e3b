package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/desilo/desilo/connectors/files"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/internal/rpc"
	"github.com/desilo/desilo/plugins/sdk"
)

// The test binary doubles as a plugin: launched with fakePluginEnv set, it
// serves the fake connector (or misbehaves before the handshake) instead
// of running tests. This gives the host tests real processes to crash,
// hang and kill.
const fakePluginEnv = "DESILO_HOST_TEST_PLUGIN"

func TestMain(m *testing.M) {
	switch os.Getenv(fakePluginEnv) {
	case "":
		os.Exit(m.Run())
	case "serve":
		sdk.Serve(fake{})
	case "slowstart":
		time.Sleep(time.Minute) // a slow start: no handshake yet
		sdk.Serve(fake{})
	case "files":
		sdk.Serve(files.New()) // a real connector, for BenchmarkBoundary
	case "garbage":
		// Breaks the protocol: the handshake line is not what go-plugin expects.
		fmt.Println("hello, I am not a plugin")
		os.Exit(0)
	case "protocol2":
		// Built against an SDK of another protocol version.
		hs := rpc.Handshake
		hs.ProtocolVersion = connector.ProtocolVersion + 1
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: hs,
			Plugins:         plugin.PluginSet{rpc.PluginName: &rpc.Plugin{Impl: fake{}}},
			GRPCServer:      plugin.DefaultGRPCServer,
		})
	case "noserve":
		// Forgets sdk.Serve: exits without a handshake.
		os.Exit(0)
	case "host":
		runChildHost() // see TestOrphanedPluginExits
	}
}

// fake is driven by its config: mode says how it (mis)behaves during Read.
type fake struct{}

type fakeConfig struct {
	Mode  string `json:"mode"`  // ok, crash, hang, sigkill, fail, logsecret, slow, logwait, timeout, exit0, panic, stdout
	Count int    `json:"count"` // records to emit
	Size  int    `json:"size"`  // bytes of padding per record
	After int    `json:"after"` // misbehave after this many records
	Token string `json:"token"`
	Every int    `json:"every"` // records between checkpoints (default 100)
	// Delay is in milliseconds: the wait before each record (slow), or
	// how long to log while waiting before the first (logwait).
	Delay int `json:"delay"`
}

const fakeConfigSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "mode": {"enum": ["ok", "crash", "hang", "sigkill", "fail", "logsecret", "slow", "logwait", "timeout", "exit0", "panic", "stdout", "configerr"]},
    "delay": {"type": "integer", "minimum": 0},
    "count": {"type": "integer", "minimum": 0},
    "size": {"type": "integer", "minimum": 0},
    "after": {"type": "integer", "minimum": 0},
    "token": {"type": "string"},
    "every": {"type": "integer", "minimum": 1}
  }
}`

func (fake) Spec() connector.Spec {
	return connector.Spec{Name: "fake", Version: "0.0.1", ProtocolVersion: connector.ProtocolVersion, ConfigSchema: json.RawMessage(fakeConfigSchema)}
}

func (fake) Check(ctx context.Context, raw json.RawMessage) error {
	var c fakeConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	switch c.Mode {
	case "fail":
		return fmt.Errorf("the fake refuses: token %s is not valid", c.Token)
	case "configerr":
		return fmt.Errorf("table %q does not exist: %w", "kunden", connector.ErrConfig)
	case "hang":
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (fake) Discover(context.Context, json.RawMessage) ([]connector.Stream, error) {
	return []connector.Stream{{
		Name:        "items",
		Schema:      json.RawMessage(`{"type":"object","required":["id"],"properties":{"id":{"type":"integer"},"pad":{"type":"string"}}}`),
		PrimaryKey:  []string{"id"},
		CursorField: "id",
	}}, nil
}

func (fake) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	var c fakeConfig
	if err := json.Unmarshal(req.Config, &c); err != nil {
		return err
	}
	start := 0
	if len(req.State) > 0 {
		if err := json.Unmarshal(req.State, &start); err != nil {
			return err
		}
	}
	if c.Every == 0 {
		c.Every = 100
	}
	rec := fakeRecord(c.Size)
	if c.Mode == "logwait" {
		// Waiting out a rate limit, and saying so.
		for deadline := time.Now().Add(time.Duration(c.Delay) * time.Millisecond); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			slog.Info("rate limited; waiting")
		}
	}
	for i := start; i < c.Count; i++ {
		if c.Mode == "slow" {
			time.Sleep(time.Duration(c.Delay) * time.Millisecond)
		}
		if i == c.After {
			switch c.Mode {
			case "crash":
				slog.Error("fake connector gives up", "at", i)
				os.Exit(2)
			case "hang":
				slog.Info("fake connector hangs now")
				select {}
			case "sigkill":
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			case "stdout":
				fmt.Printf("debug: at record %d, token %s\n", i, c.Token)
			case "panic":
				var m map[string]int
				//lint:ignore SA5000 the panic is the test's point
				m["items"] = i // a nil map: the runtime panics
			case "exit0":
				os.Exit(0) // a clean exit is no less a failure mid-stream
			case "fail":
				return fmt.Errorf("upstream said no at record %d", i)
			case "timeout":
				// Its own HTTP client timed out, in net/http's words.
				return fmt.Errorf("GET https://api.example.com/items?page=3: %w (Client.Timeout exceeded while awaiting headers)", context.DeadlineExceeded)
			case "logsecret":
				slog.Info("calling the API", "token", c.Token)
			}
		}
		if err := out.Emit(ctx, connector.Record{Stream: "items", Data: rec(i)}); err != nil {
			return err
		}
		if (i+1)%c.Every == 0 {
			if err := out.Checkpoint(ctx, []byte(strconv.Itoa(i+1))); err != nil {
				return err
			}
		}
	}
	return out.Checkpoint(ctx, []byte(strconv.Itoa(c.Count)))
}

// fakeRecord returns a function that renders record i with size bytes of
// padding, reusing one buffer as a real connector would.
func fakeRecord(size int) func(int) []byte {
	pad := make([]byte, size)
	for i := range pad {
		pad[i] = 'a' + byte(i%26)
	}
	var buf []byte
	return func(i int) []byte {
		buf = append(buf[:0], `{"id":`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, `,"pad":"`...)
		buf = append(buf, pad...)
		return append(buf, `"}`...)
	}
}
