package files

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	contacts := writeFile(t, dir, "contacts.csv", []byte("id;email;updated\n1;a@example.com;2024-01-01\n2;b@example.com;2024-01-02\n"))
	writeFile(t, dir, "orders/2024.jsonl.gz", []byte(`{"order":"A1","email":"a@example.com","total":9.5}`+"\n"))
	cfg, _ := json.Marshal(map[string]any{"streams": []any{
		map[string]any{"name": "contacts", "paths": []string{contacts}, "primary_key": []string{"id"},
			"cursor_field": "updated", "csv": map[string]any{"delimiter": ";"}},
		map[string]any{"name": "orders", "paths": []string{filepath.Join(dir, "orders", "*.jsonl.gz")}, "primary_key": []string{"order"}},
	}})
	sdktest.Run(t, New(), sdktest.Options{
		Config: cfg,
		BadConfigs: []json.RawMessage{
			json.RawMessage(`{}`),
			json.RawMessage(`{"streams":[{"name":"x","paths":["` + filepath.Join(dir, "none*.csv") + `"],"primary_key":["id"]}]}`),
			json.RawMessage(`{"streams":[{"name":"x","paths":["` + contacts + `"],"primary_key":["nope"],"csv":{"delimiter":";"}}]}`),
			json.RawMessage(`{"streams":[{"name":"x","paths":["a.csv"],"primary_key":["id"],"colour":"red"}]}`),
		},
	})
}

func TestExampleDataSet(t *testing.T) {
	// The README's example: every row of examples/files is a record.
	dir, err := filepath.Abs("../../examples/files")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"streams": []any{
		map[string]any{"name": "contacts", "paths": []string{filepath.Join(dir, "contacts.csv")}, "primary_key": []string{"Kundennummer"},
			"csv": map[string]any{"delimiter": ";", "encoding": "latin-1"}},
		map[string]any{"name": "orders", "paths": []string{filepath.Join(dir, "orders.jsonl")}, "primary_key": []string{"order_id"}, "cursor_field": "ordered_at"},
	}})
	if err := New().Check(quiet(t), cfg); err != nil {
		t.Fatal(err)
	}
	c := read(t, cfg, nil)
	if n, m := len(c.Stream("contacts")), len(c.Stream("orders")); n != 20 || m != 30 || len(c.Rejects) != 0 {
		t.Fatalf("%d contacts, %d orders, rejects %+v; want 20, 30, none", n, m, c.Rejects)
	}
	if got := string(c.Stream("contacts")[0].Data); !strings.Contains(got, `"Nachname":"Müller"`) || !strings.Contains(got, `"Geändert":"15.01.2024 09:12"`) {
		t.Fatalf("first contact %s: Latin-1 not decoded", got)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "a.csv", []byte("id,name\n1,x\n"))
	writeFile(t, dir, "b.csv", []byte("name\nx\n"))
	writeFile(t, dir, "c.dat", []byte("id\n1\n"))
	tests := []struct {
		name string
		cfg  json.RawMessage
		want []string // substrings of the error; none: Check passes
	}{
		{"good", config(t, []string{good}, []string{"id"}, nil), nil},
		{"not JSON", json.RawMessage(`{`), []string{"config"}},
		{"unknown field", json.RawMessage(`{"streams":[{"name":"s","paths":["a"],"primary_key":["id"],"typo":1}]}`), []string{"typo"}},
		{"bad format", config(t, []string{good}, []string{"id"}, map[string]any{"format": "xml"}), []string{"format"}},
		{"bad delimiter", config(t, []string{good}, []string{"id"}, map[string]any{"csv": map[string]any{"delimiter": `"`}}), []string{"delimiter"}},
		{"bad glob", config(t, []string{"[a"}, []string{"id"}, nil), []string{"[a"}},
		{"bad schema", config(t, []string{good}, []string{"id"}, map[string]any{"schema": map[string]any{"type": "thing"}}), []string{"schema"}},
		{"no match", config(t, []string{filepath.Join(dir, "*.tsv")}, []string{"id"}, nil), []string{"matches no file"}},
		{"header lacks key", config(t, []string{filepath.Join(dir, "*.csv")}, []string{"id"}, nil), []string{"b.csv:1", `no column "id"`}},
		{"header lacks cursor", config(t, []string{good}, []string{"id"}, map[string]any{"cursor_field": "ts"}), []string{`no column "ts"`}},
		{"unknown extension", config(t, []string{filepath.Join(dir, "c.dat")}, []string{"id"}, nil), []string{"set the stream's format"}},
		{"duplicate stream", json.RawMessage(`{"streams":[{"name":"s","paths":["a"],"primary_key":["id"]},{"name":"s","paths":["b"],"primary_key":["id"]}]}`), []string{"used twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Check(quiet(t), tt.cfg)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check passed, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCheckUnreadableFile(t *testing.T) {
	// Not gzip although named so: Check opens every file and says which
	// one cannot be read. (Permissions cannot be tested: tests may run
	// as root.)
	p := writeFile(t, t.TempDir(), "a.csv.gz.tmp", []byte("id\n1\n"))
	gz := strings.TrimSuffix(p, ".tmp")
	if err := os.Rename(p, gz); err != nil {
		t.Fatal(err)
	}
	err := New().Check(quiet(t), config(t, []string{gz}, []string{"id"}, nil))
	if err == nil || !strings.Contains(err.Error(), gz+": gzip") {
		t.Fatalf("Check = %v, want a gzip error naming %s", err, gz)
	}
}

func TestDiscoverInfersSchema(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, file, content string
		extra               map[string]any
		want                string // the "properties" of the schema
	}{
		{
			name: "csv columns are nullable strings", file: "a.csv", content: "id,n\n1,2\n",
			want: `{"id":{"type":["string","null"]},"n":{"type":["string","null"]}}`,
		},
		{
			name: "json types widen", file: "a.jsonl",
			content: `{"id":1,"n":1,"f":true,"m":"x","o":{"a":1},"z":null}` + "\n" + `{"id":2,"n":2.5,"f":null,"m":3,"l":[1]}`,
			want:    `{"f":{"type":["boolean","null"]},"id":{"type":["number","null"]},"l":{"type":["array","null"]},"m":{},"n":{"type":["number","null"]},"o":{"type":["object","null"]},"z":{}}`,
		},
		{
			name: "configured schema wins", file: "b.jsonl", content: `{"id":1}`,
			extra: map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"id": map[string]any{"type": "integer"}}}},
			want:  `{"id":{"type":"integer"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, tt.file, []byte(tt.content))
			streams, err := New().Discover(quiet(t), config(t, []string{p}, []string{"id"}, tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			if len(streams) != 1 || streams[0].Name != "s" || !slices.Equal(streams[0].PrimaryKey, []string{"id"}) || streams[0].Mapping != nil {
				t.Fatalf("streams %+v", streams)
			}
			var schema struct{ Properties json.RawMessage }
			if err := json.Unmarshal(streams[0].Schema, &schema); err != nil {
				t.Fatal(err)
			}
			if string(schema.Properties) != tt.want {
				t.Fatalf("properties\n got %s\nwant %s", schema.Properties, tt.want)
			}
		})
	}
}

// A CSV stream's discovered schema allows no fields but its files'
// columns, so that desilo can refuse a mapping of a column the files lack;
// where the fields are not all known, it stays open.
func TestDiscoverClosesCSVSchemas(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.csv", []byte("id,E-Mail\n1,x@example.com\n"))
	b := writeFile(t, dir, "b.csv", []byte("id,Telefon\n2,0301234\n"))
	headerOnly := writeFile(t, dir, "c.csv", []byte("id,Fax\n"))
	jsonl := writeFile(t, dir, "d.jsonl", []byte(`{"id":3}`+"\n"))
	tests := []struct {
		name   string
		paths  []string
		closed bool
	}{
		{"every file's columns", []string{a, b}, true},
		{"a header without rows", []string{a, headerOnly}, false},
		{"JSON", []string{jsonl}, false},
		{"CSV and JSON", []string{a, jsonl}, false},
		{"no file", []string{filepath.Join(dir, "none-*.csv")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, err := New().Discover(quiet(t), config(t, tt.paths, []string{"id"}, nil))
			if err != nil {
				t.Fatal(err)
			}
			var schema struct {
				AdditionalProperties *bool `json:"additionalProperties"`
			}
			if err := json.Unmarshal(streams[0].Schema, &schema); err != nil {
				t.Fatal(err)
			}
			if closed := schema.AdditionalProperties != nil && !*schema.AdditionalProperties; closed != tt.closed {
				t.Errorf("schema %s: closed %v, want %v", streams[0].Schema, closed, tt.closed)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.csv", "x/b.csv", "x/y/c.csv", "x/y/c.json", "z.csv/d.txt"} {
		writeFile(t, dir, f, nil)
	}
	tests := []struct {
		patterns []string
		want     []string
	}{
		{[]string{"*.csv"}, []string{"a.csv"}}, // z.csv is a directory
		{[]string{"**/*.csv"}, []string{"a.csv", "x/b.csv", "x/y/c.csv"}},
		{[]string{"x/**/c.*"}, []string{"x/y/c.csv", "x/y/c.json"}},
		{[]string{"x/**", "x/*.csv"}, []string{"x/b.csv", "x/y/c.csv", "x/y/c.json"}},
		{[]string{"missing/**/*.csv"}, nil},
	}
	for _, tt := range tests {
		var pats []string
		for _, p := range tt.patterns {
			pats = append(pats, filepath.Join(dir, p))
		}
		got, err := expand(pats)
		if err != nil {
			t.Fatal(err)
		}
		var rel []string
		for _, g := range got {
			r, _ := filepath.Rel(dir, g)
			rel = append(rel, filepath.ToSlash(r))
		}
		if !slices.Equal(rel, tt.want) {
			t.Errorf("expand(%q) = %q, want %q", tt.patterns, rel, tt.want)
		}
	}
}
