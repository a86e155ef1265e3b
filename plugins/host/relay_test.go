package host

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestRelayRedactsEveryFormOfASecret feeds the relay lines in which a
// secret with a quote, a backslash and an ampersand appears escaped in
// the ways JSON loggers escape it, nested, and inside a JSON document
// logged as a string.
func TestRelayRedactsEveryFormOfASecret(t *testing.T) {
	const secret = `s3"cr\et&x`
	tests := []struct{ name, line string }{
		{"plain text", `panic: token s3"cr\et&x rejected`},
		{"slog JSON", `{"level":"INFO","msg":"calling","token":"s3\"cr\\et&x"}`},
		{"HTML-escaped JSON", `{"level":"INFO","msg":"calling","token":"s3\"cr\\et\u0026x"}`},
		{"escapes a logger may choose", `{"level":"INFO","msg":"calling","token":"\u0073\u0033\u0022cr\u005cet&x"}`},
		{"in the message", `{"level":"INFO","msg":"token s3\"cr\\et&x"}`},
		{"nested", `{"level":"INFO","msg":"calling","req":{"headers":[{"auth":"Bearer s3\"cr\\et&x"}]}}`},
		{"as a key", `{"level":"INFO","msg":"calling","s3\"cr\\et&x":1}`},
		{"a JSON body logged as a string", `{"level":"INFO","msg":"calling","body":"{\"token\":\"s3\\\"cr\\\\et&x\"}"}`},
		{"JSON that does not parse", `{"level":"INFO","msg":"calling","token":"s3\"cr\\et&x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, h := range []struct {
				name string
				new  func(*bytes.Buffer) slog.Handler
			}{
				{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
				{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
			} {
				var out bytes.Buffer
				r := newRelay(slog.New(h.new(&out)), []string{secret}, nil)
				r.Write([]byte(tt.line + "\n"))
				if !strings.Contains(out.String(), "[redacted]") {
					t.Errorf("%s log: nothing redacted: %s", h.name, out.String())
				}
				for _, form := range []string{secret, jsonEscaped(secret, false), jsonEscaped(secret, true), "cr\\et", `cr\\et`, `cr\\\\et`} {
					if strings.Contains(out.String(), form) {
						t.Errorf("%s log holds %q: %s", h.name, form, out.String())
					}
				}
				if last := strings.Join(r.Last(), "\n"); strings.Contains(last, "cr\\et") {
					t.Errorf("last lines hold the secret: %s", last)
				}
			}
		})
	}
}

// A plugin printing to stdout without a line end must not make the host
// hold all of it: past maxStdoutLine the text so far is logged.
func TestStdoutRelayBoundsAnEndlessLine(t *testing.T) {
	var logs bytes.Buffer
	w := &stdoutRelay{log: slog.New(slog.NewTextHandler(&logs, nil)), redact: func(s string) string { return s }}
	chunk := bytes.Repeat([]byte("x"), 1000)
	for range 200 {
		w.Write(chunk)
	}
	if len(w.buf) >= maxStdoutLine {
		t.Fatalf("relay holds %d bytes of an unended line, want < %d", len(w.buf), maxStdoutLine)
	}
	if n := strings.Count(logs.String(), "connector wrote to stdout"); n != 200*1000/maxStdoutLine {
		t.Fatalf("%d warnings for 200,000 bytes without a line end, want %d", n, 200*1000/maxStdoutLine)
	}
	w.Write([]byte("tail\nnext line\n"))
	if !strings.Contains(logs.String(), "stdout=\"next line\"") {
		t.Fatalf("a later line is not logged on its own:\n%s", logs.String()[len(logs.String())-300:])
	}
}

// TestRelayDoesNotRepeatTheHostsTags: the host tags a plugin's log lines
// with source and connector, and a built-in connector's HTTP client says
// connector=hubspot itself; relayed as it was, a JSON log line held
// "connector" twice, which log shippers parse as they please.
func TestRelayDoesNotRepeatTheHostsTags(t *testing.T) {
	var out bytes.Buffer
	tags := map[string]string{"source": "crm", "connector": "hubspot"}
	log := slog.New(slog.NewJSONHandler(&out, nil)).With("source", "crm", "connector", "hubspot")
	r := newRelay(log, nil, tags)
	r.Write([]byte(`{"level":"WARN","msg":"retrying HTTP request","connector":"hubspot","attempt":1}` + "\n"))
	r.Write([]byte(`{"level":"INFO","msg":"file read","source":"exports/a.csv"}` + "\n"))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	if n := strings.Count(lines[0], `"connector":`); n != 1 || !strings.Contains(lines[0], `"attempt":1`) {
		t.Errorf("connector %d times, want once, with the plugin's other attributes: %s", n, lines[0])
	}
	// A plugin's attribute that only shares the key is kept.
	if !strings.Contains(lines[1], `"source":"exports/a.csv"`) {
		t.Errorf("the plugin's own source attribute is gone: %s", lines[1])
	}
}
