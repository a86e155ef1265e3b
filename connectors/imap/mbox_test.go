package imap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// readAll runs Read and decodes the records.
func readAll(t *testing.T, ctx context.Context, config string, state json.RawMessage) ([]Record, *sdktest.Collector) {
	t.Helper()
	col := &sdktest.Collector{}
	err := New().Read(ctx, connector.ReadRequest{Config: json.RawMessage(config), State: state}, col)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var recs []Record
	for _, r := range col.Records {
		var rec Record
		if err := json.Unmarshal(r.Data, &rec); err != nil {
			t.Fatalf("record %s: %v", r.Data, err)
		}
		recs = append(recs, rec)
	}
	return recs, col
}

func byID(recs []Record) map[string]Record {
	m := map[string]Record{}
	for _, r := range recs {
		m[r.ID] = r
	}
	return m
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMboxFixtures(t *testing.T) {
	cfg := mustJSON(t, map[string]any{
		"mbox":          []string{"testdata/*.mbox"},
		"own_addresses": []string{"@acme.example"},
		"bodies":        true,
	})
	recs, col := readAll(t, t.Context(), cfg, nil)
	if len(col.Rejects) != 0 {
		t.Fatalf("rejects: %+v", col.Rejects)
	}
	got := byID(recs)
	if len(got) != 5 {
		t.Fatalf("got %d records, want 5: %v", len(got), slices.Collect(func(yield func(string) bool) {
			for k := range got {
				yield(k)
			}
		}))
	}

	m1 := got["mbox:testdata/odd.mbox:m1@example.org"]
	if want := []Address{{Name: "Jürgen Müller", Address: "juergen@example.org"}}; !slices.Equal(m1.From, want) {
		t.Errorf("m1 from = %+v, want %+v", m1.From, want)
	}
	if m1.Subject != "Grüße aus Köln" {
		t.Errorf("m1 subject = %q", m1.Subject)
	}
	if m1.Date != "2023-01-02T16:04:05+01:00" || m1.Direction != "in" || m1.Counterpart != "juergen@example.org" || m1.Mailbox != "odd" {
		t.Errorf("m1 = date %q direction %q counterpart %q mailbox %q", m1.Date, m1.Direction, m1.Counterpart, m1.Mailbox)
	}
	if m1.Body == nil || *m1.Body != "Schöne Grüße,\nFrom the desk of Jürgen\n>From here on quoted twice\n" {
		t.Errorf("m1 body = %q (quoted-printable Latin-1, >From unquoted once)", deref(m1.Body))
	}
	if m1.Offset == nil || *m1.Offset != 0 || m1.File != "testdata/odd.mbox" {
		t.Errorf("m1 location = %s %v", m1.File, m1.Offset)
	}

	m2 := got["mbox:testdata/odd.mbox:m2@example.net"]
	if m2.Subject != "Präsentation" || len(m2.From) != 1 || m2.From[0].Name != "Björn Ek" {
		t.Errorf("m2 raw Latin-1 headers: subject %q from %+v", m2.Subject, m2.From)
	}
	if m2.Date != "2023-01-03T09:00:00Z" {
		t.Errorf("m2 without Date: date = %q, want the From line's", m2.Date)
	}
	if m2.InReplyTo != "o1@acme.example" || m2.ThreadID != "root@acme.example" || !slices.Equal(m2.References, []string{"root@acme.example", "o1@acme.example"}) {
		t.Errorf("m2 threading: in_reply_to %q thread %q refs %v", m2.InReplyTo, m2.ThreadID, m2.References)
	}

	m3 := got["mbox:testdata/crlf.mbox:m3@example.com"]
	if want := []Address{{Name: "Carol, C.", Address: "carol@example.com"}}; !slices.Equal(m3.From, want) {
		t.Errorf("m3 from = %+v", m3.From)
	}
	if want := []Address{{Address: "info@acme.example"}, {Name: "Dave", Address: "dave@example.com"}}; !slices.Equal(m3.To, want) {
		t.Errorf("m3 to = %+v", m3.To)
	}
	if want := []Address{{Name: "Zoë", Address: "zoe@example.com"}}; !slices.Equal(m3.Cc, want) {
		t.Errorf("m3 cc = %+v", m3.Cc)
	}
	if m3.Body == nil || *m3.Body != "Body line one\r\n" {
		t.Errorf("m3 body = %q", deref(m3.Body))
	}
	// The CRLF file's second message has no Message-ID: keyed by its
	// content.
	var second Record
	for id, m := range got {
		if strings.HasPrefix(id, "mbox:testdata/crlf.mbox#") {
			second = m
		}
	}
	if second.Subject != "second" || second.Size != int64(len("From: erin@example.com\r\nTo: info@acme.example\r\nSubject: second\r\nDate: Wed, 1 Feb 2023 11:00:00 +0000\r\n\r\nno message id\r\n")) {
		t.Errorf("crlf second message = %+v", second)
	}

	o2 := got["mbox:testdata/Sent.mbox:o2@acme.example"]
	if o2.Direction != "out" || o2.Counterpart != "juergen@example.org" || o2.Mailbox != "Sent" {
		t.Errorf("o2 direction %q counterpart %q mailbox %q (own address in To must be skipped)", o2.Direction, o2.Counterpart, o2.Mailbox)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// logBuffer returns a context whose connector logger writes JSON lines
// into the returned buffer.
func logBuffer(ctx context.Context) (context.Context, *syncBuffer) {
	var buf syncBuffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return connector.WithLogger(ctx, l), &buf
}

func TestMboxIncremental(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inbox.mbox")
	fixture, err := os.ReadFile("testdata/odd.mbox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := mustJSON(t, map[string]any{"mbox": []string{path}})

	first, col := readAll(t, t.Context(), cfg, nil)
	if len(first) != 2 {
		t.Fatalf("first read: %d records, want 2", len(first))
	}

	// Unchanged: nothing.
	again, col2 := readAll(t, t.Context(), cfg, col.State())
	if len(again) != 0 {
		t.Fatalf("unchanged file: %d records, want 0", len(again))
	}

	// Appended: only the new message.
	appended := "From x@example.com Fri Mar  3 10:00:00 2023\nFrom: x@example.com\nMessage-ID: <new@example.com>\nSubject: new\n\nhi\n"
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(appended); err != nil {
		t.Fatal(err)
	}
	f.Close()
	bumpMtime(t, path)
	recs, col3 := readAll(t, t.Context(), cfg, col2.State())
	if len(recs) != 1 || recs[0].MessageID != "new@example.com" || *recs[0].Offset != int64(len(fixture)) {
		t.Fatalf("after append: %+v, want only new@example.com at offset %d", recs, len(fixture))
	}

	// Rewritten (a message removed): read again from the start, and said so.
	if err := os.WriteFile(path, []byte(appended), 0o600); err != nil {
		t.Fatal(err)
	}
	bumpMtime(t, path)
	ctx, logs := logBuffer(t.Context())
	recs, _ = readAll(t, ctx, cfg, col3.State())
	if len(recs) != 1 || recs[0].ID != "mbox:"+path+":new@example.com" {
		t.Fatalf("after rewrite: %+v", recs)
	}
	if !strings.Contains(logs.String(), "reading it again from the start") {
		t.Errorf("rewrite not logged; logs: %s", logs.String())
	}
}

// A message without a Message-ID keeps its id when an earlier message is
// removed from the file, which is then read again from the start: keyed
// by its offset, it would have been staged a second time.
func TestMboxIDWithoutMessageIDSurvivesRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "INBOX.mbox")
	first := "From a@example.com Thu Mar  2 09:00:00 2023\nFrom: a@example.com\nSubject: the first message\n\none\n\n"
	noID := "From b@example.com Thu Mar  2 10:00:00 2023\nFrom: b@example.com\nSubject: no id\n\ntwo\n\n"
	other := "From b@example.com Thu Mar  2 10:00:00 2023\nFrom: b@example.com\nSubject: no id\n\nthree\n"
	if err := os.WriteFile(path, []byte(first+noID+other), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := mustJSON(t, map[string]any{"mbox": []string{path}})
	recs, col := readAll(t, t.Context(), cfg, nil)
	ids := func(recs []Record) map[string]string {
		out := map[string]string{}
		for _, r := range recs {
			out[r.ID] = r.Subject
		}
		return out
	}
	before := ids(recs)
	if len(before) != 3 {
		t.Fatalf("%d distinct ids for three messages, want 3: %v", len(before), before)
	}
	if err := os.WriteFile(path, []byte(noID+other), 0o600); err != nil {
		t.Fatal(err)
	}
	bumpMtime(t, path)
	recs, _ = readAll(t, t.Context(), cfg, col.State())
	after := ids(recs)
	if len(after) != 2 {
		t.Fatalf("after removing the first message: %v, want 2 records", after)
	}
	for id := range after {
		if _, ok := before[id]; !ok {
			t.Errorf("id %s is new after an earlier message was removed; before: %v", id, before)
		}
	}
}

// bumpMtime makes a change visible even on file systems with coarse
// timestamps.
func bumpMtime(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mt := fi.ModTime().Add(time.Second)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func TestMboxCheckpointsEveryBatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.mbox")
	var b strings.Builder
	for i := range 5 {
		b.WriteString("From a@example.com Fri Mar  3 10:00:00 2023\nFrom: a@example.com\nSubject: s" + string(rune('0'+i)) + "\n\nbody\n\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := mustJSON(t, map[string]any{"mbox": []string{path}, "batch_size": 2})
	recs, col := readAll(t, t.Context(), cfg, nil)
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	// After records 2 and 4, at the end of the file, and at the end of Read.
	if len(col.Checkpoints) != 4 {
		t.Fatalf("%d checkpoints, want 4: %s", len(col.Checkpoints), col.Checkpoints)
	}
	// Resuming from the checkpoint after two records reads the other three.
	rest, _ := readAll(t, t.Context(), cfg, col.Checkpoints[0])
	if len(rest) != 3 || rest[0].Subject != "s2" {
		t.Fatalf("resume after 2: %+v", rest)
	}
}

func TestMboxErrors(t *testing.T) {
	dir := t.TempDir()
	notMbox := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notMbox, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "nope.mbox"), "no such file"},
		{"glob matching nothing", filepath.Join(dir, "*.mbox"), "matches no file"},
		{"not an mbox", notMbox, "not an mbox file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := json.RawMessage(mustJSON(t, map[string]any{"mbox": []string{tc.path}}))
			err := New().Check(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check: %v, want %q", err, tc.want)
			}
			err = New().Read(t.Context(), connector.ReadRequest{Config: cfg}, &sdktest.Collector{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestMboxReader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		offsets []int64
		bodies  []string
	}{
		{"empty", "", nil, nil},
		{"one without final newline", "From a\nX: 1\n\nbody", []int64{0}, []string{"X: 1\n\nbody"}},
		{"From inside a paragraph is not a separator", "From a\nX: 1\n\nline\nFrom here\n", []int64{0}, []string{"X: 1\n\nline\nFrom here\n"}},
		{"two, separator blank line dropped", "From a\nX: 1\n\nb1\n\nFrom b\nX: 2\n\nb2\n", []int64{0, 17}, []string{"X: 1\n\nb1\n", "X: 2\n\nb2\n"}},
		{"blank lines kept inside", "From a\nX: 1\n\n\n\nb1\n\n\nFrom b\nX: 2\n", []int64{0, 20}, []string{"X: 1\n\n\n\nb1\n\n", "X: 2\n"}},
		{"crlf", "From a\r\nX: 1\r\n\r\nb\r\n\r\nFrom b\r\nX: 2\r\n", []int64{0, 21}, []string{"X: 1\r\n\r\nb\r\n", "X: 2\r\n"}},
		{"mboxrd unquoting", "From a\n\n>From x\n>>From y\n>Fromage\n", []int64{0}, []string{"\nFrom x\n>From y\n>Fromage\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newMboxReader(strings.NewReader(tc.in), 0, 1<<20)
			var offsets []int64
			var bodies []string
			for {
				m, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				offsets = append(offsets, m.offset)
				bodies = append(bodies, string(m.data))
				if m.size != int64(len(m.data)) {
					t.Errorf("size %d != len(data) %d", m.size, len(m.data))
				}
			}
			if !slices.Equal(offsets, tc.offsets) || !slices.Equal(bodies, tc.bodies) {
				t.Errorf("got offsets %v bodies %q, want %v %q", offsets, bodies, tc.offsets, tc.bodies)
			}
		})
	}
}

func TestMboxReaderKeepsSizeBeyondLimit(t *testing.T) {
	body := strings.Repeat("x", 100) + "\n"
	r := newMboxReader(strings.NewReader("From a\nX: 1\n\n"+body), 0, 10)
	m, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.data) != 10 || m.size != int64(len("X: 1\n\n"+body)) {
		t.Errorf("kept %d bytes, size %d", len(m.data), m.size)
	}
}

func TestMboxReaderRejectsNonMbox(t *testing.T) {
	_, err := newMboxReader(bytes.NewReader([]byte("Subject: x\n\n")), 0, 100).Next()
	if !errors.Is(err, errNotMbox) {
		t.Errorf("err = %v, want errNotMbox", err)
	}
}

func FuzzMboxReader(f *testing.F) {
	for _, name := range []string{"testdata/odd.mbox", "testdata/crlf.mbox", "testdata/Sent.mbox"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From \n\nFrom \n"))
	cfg := &Config{Bodies: true, BodyMaxBytes: 64, OwnAddresses: []string{"@acme.example"}}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := newMboxReader(bytes.NewReader(in), 0, 256)
		last := int64(-1)
		for {
			m, err := r.Next()
			if err != nil {
				return
			}
			if m.offset <= last || m.end > int64(len(in)) || m.offset >= m.end {
				t.Fatalf("offsets out of order: last %d, message %d-%d, input %d", last, m.offset, m.end, len(in))
			}
			last = m.offset
			header, body := splitHeader(m.data)
			rec, err := newParser(cfg).parse(rawMessage{header: header, text: body, size: m.size, fromLine: m.fromLine}, false)
			if err != nil {
				continue
			}
			if b, err := json.Marshal(rec); err != nil || !json.Valid(b) {
				t.Fatalf("record does not encode: %v", err)
			}
			if rec.Body != nil && len(*rec.Body) > 64 {
				t.Fatalf("body of %d bytes exceeds the limit", len(*rec.Body))
			}
		}
	})
}

// TestMboxRewriteWithBoundaryAtOffset checks an mbox rewritten (its
// messages moved out, others delivered) so that a message happens to
// start at the saved offset: the file is read again from its start, and
// no new message is skipped.
func TestMboxRewriteWithBoundaryAtOffset(t *testing.T) {
	msg := func(i int) string {
		return fmt.Sprintf("From alert@example.org Fri Mar  3 10:00:00 2023\nFrom: alert@example.org\nMessage-ID: <alert%03d@example.org>\nSubject: disk full\n\nbody\n\n", i)
	}
	path := filepath.Join(t.TempDir(), "spool.mbox")
	if err := os.WriteFile(path, []byte(msg(1)+msg(2)+msg(3)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := mustJSON(t, map[string]any{"mbox": []string{path}})
	_, col := readAll(t, t.Context(), cfg, nil)
	// Same-sized messages: one starts where the saved offset points.
	if err := os.WriteFile(path, []byte(msg(4)+msg(5)+msg(6)+msg(7)), 0o600); err != nil {
		t.Fatal(err)
	}
	bumpMtime(t, path)
	recs, _ := readAll(t, t.Context(), cfg, col.State())
	var got []string
	for _, r := range recs {
		got = append(got, r.MessageID)
	}
	want := []string{"alert004@example.org", "alert005@example.org", "alert006@example.org", "alert007@example.org"}
	if !slices.Equal(got, want) {
		t.Errorf("after the rewrite: %q, want %q", got, want)
	}
}

// TestMboxLastMessageBeingWritten checks a file read while a delivery is
// writing its last message: that message waits for the next run instead
// of being emitted cut short, and is then read whole, once.
func TestMboxLastMessageBeingWritten(t *testing.T) {
	first := "From a@example.org Fri Mar  3 10:00:00 2023\nFrom: a@example.org\nMessage-ID: <a@example.org>\nSubject: a\n\nbody\n\n"
	partial := "From b@example.org Fri Mar  3 10:00:00 2023\nFrom: b@exa"
	rest := "mple.org\nMessage-ID: <b@example.org>\nSubject: b\n\nbody\n\n"
	path := filepath.Join(t.TempDir(), "inbox.mbox")
	if err := os.WriteFile(path, []byte(first+partial), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := mustJSON(t, map[string]any{"mbox": []string{path}})
	recs, col := readAll(t, t.Context(), cfg, nil)
	if len(recs) != 1 || recs[0].MessageID != "a@example.org" {
		t.Fatalf("while b is being written: %+v, want a only", recs)
	}
	if err := os.WriteFile(path, []byte(first+partial+rest), 0o600); err != nil {
		t.Fatal(err)
	}
	bumpMtime(t, path)
	recs, _ = readAll(t, t.Context(), cfg, col.State())
	if len(recs) != 1 || recs[0].MessageID != "b@example.org" || len(recs[0].From) != 1 || recs[0].From[0].Address != "b@example.org" {
		t.Fatalf("once b is written: %+v, want b whole", recs)
	}
}
