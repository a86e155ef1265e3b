package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/santhosh-tekuri/jsonschema/v5"
	"google.golang.org/grpc/codes"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/internal/rpc"
)

// Plugin is a running connector process. It implements connector.Connector.
type Plugin struct {
	host      *Host
	name      string // the source name
	connector string
	secrets   []string
	client    *plugin.Client
	cmd       *exec.Cmd
	killProc  context.CancelFunc // SIGKILLs cmd's process through its context
	stderr    *relay
	log       *slog.Logger

	rpc    *rpc.Client
	spec   connector.Spec
	schema *jsonschema.Schema

	closeOnce sync.Once
}

var _ connector.Connector = (*Plugin)(nil)

func (p *Plugin) start(ctx context.Context) error {
	// Client() blocks until the handshake is done or StartTimeout passes;
	// it takes no context, so a cancellation kills the process instead.
	// Not with client.Kill, which waits for the lock the handshake holds:
	// through the command's context, which os/exec watches from the moment
	// the process starts. The handshake then fails at once, and go-plugin
	// still reaps the process.
	stop := context.AfterFunc(ctx, p.killProc)
	cp, err := p.client.Client()
	stop()
	if err != nil {
		if ctx.Err() != nil {
			what := "starting connector " + p.connector
			if p.name != "" {
				what = "source " + p.name + ": " + what
			}
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return p.explain(fmt.Errorf("%w: %v", errStart, err))
	}
	raw, err := cp.Dispense(rpc.PluginName)
	if err != nil {
		return p.explain(fmt.Errorf("%w: %v", errStart, err))
	}
	p.rpc = raw.(*rpc.Client)

	cctx, cancel := context.WithTimeout(ctx, p.host.opts.CallTimeout)
	defer cancel()
	spec, err := p.rpc.FetchSpec(cctx)
	if err != nil {
		return p.fail(ctx, cctx, "Spec", err)
	}
	if spec.ProtocolVersion != connector.ProtocolVersion {
		return fmt.Errorf("%s speaks protocol %d, this desilo speaks %d: upgrade one of them",
			subject(p.name, p.connector), spec.ProtocolVersion, connector.ProtocolVersion)
	}
	if spec.Name != p.connector {
		return fmt.Errorf("%s: the plugin calls itself %q", subject(p.name, p.connector), spec.Name)
	}
	p.spec = spec
	if p.schema, err = CompileConfigSchema(spec); err != nil {
		return fmt.Errorf("%s: %w", subject(p.name, p.connector), err)
	}
	return nil
}

// Spec returns the spec the plugin reported at launch.
func (p *Plugin) Spec() connector.Spec { return p.spec }

// Check validates config against the connector's schema, then asks the connector.
func (p *Plugin) Check(ctx context.Context, config json.RawMessage) error {
	if err := p.validate(config); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, p.host.opts.CallTimeout)
	defer cancel()
	if err := p.rpc.Check(cctx, config); err != nil {
		return p.fail(ctx, cctx, "Check", err)
	}
	return nil
}

// Discover validates config, then lists the connector's streams.
func (p *Plugin) Discover(ctx context.Context, config json.RawMessage) ([]connector.Stream, error) {
	if err := p.validate(config); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, p.host.opts.CallTimeout)
	defer cancel()
	streams, err := p.rpc.Discover(cctx, config)
	if err != nil {
		return nil, p.fail(ctx, cctx, "Discover", err)
	}
	return streams, nil
}

// errIdle is the cause of a read cancelled because the connector went quiet.
var errIdle = errors.New("connector went quiet")

// Read validates config, then relays the connector's records to out. A
// connector that sends nothing and logs nothing for IdleTimeout (while the
// host is not busy with what it sent) is taken to hang and is killed.
func (p *Plugin) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	if err := p.validate(req.Config); err != nil {
		return err
	}
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := &watched{out: out, logs: &p.stderr.lines}
	stop := make(chan struct{})
	defer close(stop)
	go w.watch(p.host.opts.IdleTimeout, stop, func() {
		cancel(errIdle)
		p.client.Kill()
	})
	if err := p.rpc.Read(rctx, req, w); err != nil {
		if herr := w.hostErr(); herr != nil && err == herr && ctx.Err() == nil {
			// The host's own emitter refused what the connector sent (a
			// stream it did not ask for, a staging failure): that error
			// says what went wrong; the connector is alive and well.
			return err
		}
		if errors.Is(context.Cause(rctx), errIdle) {
			return fmt.Errorf("%s sent nothing for %s and was stopped: it hangs%s",
				subject(p.name, p.connector), p.host.opts.IdleTimeout, p.lastLines())
		}
		return p.fail(ctx, rctx, "Read", err)
	}
	return nil
}

// Close ends the plugin process. Safe to call more than once.
func (p *Plugin) Close() {
	p.closeOnce.Do(func() {
		p.client.Kill()
		p.killProc() // the process is reaped: this only frees its context
		p.host.mu.Lock()
		delete(p.host.running, p)
		p.host.mu.Unlock()
	})
}

// Pid is the plugin's process id, or 0 before it started.
func (p *Plugin) Pid() int {
	if p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// watched is the host-side emitter wrapper that tracks activity for the
// idle timeout. Time spent inside the host's own emitter does not count
// as the connector being quiet, nor does a log line it relays (waiting out
// a rate limit, say). Activity is a counter, not a clock read per record:
// the watchdog notices when it stops moving.
type watched struct {
	out    connector.Emitter
	logs   *atomic.Int64 // the plugin's relayed log lines
	calls  atomic.Int64
	inHost atomic.Bool
	err    atomic.Pointer[error] // the first error out returned
}

// hostErr returns the first error the host's emitter returned, or nil.
func (w *watched) hostErr() error {
	if e := w.err.Load(); e != nil {
		return *e
	}
	return nil
}

// keep remembers the first error of the host's emitter.
func (w *watched) keep(err error) error {
	if err != nil {
		w.err.CompareAndSwap(nil, &err)
	}
	return err
}

func (w *watched) activity() int64 { return w.calls.Load() + w.logs.Load() }

func (w *watched) watch(idle time.Duration, stop <-chan struct{}, onIdle func()) {
	t := time.NewTicker(min(idle/4, time.Second))
	defer t.Stop()
	last, since := w.activity(), time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			if n := w.activity(); n != last || w.inHost.Load() {
				last, since = n, now
				continue
			}
			if now.Sub(since) > idle {
				onIdle()
				return
			}
		}
	}
}

func (w *watched) enter() { w.inHost.Store(true) }
func (w *watched) leave() { w.calls.Add(1); w.inHost.Store(false) }

func (w *watched) Emit(ctx context.Context, r connector.Record) error {
	w.enter()
	defer w.leave()
	return w.keep(w.out.Emit(ctx, r))
}

func (w *watched) Reject(ctx context.Context, r connector.Reject) error {
	w.enter()
	defer w.leave()
	return w.keep(w.out.Reject(ctx, r))
}

func (w *watched) Checkpoint(ctx context.Context, s json.RawMessage) error {
	w.enter()
	defer w.leave()
	return w.keep(w.out.Checkpoint(ctx, s))
}

// fail turns what went wrong in a call into an error a user can act on.
// ctx is the caller's context, callCtx the call's own, with the host's
// deadline if the call has one.
func (p *Plugin) fail(ctx, callCtx context.Context, call string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %s cancelled: %w", subject(p.name, p.connector), call, ctx.Err())
	}
	if errors.Is(err, rpc.ErrProtocol) {
		return fmt.Errorf("%s: %w", subject(p.name, p.connector), err)
	}
	var re *rpc.RemoteError
	if errors.As(err, &re) {
		switch {
		case re.Code == codes.DeadlineExceeded && p.hostDeadline(callCtx):
			return fmt.Errorf("%s did not answer %s within %s%s",
				subject(p.name, p.connector), call, p.host.opts.CallTimeout, p.lastLines())
		case re.Code == codes.Unknown, re.Code == codes.DeadlineExceeded, re.Code == codes.InvalidArgument:
			// The connector's own error (a DeadlineExceeded one is its own
			// timeout, an HTTP client's say): its words are the best
			// explanation. InvalidArgument carries connector.ErrConfig.
			return &Error{Source: p.name, Connector: p.connector, Msg: p.redact(re.Msg), Config: re.Code == codes.InvalidArgument}
		}
	}
	return p.explain(err)
}

// hostDeadline says whether the call's own deadline has come. By the
// clock, not by callCtx.Err() alone: the plugin, in its own process, ends
// the call at the deadline it was sent, and on a loaded machine its answer
// can be read here before this process's timer has marked callCtx done.
func (p *Plugin) hostDeadline(callCtx context.Context) bool {
	if callCtx.Err() == context.DeadlineExceeded {
		return true
	}
	d, ok := callCtx.Deadline()
	return ok && time.Until(d) < min(p.host.opts.CallTimeout/10, time.Second)
}

// explain describes a failure of the process or the connection: how the
// process ended, and its last log lines.
func (p *Plugin) explain(err error) error {
	// The connection usually breaks a moment before the process is reaped.
	for deadline := time.Now().Add(2 * time.Second); !p.client.Exited() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	exited := p.client.Exited() && p.cmd.ProcessState != nil
	var what string
	switch {
	case errors.Is(err, errStart):
		// go-plugin kills a process that fails the handshake, so its own
		// message says more than the exit status.
		what = "did not start: " + p.redact(handshakeFailure(strings.TrimPrefix(err.Error(), errStart.Error()+": ")))
		if exited && p.cmd.ProcessState.ExitCode() > 0 {
			what += " (" + exitReason(p.cmd.ProcessState) + ")"
		}
	case exited:
		what = "exited: " + exitReason(p.cmd.ProcessState)
	default:
		what = "failed: " + p.redact(err.Error())
	}
	return &Error{Source: p.name, Connector: p.connector, Msg: what + p.lastLines(), Crashed: p.client.Exited()}
}

// handshakeFailure rewords go-plugin's "Unrecognized remote plugin
// message" (whose hints are about architectures and permissions) for what
// a connector author did: a line on stdout before the handshake, or an
// exit without one.
func handshakeFailure(msg string) string {
	var theirs, ours int
	if _, err := fmt.Sscanf(msg, "incompatible API version with plugin. Plugin version: %d, Client versions: [%d]", &theirs, &ours); err == nil {
		return fmt.Sprintf("it speaks connector protocol %d, this desilo speaks %d: rebuild the connector against the SDK of this desilo version (plugins/sdk), or use a desilo that speaks protocol %d",
			theirs, ours, theirs)
	}
	rest, ok := strings.CutPrefix(msg, "Unrecognized remote plugin message: ")
	if !ok {
		return msg
	}
	line, _, _ := strings.Cut(rest, "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "it exited without the plugin handshake: its main must call sdk.Serve"
	}
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return fmt.Sprintf("it wrote %q to stdout before the plugin handshake; stdout belongs to the plugin protocol: log with connector.Log or slog (stderr), never to stdout", line)
}

func exitReason(ps interface {
	Sys() any
	ExitCode() int
}) string {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		s := "signal " + ws.Signal().String()
		if ws.Signal() == syscall.SIGKILL {
			s += " (out of memory?)"
		}
		return s
	}
	return fmt.Sprintf("exit status %d", ps.ExitCode())
}

func (p *Plugin) lastLines() string {
	if crash := p.stderr.Crash(); crash != nil {
		return "; it panicked (a bug in the connector):\n  " + strings.Join(crash, "\n  ")
	}
	lines := p.stderr.Last()
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return "; last log lines:\n  " + strings.Join(lines, "\n  ")
}

func (p *Plugin) redact(s string) string {
	for _, v := range p.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// Error is a failure of a connector, naming its source.
type Error struct {
	Source, Connector string
	Msg               string
	// Crashed is set when the process ended.
	Crashed bool
	// Config is set when the connector said the source's config is wrong
	// (connector.ErrConfig), which errors.Is then reports.
	Config bool
}

// Is makes errors.Is(err, connector.ErrConfig) hold for a config the
// connector refused.
func (e *Error) Is(target error) bool { return e.Config && target == connector.ErrConfig }

func (e *Error) Error() string {
	sep := ": "
	if strings.HasPrefix(e.Msg, "exited:") || strings.HasPrefix(e.Msg, "did not start") || strings.HasPrefix(e.Msg, "failed:") {
		sep = " "
	}
	return subject(e.Source, e.Connector) + sep + e.Msg
}

// subject names a plugin in errors: "source S: connector C", or
// "connector C" when it runs for no source (desilo connector spec).
func subject(source, connector string) string {
	if source == "" {
		return "connector " + connector
	}
	return "source " + source + ": connector " + connector
}

// validate checks a source's config against the connector's config schema.
func (p *Plugin) validate(config json.RawMessage) error {
	if err := ValidateConfig(p.schema, config); err != nil {
		return fmt.Errorf("%s: %w", subject(p.name, p.connector), err)
	}
	return nil
}

// CompileConfigSchema compiles a connector's config schema.
func CompileConfigSchema(spec connector.Spec) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	url := "desilo://connector/" + spec.Name + "/config.schema.json"
	if err := c.AddResource(url, bytes.NewReader(spec.ConfigSchema)); err != nil {
		return nil, fmt.Errorf("connector %s has an invalid config schema: %w", spec.Name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("connector %s has an invalid config schema: %w", spec.Name, err)
	}
	return s, nil
}

// ValidateConfig checks config against a compiled config schema; the
// error lists every problem with the field it is about
// ("config.streams[0].paths: expected array, but got string").
func ValidateConfig(s *jsonschema.Schema, config json.RawMessage) error {
	if len(config) == 0 {
		config = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.UseNumber() // keep numbers exact for the schema's checks
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("config is not valid JSON: %w", err)
	}
	err := s.Validate(v)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var msgs []string
	for _, e := range leaves(ve) {
		msgs = append(msgs, fieldPath("config", e.InstanceLocation)+": "+e.Message)
	}
	return &ConfigError{Problems: msgs}
}

// ConfigError lists what is wrong with a source's config.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid config: " + e.Problems[0]
	}
	return "invalid config:\n  " + strings.Join(e.Problems, "\n  ")
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// fieldPath turns a JSON pointer ("/streams/0/paths") into the form a
// user reads in YAML ("config.streams[0].paths").
func fieldPath(root, ptr string) string {
	var b strings.Builder
	b.WriteString(root)
	for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if part == "" {
			continue
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if isIndex(part) {
			b.WriteString("[" + part + "]")
		} else {
			b.WriteString("." + part)
		}
	}
	return b.String()
}

func isIndex(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
