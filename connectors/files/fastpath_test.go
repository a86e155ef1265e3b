package files

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// jsonSeeds are texts for the fast path's fuzz tests: every JSON form,
// and near misses.
var jsonSeeds = []string{
	`{"id":1,"name":"Anna","c":"2024-01-01"}`,
	` { "id" : 2 ,	"tags" : [ "a" , { "b" : null } ] } `,
	`{"id":"x\u00e9\/\"\\\b\f\n\r\t","s":"<&>` + "\u2028" + `\ud800"}`,
	`{"id":-0,"a":1.5e-3,"b":1E+2,"c":12345678901234567890123,"d":true,"e":false}`,
	`{"id":5,"id":null}`, `{"\u0069d":1}`, `{"id":{"b":1,"a":[2]},"c":[]}`, `{}`,
	`{"id":01}`, `{"id":1.}`, `{"id":.5}`, `{"id":+1}`, `{"id":tru}`, `{"a":"\x"}`, `{"a":"\u12"}`,
	`{"a":1,}`, `{"a":1}{"b":2}`, `{"a":1} x`, `[1]`, `"s"`, `null`, `{"a":"` + "\x01" + `"}`, `{"a":"` + "\xff" + `"}`,
	`{"a":[[[[[[[[[[]]]]]]]]]]}`, `{"a"`, `{"a":`, `{"a":1`, "\ufeff{}",
}

func FuzzCompactObject(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var scan objectScanner
		data, members, ok := scan.compact(nil, src)
		want := parseObjectSlow(src)
		if !ok {
			// The fast path may leave a record to encoding/json only when
			// it is beyond it: invalid, not an object, or deeply nested.
			if want.reject == "" && len(src) < 2*maxFastDepth {
				t.Fatalf("fast path refused %q, which encoding/json reads as %s", src, want.data)
			}
			return
		}
		if want.reject != "" {
			t.Fatalf("fast path accepted %q, which encoding/json rejects: %s", src, want.reject)
		}
		if !bytes.Equal(data, want.data) {
			t.Fatalf("compact %q = %s, json.Compact gives %s", src, data, want.data)
		}
		checkMembers(t, data, members, false)
	})
}

// checkMembers checks that members are data's: decoding each one gives
// the value encoding/json gives the last member of that name. CSV members
// hold names as they are, JSON ones as written.
func checkMembers(t *testing.T, data []byte, members []member, csv bool) {
	t.Helper()
	obj, err := decodeObject(data)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for i := len(members) - 1; i >= 0; i-- {
		m := members[i]
		name := string(m.key)
		if !csv {
			if err := json.Unmarshal(append(append([]byte{'"'}, m.key...), '"'), &name); err != nil {
				t.Fatalf("member %d: name %q: %v", i, m.key, err)
			}
		}
		if !m.escaped && name != string(m.key) {
			t.Fatalf("member %q is not marked escaped", m.key)
		}
		v, err := decodeJSON(m.value)
		if err != nil {
			t.Fatalf("member %q: value %q: %v", m.key, m.value, err)
		}
		if !names[name] && !reflect.DeepEqual(v, obj[name]) {
			t.Fatalf("member %q = %v, encoding/json gives %v", name, v, obj[name])
		}
		names[name] = true
	}
	if len(names) != len(obj) {
		t.Fatalf("%d distinct member names in %s, encoding/json finds %d", len(names), data, len(obj))
	}
}

// fastStreams are stream configs whose schemas the fast path handles.
var fastStreams = []StreamConfig{
	{Name: "pk", PrimaryKey: []string{"id"}},
	{Name: "cursor", PrimaryKey: []string{"id", "name"}, CursorField: "c"},
	{Name: "typed", PrimaryKey: []string{"id"}, CursorField: "c", Schema: json.RawMessage(`{"$schema":"` + draft2020 + `",
		"type":"object","required":["id","a"],"properties":{"a":{"type":["number","null"]},"b":{"type":"string"},
		"c":{},"d":{"type":["boolean","array","object"]},"name":{"type":"null"}}}`)},
}

// FuzzFastPath checks that a JSON Lines row gets the same outcome on the
// fast path as through encoding/json and the jsonschema library: the
// same record or reject, and the same cursor state.
func FuzzFastPath(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s), []byte(`{"id":"x","name":"y","c":"2024-01-01"}`))
	}
	f.Add([]byte(`{"id":1,"name":"a","c":"t","a":1}`), []byte(`{"id":1,"name":"a","c":"t","a":null}`))
	f.Add([]byte(`{"id":"<a>","name":"\u2028","c":"t","a":1}`), []byte(`{"id":2,"name":"a","c":"t","a":null}`))
	f.Add([]byte(`{"id":1,"c":5,"a":"x","b":"y"}`), []byte(`{"id":1.0,"c":"5","a":2,"d":[],"name":null}`))
	// Compiling a schema is slow: readers for each run are copies.
	var templates []*streamReader
	for _, cfg := range fastStreams {
		if cfg.Schema == nil {
			cfg.Schema = json.RawMessage(`{"$schema":"` + draft2020 + `","type":"object","properties":{"id":{},"c":{"type":["string","null"]}},"required":["id"]}`)
		}
		r, err := newStreamReader(&cfg, &state{Streams: map[string]*streamState{}}, nil)
		if err != nil {
			f.Fatal(err)
		}
		if r.fast == nil {
			f.Fatalf("stream %s: the schema should take the fast path", cfg.Name)
		}
		templates = append(templates, r)
	}
	f.Fuzz(func(t *testing.T, line1, line2 []byte) {
		for _, tmpl := range templates {
			cfg := tmpl.cfg
			fast := &streamReader{cfg: cfg, schema: tmpl.schema, fast: newFastCheck(cfg, cfg.Schema), out: &sdktest.Collector{}}
			slow := &streamReader{cfg: cfg, schema: tmpl.schema, out: &sdktest.Collector{}}
			var scan objectScanner
			for i, line := range [][]byte{line1, line2} {
				fr := parseObject(&scan, line)
				fr.line = i + 1
				if err := fast.handle(t.Context(), "f", fr); err != nil {
					t.Fatal(err)
				}
				r := parseObjectSlow(line)
				r.line = i + 1
				if err := slow.handle(t.Context(), "f", r); err != nil {
					t.Fatal(err)
				}
			}
			fc, sc := fast.out.(*sdktest.Collector), slow.out.(*sdktest.Collector)
			if !slices.EqualFunc(fc.Records, sc.Records, func(a, b connector.Record) bool { return a.Stream == b.Stream && bytes.Equal(a.Data, b.Data) }) {
				t.Fatalf("stream %s: fast path emitted %s, slow path %s", cfg.Name, dataOf(fc.Records), dataOf(sc.Records))
			}
			if len(fc.Rejects) != len(sc.Rejects) {
				t.Fatalf("stream %s: fast path rejected %+v, slow path %+v", cfg.Name, fc.Rejects, sc.Rejects)
			}
			for i := range fc.Rejects {
				a, b := fc.Rejects[i], sc.Rejects[i]
				if a.Reason != b.Reason || !bytes.Equal(a.Raw, b.Raw) {
					t.Fatalf("stream %s: fast path rejected %+v, slow path %+v", cfg.Name, a, b)
				}
			}
			fn, _ := json.Marshal(fast.next.encode())
			sn, _ := json.Marshal(slow.next.encode())
			if !bytes.Equal(fn, sn) {
				t.Fatalf("stream %s: fast path cursor %s, slow path %s", cfg.Name, fn, sn)
			}
			if utf8.Valid(line1) && json.Valid(line1) && len(fc.Records)+len(fc.Rejects) == 0 {
				t.Fatalf("stream %s: valid JSON %q neither emitted nor rejected", cfg.Name, line1)
			}
		}
	})
}

// FuzzFastVsGeneralFile reads one whole file (CSV or JSON Lines, with the
// schema inferred from it, as Read does) twice: once as Read does, fast
// path first, and once with every row on the general path (the record
// decoded by encoding/json and validated by the jsonschema library).
// Records must be byte-identical, and rejects and the cursor state the
// same.
func FuzzFastVsGeneralFile(f *testing.F) {
	for _, s := range append(slices.Clone(jsonSeeds), csvSeeds...) {
		f.Add([]byte(s), false, true)
		f.Add([]byte(s), true, false)
	}
	f.Add([]byte("{\"id\":9007199254740993,\"c\":1e5,\"z\":\"00123\"}\n\n{\"id\":1,\"id\":2,\"c\":\"x\"}\n[1]\n{\"id\":\"\\u00e9\",\"c\":null}\r\n"), false, true)
	f.Fuzz(func(t *testing.T, data []byte, csv, cursor bool) {
		dir := t.TempDir()
		name := "a.jsonl"
		if csv {
			name = "a.csv"
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := &StreamConfig{Name: "s", Paths: []string{path}, PrimaryKey: []string{"id"}}
		if cursor {
			cfg.CursorField = "c"
		}
		schema, err := inferSchema(cfg, []string{path})
		if err != nil {
			return // the file cannot be read at all: no Read either
		}
		run := func(general bool) *sdktest.Collector {
			c := &sdktest.Collector{}
			r, err := newStreamReader(&StreamConfig{Name: cfg.Name, Paths: cfg.Paths, PrimaryKey: cfg.PrimaryKey, CursorField: cfg.CursorField, Schema: schema},
				&state{Streams: map[string]*streamState{}}, c)
			if err != nil {
				t.Fatal(err)
			}
			if general {
				r.fast = nil
			} else if r.fast == nil {
				t.Fatalf("inferred schema %s does not take the fast path", schema)
			}
			ff, _ := cfg.formatOf(path)
			rows := newRowReader(bytes.NewReader(data), ff, requiredFields(cfg))
			for {
				row, err := rows.next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := r.handle(t.Context(), path, row); err != nil {
					t.Fatal(err)
				}
			}
			c.Checkpoints = []json.RawMessage{mustMarshal(t, r.next.encode())}
			return c
		}
		fast, general := run(false), run(true)
		if !slices.EqualFunc(fast.Records, general.Records, func(a, b connector.Record) bool { return bytes.Equal(a.Data, b.Data) }) {
			t.Fatalf("fast %q\ngeneral %q", dataOf(fast.Records), dataOf(general.Records))
		}
		if !slices.EqualFunc(fast.Rejects, general.Rejects, func(a, b connector.Reject) bool {
			return a.Location == b.Location && a.Reason == b.Reason && bytes.Equal(a.Raw, b.Raw)
		}) {
			t.Fatalf("fast rejects %+v\ngeneral %+v", fast.Rejects, general.Rejects)
		}
		if !bytes.Equal(fast.Checkpoints[0], general.Checkpoints[0]) {
			t.Fatalf("cursor: fast %s, general %s", fast.Checkpoints[0], general.Checkpoints[0])
		}
		if !csv {
			// Per line: the fast scanner's record, which both runs
			// emit, is json.Compact's.
			var scan objectScanner
			for _, line := range bytes.Split(data, []byte("\n")) {
				a := parseObject(&scan, trimEOL(line))
				b := parseObjectSlow(trimEOL(line))
				if (a.reject == "") != (b.reject == "") || a.reject == "" && !bytes.Equal(a.data, b.data) {
					t.Fatalf("line %q: fast %q %q, general %q %q", line, a.data, a.reject, b.data, b.reject)
				}
			}
		}
	})
}

func mustMarshal(t *testing.T, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewFastCheck(t *testing.T) {
	tests := []struct {
		schema string
		fast   bool
	}{
		{`{"type":"object","properties":{"a":{"type":["string","null"]},"b":{}},"required":["id"]}`, true},
		{`{"$schema":"` + draft2020 + `","properties":{"a":{"type":"boolean"}}}`, true},
		{`{}`, true},
		{`{"$schema":"http://json-schema.org/draft-07/schema#"}`, false},
		{`{"type":"object","properties":{"a":{"type":"integer"}}}`, false},
		{`{"type":"object","properties":{"a":{"type":"string","minLength":1}}}`, false},
		{`{"type":"object","properties":{"a":true}}`, false},
		{`{"type":"object","additionalProperties":false}`, false},
		{`{"type":["object"]}`, false},
	}
	for _, tt := range tests {
		cfg := StreamConfig{Name: "s", PrimaryKey: []string{"id"}}
		if got := newFastCheck(&cfg, []byte(tt.schema)) != nil; got != tt.fast {
			t.Errorf("newFastCheck(%s) fast = %v, want %v", tt.schema, got, tt.fast)
		}
	}
}
