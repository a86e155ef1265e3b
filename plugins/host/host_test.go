package host_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/host"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// syncBuffer is a log sink the relay goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// launchFake starts the test binary as the fake plugin.
func launchFake(t testing.TB, opts host.Options, secrets ...string) (*host.Plugin, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	t.Setenv(fakePluginEnv, "serve")
	h := host.New(opts)
	t.Cleanup(h.Close)
	p, err := h.Launch(context.Background(), host.Target{Source: "src", Connector: "fake", Path: os.Args[0], Secrets: secrets})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	return p, logs
}

func cfg(t testing.TB, v map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(t testing.TB, p *host.Plugin, config json.RawMessage) (*sdktest.Collector, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := &sdktest.Collector{}
	err := p.Read(ctx, connectorReq(config), c)
	if ctx.Err() != nil {
		t.Fatalf("read did not end by itself: %v", err)
	}
	return c, err
}

func TestReadThroughPlugin(t *testing.T) {
	p, _ := launchFake(t, host.Options{})
	if got := p.Spec().Name; got != "fake" {
		t.Fatalf("spec name = %q", got)
	}
	// 2,500 records of 300 bytes: several batches, checkpoints in between.
	c, err := readAll(t, p, cfg(t, map[string]any{"mode": "ok", "count": 2500, "size": 300}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Records) != 2500 {
		t.Fatalf("got %d records, want 2500", len(c.Records))
	}
	for i, r := range c.Records {
		var v struct{ ID int }
		if err := json.Unmarshal(r.Data, &v); err != nil || v.ID != i || r.Stream != "items" {
			t.Fatalf("record %d = %s (%v): out of order or corrupt", i, r.Data, err)
		}
	}
	if got := string(c.State()); got != "2500" {
		t.Fatalf("last checkpoint = %s, want 2500", got)
	}
	if len(c.Checkpoints) != 26 {
		t.Fatalf("got %d checkpoints, want 26 (every 100 records and one at the end)", len(c.Checkpoints))
	}
	// Resume from a checkpoint: only what follows it arrives.
	c2 := &sdktest.Collector{}
	req := connectorReq(cfg(t, map[string]any{"mode": "ok", "count": 2500, "size": 10}))
	req.State = c.Checkpoints[20]
	if err := p.Read(context.Background(), req, c2); err != nil {
		t.Fatal(err)
	}
	if len(c2.Records) != 400 {
		t.Fatalf("resumed read got %d records, want 400", len(c2.Records))
	}
}

func TestConfigValidatedBeforeCalls(t *testing.T) {
	p, _ := launchFake(t, host.Options{})
	tests := []struct {
		name, config, want string
	}{
		{"unknown field", `{"mode":"ok","cuont":3}`, "config: additionalProperties 'cuont' not allowed"},
		{"bad enum", `{"mode":"sometimes"}`, "config.mode: value must be one of"},
		{"wrong type", `{"count":"many"}`, "config.count: expected integer, but got string"},
		{"not json", `{`, "config is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check(context.Background(), json.RawMessage(tt.config))
			var ce *host.ConfigError
			if !errors.As(err, &ce) && !strings.Contains(fmt.Sprint(err), "not valid JSON") {
				t.Fatalf("Check error = %v, want a config error", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "source src: ") {
				t.Fatalf("error %q does not contain %q with the source name", err, tt.want)
			}
		})
	}
}

// connector.ErrConfig crosses the process boundary: the host's error
// still says the config is wrong, and other errors do not.
func TestConfigErrorCrossesTheBoundary(t *testing.T) {
	p, _ := launchFake(t, host.Options{})
	err := p.Check(context.Background(), cfg(t, map[string]any{"mode": "configerr"}))
	if !errors.Is(err, connector.ErrConfig) || !strings.Contains(err.Error(), `table "kunden" does not exist`) {
		t.Fatalf("Check = %v, want the connector's words and errors.Is(err, connector.ErrConfig)", err)
	}
	err = p.Check(context.Background(), cfg(t, map[string]any{"mode": "fail"}))
	if err == nil || errors.Is(err, connector.ErrConfig) {
		t.Fatalf("Check of another failure = %v, want an error that is not ErrConfig", err)
	}
}

func TestConnectorErrorKeepsItsWordsAndHidesSecrets(t *testing.T) {
	const token = "pat-na1-11111111-2222"
	p, logs := launchFake(t, host.Options{}, token)
	err := p.Check(context.Background(), cfg(t, map[string]any{"mode": "fail", "token": token}))
	if err == nil {
		t.Fatal("Check passed, want the connector's error")
	}
	if want := "source src: connector fake: the fake refuses: token [redacted] is not valid"; err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
	_, err = readAll(t, p, cfg(t, map[string]any{"mode": "logsecret", "count": 3, "after": 1, "token": token}))
	if err != nil {
		t.Fatal(err)
	}
	// stderr travels beside the gRPC stream, so the line may trail the read.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "calling the API"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin log line was not relayed; host log:\n%s", logs)
		}
	}
	if strings.Contains(logs.String(), token) {
		t.Fatalf("the token reached the host's log:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "source=src") {
		t.Fatalf("relayed lines are not tagged with the source:\n%s", logs)
	}
}

// captureHandler keeps the message and every attribute the host logs, as
// the log's reader (a person, or a pipeline that decodes JSON) sees them.
type captureHandler struct {
	mu   *sync.Mutex
	vals *[]string
}

func (h captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.vals = append(*h.vals, r.Message)
	r.Attrs(func(a slog.Attr) bool { *h.vals = append(*h.vals, a.Key+"="+a.Value.String()); return true })
	return nil
}
func (h captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h captureHandler) WithGroup(string) slog.Handler      { return h }

// TestRelayRedactsSecretsWithEscapedCharacters: in the plugin's JSON log
// line a secret holding a quote or a backslash is escaped; the host logs
// the decoded value, so that is what must be redacted.
func TestRelayRedactsSecretsWithEscapedCharacters(t *testing.T) {
	const token = `pw"with\quote`
	var mu sync.Mutex
	var vals []string
	p, _ := launchFake(t, host.Options{Logger: slog.New(captureHandler{&mu, &vals})}, token)
	if _, err := readAll(t, p, cfg(t, map[string]any{"mode": "logsecret", "count": 3, "after": 1, "token": token})); err != nil {
		t.Fatal(err)
	}
	seen := func() (bool, []string) {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(vals, func(s string) bool { return strings.Contains(s, "calling the API") }), slices.Clone(vals)
	}
	// stderr travels beside the gRPC stream, so the line may trail the read.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ok, got := seen()
		if ok {
			for _, v := range got {
				if strings.Contains(v, token) {
					t.Fatalf("the secret reached the host's log: %q", v)
				}
			}
			if !slices.Contains(got, "token=[redacted]") {
				t.Fatalf("the token attribute is not redacted: %q", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin log line was not relayed: %q", got)
		}
	}
}

func TestConnectorFailures(t *testing.T) {
	tests := []struct {
		name  string
		mode  string
		opts  host.Options
		wants []string
		// orderly: the connector's process is alive when the read ends, so
		// everything it sent before arrives. A process that dies may lose
		// what was still in its socket buffer.
		orderly bool
	}{
		{"crash mid-stream", "crash", host.Options{}, []string{"source src: connector fake exited: exit status 2", "fake connector gives up"}, false},
		// The panic's message and the connector's frame that raised it, not
		// the last lines of the stack, which are gRPC's.
		{"panics mid-stream", "panic", host.Options{}, []string{"source src: connector fake exited: exit status 2; it panicked", "panic: assignment to entry in nil map", "host_test.fake.Read(", "fake_test.go:"}, false},
		{"killed", "sigkill", host.Options{}, []string{"source src: connector fake exited: signal killed (out of memory?)"}, false},
		{"exits 0 mid-stream", "exit0", host.Options{}, []string{"source src: connector fake exited: exit status 0"}, false},
		{"hangs", "hang", host.Options{IdleTimeout: time.Second}, []string{"source src: connector fake sent nothing for 1s and was stopped: it hangs", "fake connector hangs now"}, true},
		{"returns an error", "fail", host.Options{}, []string{"source src: connector fake: upstream said no at record 250"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := launchFake(t, tt.opts)
			c, err := readAll(t, p, cfg(t, map[string]any{"mode": tt.mode, "count": 1000, "after": 250}))
			if err == nil {
				t.Fatal("read succeeded, want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "rpc error") {
				t.Errorf("error leaks gRPC internals: %q", err)
			}
			// No checkpoint runs ahead of the records that arrived, and
			// those arrived in order.
			state, _ := strconv.Atoi(string(c.State()))
			if len(c.Records) < state || state > 200 {
				t.Errorf("checkpoint %d with %d records received", state, len(c.Records))
			}
			if tt.orderly && state != 200 {
				t.Errorf("last checkpoint = %d, want 200", state)
			}
			for i, r := range c.Records {
				if !bytes.HasPrefix(r.Data, []byte(`{"id":`+strconv.Itoa(i)+`,`)) {
					t.Fatalf("record %d is %s", i, r.Data)
				}
			}
		})
	}
}

// TestHostEmitterErrorIsReturnedAsIs: when the host's own emitter refuses
// what the connector sent (a record of a stream it did not ask for), that
// error is the explanation, returned at once; the connector did not fail.
func TestHostEmitterErrorIsReturnedAsIs(t *testing.T) {
	p, _ := launchFake(t, host.Options{})
	refused := errors.New(`source src: the connector sent a record of stream "items", which was not requested`)
	c := &sdktest.Collector{OnEmit: func(connector.Record) error { return refused }}
	start := time.Now()
	err := p.Read(context.Background(), connectorReq(cfg(t, map[string]any{"mode": "ok", "count": 10})), c)
	if err != refused {
		t.Fatalf("error = %v, want the emitter's own %q", err, refused)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Read took %s to return the emitter's error", d)
	}
}

// TestStdoutAfterHandshakeIsLogged: a connector's print to stdout once it
// runs is not lost: it is logged as a warning that says where it came from
// and what to use instead, with secrets redacted.
func TestStdoutAfterHandshakeIsLogged(t *testing.T) {
	token := "s3cr3t-t0ken"
	p, logs := launchFake(t, host.Options{}, token)
	if _, err := readAll(t, p, cfg(t, map[string]any{"mode": "stdout", "count": 10, "after": 3, "token": token})); err != nil {
		t.Fatal(err)
	}
	want := "connector wrote to stdout, which desilo does not read"
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), want) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, want) || !strings.Contains(out, "debug: at record 3") {
		t.Fatalf("logs do not relay the stdout line:\n%s", out)
	}
	if strings.Contains(out, token) {
		t.Fatalf("logs hold the secret:\n%s", out)
	}
}

// TestBusyConnectorIsNotStoppedAsHung: a connector that emits slowly
// (records wait in a partial batch) or logs while it waits is working, not
// hanging, though idle for longer than the idle timeout between records.
func TestBusyConnectorIsNotStoppedAsHung(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
	}{
		{"emits a record every 100ms", map[string]any{"mode": "slow", "count": 30, "delay": 100, "every": 1000}},
		{"logs every 200ms for 3s before its first record", map[string]any{"mode": "logwait", "count": 3, "delay": 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := launchFake(t, host.Options{IdleTimeout: time.Second})
			c, err := readAll(t, p, cfg(t, tt.config))
			if err != nil {
				t.Fatalf("stopped (idle timeout 1s) after %d records: %v", len(c.Records), err)
			}
			if want := tt.config["count"].(int); len(c.Records) != want || string(c.State()) != strconv.Itoa(want) {
				t.Fatalf("got %d records and state %s, want %d", len(c.Records), c.State(), want)
			}
		})
	}
}

// TestConnectorTimeouts: a connector's own timeout (an error wrapping
// context.DeadlineExceeded, as every Go HTTP client timeout does) is its
// error, told in its words; only the host's own call deadline is told as
// the connector not answering.
func TestConnectorTimeouts(t *testing.T) {
	t.Run("the connector's own", func(t *testing.T) {
		p, _ := launchFake(t, host.Options{})
		_, err := readAll(t, p, cfg(t, map[string]any{"mode": "timeout", "count": 10, "after": 5}))
		want := "source src: connector fake: GET https://api.example.com/items?page=3: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v, want %q", err, want)
		}
	})
	t.Run("the host's call deadline", func(t *testing.T) {
		p, _ := launchFake(t, host.Options{CallTimeout: 500 * time.Millisecond})
		err := p.Check(context.Background(), cfg(t, map[string]any{"mode": "hang"}))
		want := "source src: connector fake did not answer Check within 500ms"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("error = %v, want %q", err, want)
		}
	})
}

// TestProtocolBreakAtHandshake: a plugin that prints to stdout before the
// handshake, exits without one, or speaks another protocol version is told what it did and what to do,
// not go-plugin's guesses about architectures and permissions.
func TestProtocolBreakAtHandshake(t *testing.T) {
	for _, tt := range []struct{ mode, want string }{
		{"garbage", `source src: connector fake did not start: it wrote "hello, I am not a plugin" to stdout before the plugin handshake; stdout belongs to the plugin protocol: log with connector.Log or slog (stderr), never to stdout`},
		{"noserve", "source src: connector fake did not start: it exited without the plugin handshake: its main must call sdk.Serve"},
		{"protocol2", "source src: connector fake did not start: it speaks connector protocol 2, this desilo speaks 1: rebuild the connector against the SDK of this desilo version"},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			t.Setenv(fakePluginEnv, tt.mode)
			h := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
			defer h.Close()
			_, err := h.Launch(context.Background(), host.Target{Source: "src", Connector: "fake", Path: os.Args[0]})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant it to start with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "architecture") {
				t.Errorf("error repeats go-plugin's irrelevant hints: %v", err)
			}
		})
	}
}

func TestChecksumPin(t *testing.T) {
	t.Setenv(fakePluginEnv, "serve")
	h := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	defer h.Close()
	wrong := strings.Repeat("ab", 32)
	_, err := h.Launch(context.Background(), host.Target{Source: "src", Connector: "fake", Path: os.Args[0], SHA256: wrong})
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("error = %v, want a checksum mismatch", err)
	}
	_, err = h.Launch(context.Background(), host.Target{Source: "src", Connector: "fake", Path: os.Args[0], SHA256: "xyz"})
	if err == nil || !strings.Contains(err.Error(), "not a hex SHA-256") {
		t.Fatalf("error = %v, want a bad digest error", err)
	}
}

// TestCancelDuringHandshakeIsPrompt: Ctrl-C while a plugin has not yet
// finished its handshake ends the launch at once, not when StartTimeout
// passes, and leaves no process behind, not even a zombie.
func TestCancelDuringHandshakeIsPrompt(t *testing.T) {
	t.Setenv(fakePluginEnv, "slowstart")
	h := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil)), StartTimeout: 10 * time.Second})
	defer h.Close()
	before := children(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err := h.Launch(ctx, host.Target{Source: "src", Connector: "fake", Path: os.Args[0]})
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Launch returned %s after a cancel at 300ms (err %v)", took.Round(time.Millisecond), err)
	}
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "source src: starting connector fake") {
		t.Fatalf("error = %v, want the cancellation", err)
	}
	if left := slices.DeleteFunc(children(t), func(pid int) bool { return slices.Contains(before, pid) }); len(left) > 0 {
		t.Fatalf("processes %v are left behind", left)
	}
}

// children lists the processes whose parent is this one, zombies included.
func children(t *testing.T) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		t.Skip("no /proc to list child processes in")
	}
	var pids []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(os.Getpid()) {
			pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestCloseKillsPlugins(t *testing.T) {
	t.Setenv(fakePluginEnv, "serve")
	h := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	p, err := h.Launch(context.Background(), host.Target{Source: "src", Connector: "fake", Path: os.Args[0]})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	h.Close()
	waitGone(t, pid, 10*time.Second)
}

// TestOrphanedPluginExits kills a host with SIGKILL, so that it cannot
// clean up, and expects its plugin to notice and exit by itself.
func TestOrphanedPluginExits(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fakePluginEnv+"=host")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("child host did not report its plugin: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child host said %q", line)
	}
	if !alive(pid) {
		t.Fatalf("plugin %d is not running before the host is killed", pid)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	waitGone(t, pid, 10*time.Second)
}

// runChildHost is the host process of TestOrphanedPluginExits: it launches
// the fake plugin, prints the plugin's pid and waits to be killed.
func runChildHost() {
	os.Setenv(fakePluginEnv, "serve")
	h := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	p, err := h.Launch(context.Background(), host.Target{Source: "src", Connector: "fake", Path: os.Args[0]})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(p.Pid())
	select {}
}

func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	// A zombie has exited; only its parent has not reaped it yet.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("plugin %d still runs %s after its host is gone", pid, within)
}

// A relative --plugin-dir means a directory of the working directory,
// though the plugin runs in the config file's: `cd /opt/desilo && desilo
// sync -c conf/desilo.yaml --plugin-dir plugins`.
func TestRelativePluginDirWithConfigElsewhere(t *testing.T) {
	work := t.TempDir()
	if err := os.Mkdir(filepath.Join(work, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(work, "plugins", host.PluginPrefix+"fake")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	t.Setenv(fakePluginEnv, "serve")
	h := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil)), PluginDirs: []string{"plugins"}})
	defer h.Close()
	if _, err := h.Launch(context.Background(), host.Target{Source: "src", Connector: "fake", Dir: t.TempDir()}); err != nil {
		t.Fatalf("a plugin found in ./plugins did not start: %v", err)
	}
	found := host.ListPlugins([]string{"plugins"})
	if len(found) != 1 || !filepath.IsAbs(found[0].Path) {
		t.Errorf("ListPlugins = %v, want one plugin with an absolute path", found)
	}
}
