package files

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.golden")

// TestCorpusGolden reads a corpus of awkward rows (escapes, unicode,
// numbers in every JSON form, duplicate and escaped names, nesting, bad
// rows of every kind) through streams that take the fast path and
// streams that take the jsonschema library, then reads again after a file
// changed. The golden file was written by the connector before the fast
// path existed: records, rejects and cursor state must match it byte for
// byte.
func TestCorpusGolden(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.jsonl", "b.csv", "c.csv", "d.jsonl", "e.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, name, b)
	}
	p := func(name string) []string { return []string{filepath.Join(dir, name)} }
	typed := map[string]any{"type": "object", "required": []string{"id"}, "properties": map[string]any{
		"age": map[string]any{"type": []string{"number", "null"}}, "score": map[string]any{"type": "number"},
		"name": map[string]any{"type": "string"}, "tags": map[string]any{}}}
	integer := map[string]any{"type": "object", "properties": map[string]any{"age": map[string]any{"type": "integer"}}}
	cfg, err := json.Marshal(map[string]any{"streams": []any{
		map[string]any{"name": "inferred", "paths": p("a.jsonl"), "primary_key": []string{"id"}, "cursor_field": "c"},
		map[string]any{"name": "typed", "paths": p("a.jsonl"), "primary_key": []string{"id"}, "schema": typed},
		map[string]any{"name": "integer", "paths": p("a.jsonl"), "primary_key": []string{"id"}, "schema": integer},
		map[string]any{"name": "csv", "paths": p("*.csv"), "primary_key": []string{"id"}, "cursor_field": "c"},
		map[string]any{"name": "latin1", "paths": p("c.csv"), "primary_key": []string{"id", "name"}, "csv": map[string]any{"encoding": "latin-1"}},
		map[string]any{"name": "keys", "paths": p("d.jsonl"), "primary_key": []string{"id", "name"}, "cursor_field": "c"},
		map[string]any{"name": "json", "paths": p("e.json"), "primary_key": []string{"id"}, "cursor_field": "id"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	first := read(t, cfg, nil)
	writeRead(&out, dir, first)

	more, err := os.ReadFile(filepath.Join("testdata", "corpus", "d2.jsonl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "d.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(more); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(&out, "== second read, d.jsonl appended to")
	writeRead(&out, dir, read(t, cfg, first.Checkpoints[len(first.Checkpoints)-1]))

	golden := filepath.Join("testdata", "corpus.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gotLines), len(wantLines)) {
			var g, w string
			if i < len(gotLines) {
				g = gotLines[i]
			}
			if i < len(wantLines) {
				w = wantLines[i]
			}
			if g != w {
				t.Fatalf("output differs from %s at line %d:\n got %q\nwant %q", golden, i+1, g, w)
			}
		}
	}
}

// writeRead writes what a read emitted, with paths relative to dir, and
// the cursor state it ended with.
func writeRead(out *strings.Builder, dir string, c *sdktest.Collector) {
	for _, r := range c.Records {
		fmt.Fprintf(out, "record %s %s\n", r.Stream, r.Data)
	}
	for _, r := range c.Rejects {
		fmt.Fprintf(out, "reject %s %s %q %q\n", r.Stream, strings.TrimPrefix(r.Location, dir+string(filepath.Separator)), r.Reason, r.Raw)
	}
	var st state
	if err := json.Unmarshal(c.Checkpoints[len(c.Checkpoints)-1], &st); err != nil {
		panic(err)
	}
	for _, name := range []string{"inferred", "csv", "keys", "json"} {
		cur, _ := json.Marshal(st.Streams[name].Cursor)
		fmt.Fprintf(out, "cursor %s %s\n", name, cur)
	}
}
