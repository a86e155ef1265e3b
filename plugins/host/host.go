// Package host finds, launches, handshakes and talks to connector plugin
// processes. A launched plugin is a connector.Connector like any other; the
// host adds what crossing a process boundary needs: config validation
// against the connector's schema, timeouts, relayed logs, and errors that
// say what happened to the process.
package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/desilo/desilo/plugins/internal/rpc"
	"github.com/desilo/desilo/plugins/sdk"
)

// Options configure a Host. Zero values take the documented defaults.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	// PluginDirs is the search path for third-party connectors (see SearchPath).
	PluginDirs []string
	// Builtin reports whether a connector is compiled into the desilo binary;
	// those are launched as `Self connector serve NAME`.
	Builtin func(name string) bool
	// Self is the desilo executable; default os.Executable().
	Self string
	// CallTimeout bounds Spec, Check and Discover (default 2m).
	CallTimeout time.Duration
	// IdleTimeout is how long a Read may go without sending or logging
	// anything before the connector is taken to hang and is killed
	// (default 5m). A plugin sends what it emitted at least every half
	// second, so a slow but steady connector is never quiet for long.
	IdleTimeout time.Duration
	// StartTimeout bounds the handshake (default 30s).
	StartTimeout time.Duration
}

// Host launches plugins and kills every one of them on Close.
type Host struct {
	opts Options

	mu      sync.Mutex
	running map[*Plugin]struct{}
}

// New returns a Host.
func New(opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Builtin == nil {
		opts.Builtin = func(string) bool { return false }
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 2 * time.Minute
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	return &Host{opts: opts, running: map[*Plugin]struct{}{}}
}

// Target says which connector to launch for which source.
type Target struct {
	Source    string // the source name, for logs and errors
	Connector string // the connector name
	// Path, when set, is the executable to run instead of resolving the
	// connector by name.
	Path string
	// SHA256, when set, is the hex digest the executable must have.
	SHA256 string
	// Dir is the plugin's working directory (the config file's directory,
	// so relative paths in a source config mean what the user sees).
	Dir string
	// Secrets are redacted from the plugin's relayed logs and errors.
	Secrets []string
}

// Command returns the command line that runs a connector.
func (h *Host) Command(t Target) (path string, args []string, err error) {
	switch {
	case t.Path != "":
		return t.Path, nil, nil
	case h.opts.Builtin(t.Connector):
		self := h.opts.Self
		if self == "" {
			if self, err = os.Executable(); err != nil {
				return "", nil, fmt.Errorf("finding the desilo executable: %w", err)
			}
		}
		return self, []string{"connector", "serve", t.Connector}, nil
	}
	p, err := FindPlugin(h.opts.PluginDirs, t.Connector)
	return p, nil, err
}

// Launch starts the connector's process and completes the handshake.
func (h *Host) Launch(ctx context.Context, t Target) (*Plugin, error) {
	name := t.Source
	if name == "" {
		name = t.Connector
	}
	path, args, err := h.Command(t)
	if err != nil {
		if t.Source == "" { // the error names the connector
			return nil, err
		}
		return nil, fmt.Errorf("source %s: %w", name, err)
	}
	var secure *plugin.SecureConfig
	if t.SHA256 != "" {
		sum, err := hex.DecodeString(t.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("%s: plugin sha256 %q is not a hex SHA-256 digest", subject(t.Source, t.Connector), t.SHA256)
		}
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}

	// Cancelling procCtx kills the process (see Plugin.start).
	procCtx, killProc := context.WithCancel(context.Background())
	cmd := exec.CommandContext(procCtx, path, args...)
	cmd.Dir = t.Dir
	cmd.Env = append(os.Environ(), sdk.LogLevelEnv+"="+levelOf(h.opts.Logger).String())

	log := h.opts.Logger.With("source", name, "connector", t.Connector)
	stderr := newRelay(log, t.Secrets, map[string]string{"source": name, "connector": t.Connector})
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  rpc.Handshake,
		Plugins:          plugin.PluginSet{rpc.PluginName: &rpc.Plugin{}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     h.opts.StartTimeout,
		GRPCDialOptions:  rpc.DialOptions(),
		SecureConfig:     secure,
		Stderr:           stderr,
		SyncStderr:       stderr,
		SyncStdout:       &stdoutRelay{log: log, redact: stderr.redact},
		// The relay logs what the plugin says; go-plugin's own log would
		// say it a second time.
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Off}),
	}

	p := &Plugin{
		host: h, name: t.Source, connector: t.Connector, secrets: stderr.secrets,
		client: plugin.NewClient(cfg), cmd: cmd, killProc: killProc, stderr: stderr, log: log,
	}
	h.mu.Lock()
	h.running[p] = struct{}{}
	h.mu.Unlock()

	if err := p.start(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close kills every plugin this host still runs. Safe to call more than once.
func (h *Host) Close() {
	h.mu.Lock()
	ps := make([]*Plugin, 0, len(h.running))
	for p := range h.running {
		ps = append(ps, p)
	}
	h.mu.Unlock()
	for _, p := range ps {
		p.Close()
	}
}

func levelOf(l *slog.Logger) slog.Level {
	for _, lv := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		if l.Enabled(context.Background(), lv) {
			return lv
		}
	}
	return slog.LevelError
}

var errStart = errors.New("connector did not start")
