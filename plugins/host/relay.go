package host

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// relay is the io.Writer a plugin's stderr is copied to. It re-logs each
// line through the host's slog logger (tagged by the caller with the source
// name), redacts known secrets, and remembers the last lines so that a
// crash can be explained.
type relay struct {
	log     *slog.Logger
	secrets []string
	// tags are the attributes log already carries (source, connector): a
	// plugin's line that says one of them again is not relayed with it a
	// second time, which would give a JSON log line the same key twice.
	tags  map[string]string
	lines atomic.Int64 // lines relayed: a logging connector is not idle

	mu   sync.Mutex
	buf  []byte   // an unfinished line
	last []string // ring of recent lines
	next int
	// crash holds the first Go panic or fatal error the plugin printed
	// and the lines after it: the message and the frames that raised it,
	// which the last lines, deep in the stack's tail, do not show.
	crash []string
}

const (
	keepLines = 20
	// crashLines is how many lines of a panic are kept: the message, the
	// goroutine, and the topmost frames (function and file:line each).
	crashLines = 9
)

func newRelay(log *slog.Logger, secrets []string, tags map[string]string) *relay {
	var s []string
	for _, v := range secrets {
		if len(v) < 4 { // shorter values would redact ordinary words
			continue
		}
		s = append(s, v)
		// A secret holding a quote or a backslash also appears
		// JSON-escaped: in a line that is not valid JSON, or in a JSON
		// document logged as a string.
		for _, html := range []bool{false, true} {
			if e := jsonEscaped(v, html); e != v && !slices.Contains(s, e) {
				s = append(s, e)
			}
		}
	}
	return &relay{log: log, secrets: s, tags: tags}
}

// jsonEscaped is s as it appears inside a JSON string, with or without
// encoding/json's escaping of <, > and & (slog's JSON handler leaves them).
func jsonEscaped(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s) // a string always encodes
	// Without the quotes and Encode's newline.
	return string(b.Bytes()[1 : b.Len()-2])
}

func (r *relay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	for {
		i := bytes.IndexByte(r.buf, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimRight(r.buf[:i], "\r"))
		r.buf = r.buf[i+1:]
		if line != "" {
			r.line(line)
		}
	}
	return len(p), nil
}

func (r *relay) redact(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// line handles one complete line; r.mu is held.
func (r *relay) line(line string) {
	r.lines.Add(1)
	// Redacted twice: the raw line, since a line that is not JSON is
	// logged as it is, and then each decoded string, whatever escapes
	// the plugin's JSON used.
	level, msg, attrs := parseLogLine(r.redact(line), r.redact)
	switch {
	case r.crash == nil && (strings.HasPrefix(msg, "panic: ") || strings.HasPrefix(msg, "fatal error: ")):
		r.crash = []string{msg}
	case r.crash != nil && len(r.crash) < crashLines:
		r.crash = append(r.crash, msg)
	}
	attrs = slices.DeleteFunc(attrs, func(a any) bool {
		at := a.(slog.Attr)
		v, ok := r.tags[at.Key]
		return ok && at.Value.Kind() == slog.KindString && at.Value.String() == v
	})
	if len(r.last) < keepLines {
		r.last = append(r.last, msg)
	} else {
		r.last[r.next] = msg
		r.next = (r.next + 1) % keepLines
	}
	r.log.Log(context.Background(), level, msg, attrs...)
}

// Last returns the most recent lines, oldest first.
func (r *relay) Last() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.last))
	out = append(out, r.last[r.next:]...)
	return append(out, r.last[:r.next]...)
}

// Crash returns the start of the first panic or fatal error the plugin
// printed, or nil.
func (r *relay) Crash() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.crash)
}

// parseLogLine reads a slog JSON line (the SDK's format) or an hclog JSON
// line (go-plugin's own). Anything else, such as a panic's stack trace, is
// kept verbatim as a warning. redact is applied to the decoded message and
// to every decoded string, keys included.
func parseLogLine(line string, redact func(string) string) (slog.Level, string, []any) {
	if !strings.HasPrefix(line, "{") {
		return slog.LevelWarn, line, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return slog.LevelWarn, line, nil
	}
	level := slog.LevelInfo
	msg := line
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // stable attribute order in the host's log
	var attrs []any
	for _, k := range keys {
		v := m[k]
		switch k {
		case "time", "@timestamp", "@module", "@caller":
		case "level", "@level":
			s, _ := v.(string)
			if err := level.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
				level = slog.LevelInfo
			}
		case "msg", "@message":
			msg, _ = v.(string)
		default:
			attrs = append(attrs, slog.Any(redact(k), redactJSON(v, redact)))
		}
	}
	return level, redact(msg), attrs
}

// redactJSON redacts every string in a decoded JSON value.
func redactJSON(v any, redact func(string) string) any {
	switch v := v.(type) {
	case string:
		return redact(v)
	case []any:
		for i, e := range v {
			v[i] = redactJSON(e, redact)
		}
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[redact(k)] = redactJSON(e, redact)
		}
		return m
	}
	return v
}

// stdoutRelay is where a plugin's stdout goes after the handshake. A
// connector must not write there, but one that does (a leftover debug
// print) should hear of it rather than have its output vanish: each line
// is logged as a warning that says so.
type stdoutRelay struct {
	log    *slog.Logger
	redact func(string) string

	mu  sync.Mutex
	buf []byte
}

func (w *stdoutRelay) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 && len(w.buf) < maxStdoutLine {
			break
		}
		if i < 0 { // a line without end: log what came so far, hold no more
			i = len(w.buf)
		}
		line := string(bytes.TrimRight(w.buf[:i], "\r"))
		w.buf = w.buf[min(i+1, len(w.buf)):]
		if line != "" {
			w.log.Warn("connector wrote to stdout, which desilo does not read: log with connector.Log or slog (stderr) instead",
				"stdout", w.redact(line))
		}
	}
	return len(p), nil
}

// maxStdoutLine bounds what stdoutRelay holds of a line that does not end.
const maxStdoutLine = 64 << 10
