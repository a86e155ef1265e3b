package files

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/transform"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// writeFile writes a fixture, gzip-compressing it when name ends in .gz.
func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if strings.HasSuffix(name, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(content); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		content = b.Bytes()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// config builds a one-stream config; extra holds further stream fields.
func config(t *testing.T, paths []string, pk []string, extra map[string]any) json.RawMessage {
	t.Helper()
	s := map[string]any{"name": "s", "paths": paths, "primary_key": pk}
	for k, v := range extra {
		s[k] = v
	}
	b, err := json.Marshal(map[string]any{"streams": []any{s}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(t *testing.T, cfg, state json.RawMessage) *sdktest.Collector {
	t.Helper()
	var c sdktest.Collector
	if err := New().Read(quiet(t), connector.ReadRequest{Config: cfg, State: state}, &c); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return &c
}

// quiet is a test context whose connector logs are discarded.
func quiet(t *testing.T) context.Context {
	return connector.WithLogger(t.Context(), slog.New(slog.DiscardHandler))
}

func dataOf(recs []connector.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Data))
	}
	return out
}

func TestReadFormats(t *testing.T) {
	latin1 := []byte("id;name\n1;J\xfcrgen M\xfcller\n2;Gro\xdf\n")
	tests := []struct {
		name    string
		file    string
		content []byte
		extra   map[string]any
		pk      []string // default: id
		want    []string // record data, in order
		rejects []string // "line: reason substring"
	}{
		{
			name:    "csv",
			file:    "a.csv",
			content: []byte("id,name,city\n1,Anna,Berlin\n2,\"Bo, Jr.\",\n"),
			want:    []string{`{"id":"1","name":"Anna","city":"Berlin"}`, `{"id":"2","name":"Bo, Jr.","city":null}`},
		},
		{
			name:    "csv with BOM and CRLF",
			file:    "a.csv",
			content: []byte("\xef\xbb\xbfid,name\r\n1,Anna\r\n"),
			want:    []string{`{"id":"1","name":"Anna"}`},
		},
		{
			// Excel's "CSV UTF-8", PowerShell's Export-Csv: a BOM right
			// before a quoted header.
			name:    "csv with BOM before a quoted header",
			file:    "a.csv",
			content: []byte("\xef\xbb\xbf\"id\",\"name\"\r\n\"1\",\"Anna\"\r\n\"2\",\"Ben\"\r\n\"3\",\"Cy\",\"x\"\r\n4,Di\r\n"),
			want:    []string{`{"id":"1","name":"Anna"}`, `{"id":"2","name":"Ben"}`, `{"id":"4","name":"Di"}`},
			rejects: []string{"4: 3 fields, want 2"},
		},
		{
			name:    "csv with BOM without header",
			file:    "a.csv",
			content: []byte("\xef\xbb\xbf1,Anna\n2,Ben\n3\n"),
			extra:   map[string]any{"csv": map[string]any{"header": false}},
			pk:      []string{"column_1"},
			want:    []string{`{"column_1":"1","column_2":"Anna"}`, `{"column_1":"2","column_2":"Ben"}`},
			rejects: []string{"3: 1 fields, want 2"},
		},
		{
			name:    "csv with BOM before a quoted first value without header",
			file:    "a.csv",
			content: []byte("\xef\xbb\xbf\"1\",Anna\n"),
			extra:   map[string]any{"csv": map[string]any{"header": false}},
			pk:      []string{"column_1"},
			want:    []string{`{"column_1":"1","column_2":"Anna"}`},
		},
		{
			name:    "csv latin-1 with semicolons",
			file:    "a.csv",
			content: latin1,
			extra:   map[string]any{"csv": map[string]any{"delimiter": ";", "encoding": "latin-1"}},
			want:    []string{`{"id":"1","name":"Jürgen Müller"}`, `{"id":"2","name":"Groß"}`},
		},
		{
			// Excel on Windows writes Windows-1252: a euro sign, German
			// quotes and a dash, not invisible control characters.
			name:    "csv latin-1 is windows-1252",
			file:    "a.csv",
			content: []byte("id;note\n1;5 \x80 \x84Rabatt\x93 \x96 M\xfcller\n"),
			extra:   map[string]any{"csv": map[string]any{"delimiter": ";", "encoding": "latin-1"}},
			want:    []string{`{"id":"1","note":"5 € „Rabatt“ – Müller"}`},
		},
		{
			name:    "csv latin-1 read as utf-8",
			file:    "a.csv",
			content: latin1,
			extra:   map[string]any{"csv": map[string]any{"delimiter": ";"}},
			rejects: []string{"2: invalid UTF-8", "3: invalid UTF-8"},
		},
		{
			name:    "tsv defaults to tabs",
			file:    "a.tsv",
			content: []byte("id\tname\n1\tAnna\n"),
			want:    []string{`{"id":"1","name":"Anna"}`},
		},
		{
			name:    "csv without header",
			file:    "a.csv",
			content: []byte("1,Anna\n2,Bo\n"),
			extra:   map[string]any{"csv": map[string]any{"header": false}},
			pk:      []string{"column_1"},
			want:    []string{`{"column_1":"1","column_2":"Anna"}`, `{"column_1":"2","column_2":"Bo"}`},
		},
		{
			name:    "csv gzip",
			file:    "a.csv.gz",
			content: []byte("id,name\n1,Anna\n"),
			want:    []string{`{"id":"1","name":"Anna"}`},
		},
		{
			name:    "csv bad rows",
			file:    "a.csv",
			content: []byte("id,name\n1,Anna\n2,Bo,extra\n3,\"Cy\"x\n,NoKey\n4,Di\n"),
			want:    []string{`{"id":"1","name":"Anna"}`, `{"id":"4","name":"Di"}`},
			rejects: []string{"3: 3 fields, want 2", "4: invalid CSV", `5: primary key field "id"`},
		},
		{
			name:    "csv header without primary key",
			file:    "a.csv",
			content: []byte("name\nAnna\n"),
			rejects: []string{`1: header: no column "id"`},
		},
		{
			name:    "csv duplicate column",
			file:    "a.csv",
			content: []byte("id,id\n1,2\n"),
			rejects: []string{`1: header: column name "id" appears twice`},
		},
		{
			name:    "jsonl",
			file:    "a.jsonl",
			content: []byte("{\"id\": 1, \"tags\": [\"a\"]}\n\n{\"id\":2,\"n\":{\"x\":1.5}}\r\n"),
			want:    []string{`{"id":1,"tags":["a"]}`, `{"id":2,"n":{"x":1.5}}`},
		},
		{
			name:    "jsonl gzip without final newline",
			file:    "a.ndjson.gz",
			content: []byte(`{"id":1}` + "\n" + `{"id":2}`),
			want:    []string{`{"id":1}`, `{"id":2}`},
		},
		{
			name:    "jsonl bad rows",
			file:    "a.jsonl",
			content: []byte("{\"id\":1}\n{\"id\":\n[1]\n{\"id\":\"\xff\"}\n{\"x\":1}\n{\"id\":null}\n{\"id\":3}\n"),
			want:    []string{`{"id":1}`, `{"id":3}`},
			rejects: []string{"2: invalid JSON", "3: not a JSON object", "4: invalid UTF-8", `5: primary key field "id"`, `6: primary key field "id"`},
		},
		{
			name:    "json array pretty-printed",
			file:    "a.json",
			content: []byte("[\n  {\n    \"id\": 1\n  },\n  {\n    \"id\": 2\n  },\n  7\n]\n"),
			want:    []string{`{"id":1}`, `{"id":2}`},
			rejects: []string{"8: not a JSON object"},
		},
		{
			name:    "json objects one after another, gzip",
			file:    "a.json.gz",
			content: []byte("\n{\"id\": 1}\n{\"id\": 2}"),
			want:    []string{`{"id":1}`, `{"id":2}`},
		},
		{
			name:    "json syntax error skips the rest",
			file:    "a.json",
			content: []byte("[\n{\"id\": 1},\n{\"id\": 2,,},\n{\"id\": 3}\n]"),
			want:    []string{`{"id":1}`},
			rejects: []string{"3: invalid JSON"},
		},
		{
			name:    "json truncated",
			file:    "a.json",
			content: []byte("[{\"id\": 1},\n{\"id\": 2"),
			want:    []string{`{"id":1}`},
			rejects: []string{"2: invalid JSON: unexpected end of file"},
		},
		{
			name:    "json invalid UTF-8",
			file:    "a.json",
			content: []byte("[{\"id\": \"\xfe\"}, {\"id\": 2}]"),
			want:    []string{`{"id":2}`},
			rejects: []string{"1: invalid UTF-8"},
		},
		{
			name:    "format overrides extension",
			file:    "export.txt",
			content: []byte(`{"id":1}` + "\n"),
			extra:   map[string]any{"format": "jsonl"},
			want:    []string{`{"id":1}`},
		},
		{
			name:    "configured schema rejects",
			file:    "a.jsonl",
			content: []byte(`{"id":1,"age":30}` + "\n" + `{"id":2,"age":"old"}` + "\n"),
			extra:   map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"age": map[string]any{"type": "integer"}}}},
			want:    []string{`{"id":1,"age":30}`},
			rejects: []string{"2: does not match the stream schema"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tt.file, tt.content)
			pk := tt.pk
			if pk == nil {
				pk = []string{"id"}
			}
			c := read(t, config(t, []string{path}, pk, tt.extra), nil)
			if got := dataOf(c.Records); !slices.Equal(got, tt.want) {
				t.Errorf("records:\n got %q\nwant %q", got, tt.want)
			}
			var got []string
			for _, r := range c.Rejects {
				if r.Stream != "s" {
					t.Errorf("reject of stream %q, want s", r.Stream)
				}
				got = append(got, strings.TrimPrefix(r.Location, path+":")+": "+r.Reason)
			}
			if len(got) != len(tt.rejects) {
				t.Fatalf("rejects:\n got %q\nwant %q", got, tt.rejects)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], strings.SplitN(tt.rejects[i], ": ", 2)[0]+": ") || !strings.Contains(got[i], strings.SplitN(tt.rejects[i], ": ", 2)[1]) {
					t.Errorf("reject %d = %q, want %q", i, got[i], tt.rejects[i])
				}
			}
			if len(c.Checkpoints) == 0 {
				t.Error("no checkpoint")
			}
		})
	}
}

func TestReadIOErrorFails(t *testing.T) {
	dir := t.TempDir()
	// A gzip file cut short: the data is unreadable, not a bad row.
	path := writeFile(t, dir, "a.jsonl.gz", bytes.Repeat([]byte(`{"id":1}`+"\n"), 1000))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	var c sdktest.Collector
	err = New().Read(quiet(t), connector.ReadRequest{Config: config(t, []string{path}, []string{"id"}, nil)}, &c)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Read = %v, want an error naming %s", err, path)
	}
}

func TestReadSortedAcrossGlobs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b/2.jsonl", []byte(`{"id":"b2"}`))
	writeFile(t, dir, "a/x/1.jsonl", []byte(`{"id":"a1"}`))
	writeFile(t, dir, "a/0.jsonl", []byte(`{"id":"a0"}`))
	writeFile(t, dir, "a/skip.csv", []byte("id\nnope\n"))
	c := read(t, config(t, []string{filepath.Join(dir, "b", "*.jsonl"), filepath.Join(dir, "**", "*.jsonl")}, []string{"id"}, nil), nil)
	want := []string{`{"id":"a0"}`, `{"id":"a1"}`, `{"id":"b2"}`}
	if got := dataOf(c.Records); !slices.Equal(got, want) {
		t.Fatalf("records %q, want %q (sorted, each file once)", got, want)
	}
}

func TestReadLargeFileStreams(t *testing.T) {
	// A line longer than the limit is rejected, not buffered whole, and
	// the lines after it are read.
	dir := t.TempDir()
	var b bytes.Buffer
	b.WriteString(`{"id":1}` + "\n" + `{"id":"`)
	b.Write(bytes.Repeat([]byte("x"), maxRecordBytes+10))
	b.WriteString(`"}` + "\n" + `{"id":3}` + "\n")
	path := writeFile(t, dir, "big.jsonl", b.Bytes())
	c := read(t, config(t, []string{path}, []string{"id"}, nil), nil)
	if got, want := dataOf(c.Records), []string{`{"id":1}`, `{"id":3}`}; !slices.Equal(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
	if len(c.Rejects) != 1 || c.Rejects[0].Location != path+":2" || len(c.Rejects[0].Raw) > maxRawBytes {
		t.Fatalf("rejects %+v, want one at line 2 with a truncated raw row", c.Rejects)
	}
}

// A CSV record longer than the limit, a line or a quoted value over many
// lines, is rejected rather than held in memory; after a quote that is
// never closed the rows that follow its line are read.
func TestReadLongCSVRecords(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	b.WriteString("id,name\n1,\"Joe\n")
	pad := strings.Repeat("x", 990)
	rows := maxRecordBytes/1000 + 10
	for i := range rows {
		fmt.Fprintf(&b, "%d,%s\n", i+2, pad)
	}
	b.WriteString("big,")
	b.Write(bytes.Repeat([]byte("y"), maxRecordBytes))
	b.WriteString("\nlast,z\n")
	path := writeFile(t, dir, "big.csv", b.Bytes())
	c := read(t, config(t, []string{path}, []string{"id"}, nil), nil)
	if len(c.Records) != rows+1 || string(c.Records[0].Data) != `{"id":"2","name":"`+pad+`"}` ||
		string(c.Records[rows].Data) != `{"id":"last","name":"z"}` {
		t.Fatalf("%d records, want %d: every row but the one with the open quote and the long one", len(c.Records), rows+1)
	}
	want := []string{
		path + ":2: the record from line 2 on runs past 16 MiB (is a quote not closed?); read on from line 3",
		fmt.Sprintf("%s:%d: line %d is longer than 16 MiB", path, rows+3, rows+3),
	}
	if len(c.Rejects) != len(want) {
		t.Fatalf("rejects %+v, want %q", c.Rejects, want)
	}
	for i, r := range c.Rejects {
		if got := r.Location + ": " + r.Reason; got != want[i] || len(r.Raw) == 0 || len(r.Raw) > maxRawBytes {
			t.Errorf("reject %q with %d bytes raw, want %q with a truncated raw row", got, len(r.Raw), want[i])
		}
	}
}

// A CSV record may hold up to maxRecord bytes. A longer line is a reject;
// a longer record over several lines is one too, and the lines after its
// first are read again, as rows of their own.
func TestCSVRecordLimit(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		noHeader bool
		want     []string // "line: record" or "line: reject"
	}{
		{
			name: "a quoted value over lines up to the limit",
			in:   "id,name\n1,\"a\nbbbbbbbbbbbbbbbbb\"\n2,c\n",
			want: []string{`2: {"id":"1","name":"a\nbbbbbbbbbbbbbbbbb"}`, `4: {"id":"2","name":"c"}`},
		},
		{
			name: "a quote not closed",
			in:   "id,name\n1,\"Joe\n2,aaaa\n3,bbbb\n4,cccc\n5,dddd\n6,eeee\n",
			want: []string{
				"2: the record from line 2 on runs past 24 bytes (is a quote not closed?); read on from line 3",
				`3: {"id":"2","name":"aaaa"}`, `4: {"id":"3","name":"bbbb"}`, `5: {"id":"4","name":"cccc"}`,
				`6: {"id":"5","name":"dddd"}`, `7: {"id":"6","name":"eeee"}`,
			},
		},
		{
			name: "a quote not closed after empty lines, in a file without a final newline",
			in:   "id,name\n\n\r\n1,\"Joe\n2,aaaa\n3,bbbb\n4,cccc",
			want: []string{
				"4: the record from line 4 on runs past 24 bytes (is a quote not closed?); read on from line 5",
				`5: {"id":"2","name":"aaaa"}`, `6: {"id":"3","name":"bbbb"}`, `7: {"id":"4","name":"cccc"}`,
			},
		},
		{
			name: "a plain line too long",
			in:   "id,name\n1,a\n2,xxxxxxxxxxxxxxxxxxxxxxxxx\n3,c\n",
			want: []string{`2: {"id":"1","name":"a"}`, "3: line 3 is longer than 24 bytes", `4: {"id":"3","name":"c"}`},
		},
		{
			name: "a quoted line too long, after an empty line",
			in:   "id,name\n\n\"1\",\"xxxxxxxxxxxxxxxxxxxxxx\"\n2,b\n",
			want: []string{"3: line 3 is longer than 24 bytes", `4: {"id":"2","name":"b"}`},
		},
		{
			name: "a line too long in a quoted value",
			in:   "id,name\n1,\"a\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n2,b\n",
			want: []string{
				"2: the record from line 2 on runs past 24 bytes (is a quote not closed?); read on from line 3",
				"3: line 3 is longer than 24 bytes", `4: {"id":"2","name":"b"}`,
			},
		},
		{
			name: "a quote opened again in a line read again",
			in:   "id,name\n1,\"a\n3,xxxxxxxxxxxxxxxx\n2,\"b\n5,yyyyyyyyyyyyyyyy\n6,zz\n7,end\n",
			want: []string{
				"2: the record from line 2 on runs past 24 bytes (is a quote not closed?); read on from line 3",
				`3: {"id":"3","name":"xxxxxxxxxxxxxxxx"}`,
				"4: the record from line 4 on runs past 24 bytes (is a quote not closed?); read on from line 5",
				`5: {"id":"5","name":"yyyyyyyyyyyyyyyy"}`, `6: {"id":"6","name":"zz"}`, `7: {"id":"7","name":"end"}`,
			},
		},
		{
			name: "a header too long",
			in:   "id,\"name\n1,aaaaaaaa\n2,bbbbbbbb\n3,cccccccc\n",
			want: []string{"1: header: the record from line 1 on runs past 24 bytes (is a quote not closed?)"},
		},
		{
			name:     "a first row too long",
			in:       "1,\"a\n2,bbbbbbbbbbbbbbbbbb\n3,c\n",
			noHeader: true,
			want:     []string{"1: the record from line 1 on runs past 24 bytes (is a quote not closed?); the file is skipped (its first row sets the number of columns)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 5} {
				var in io.Reader = strings.NewReader(tt.in)
				if chunk > 0 {
					in = &chunkReader{r: in, n: chunk}
				}
				rows := newCSVRows(in, fileFormat{format: formatCSV, delimiter: ',', header: !tt.noHeader}, []string{"id"})
				rows.maxRecord = 24
				var got []string
				for {
					r, err := rows.next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if r.reject != "" {
						got = append(got, fmt.Sprintf("%d: %s", r.line, r.reject))
						if len(r.raw) == 0 || len(r.raw) > maxRawBytes {
							t.Errorf("reject at line %d: %d bytes raw", r.line, len(r.raw))
						}
					} else {
						got = append(got, fmt.Sprintf("%d: %s", r.line, r.data))
					}
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("chunks of %d: rows\n%s\nwant\n%s", chunk, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		})
	}
}

// unclosedQuote is a CSV file made as it is read, without allocating: a
// header, a row whose last value opens a quote it never closes, then n
// plain rows, with ids 2 to n+1.
type unclosedQuote struct {
	n, i int
	buf  []byte
	pend []byte
}

func (u *unclosedQuote) Read(p []byte) (int, error) {
	for len(u.pend) == 0 {
		switch {
		case u.i == 0:
			u.buf = append(u.buf[:0], "id,name\n1,\"Joe\n"...)
		case u.i > u.n:
			return 0, io.EOF
		default:
			u.buf = strconv.AppendInt(u.buf[:0], int64(u.i+1), 10)
			u.buf = append(u.buf, ",xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"...)
		}
		u.pend = u.buf
		u.i++
	}
	k := copy(p, u.pend)
	u.pend = u.pend[k:]
	return k, nil
}

// The package doc promises bounded memory however large a file is: a
// quote never closed must not make encoding/csv hold the rest of the file
// (here about 28 MB) as one value, nor make it one reject.
func TestCSVUnclosedQuoteMemory(t *testing.T) {
	const n = 300_000
	rows := newCSVRows(&unclosedQuote{n: n}, fileFormat{format: formatCSV, delimiter: ',', header: true}, []string{"id"})
	rows.maxRecord = 1 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var rejects []string
	records, first, last := 0, 0, 0
	for {
		r, err := rows.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.reject != "" {
			rejects = append(rejects, fmt.Sprintf("%d: %s", r.line, r.reject))
			continue
		}
		if records == 0 {
			first = r.line
		}
		last = r.line
		records++
	}
	runtime.ReadMemStats(&after)
	want := "2: the record from line 2 on runs past 1 MiB (is a quote not closed?); read on from line 3"
	if len(rejects) != 1 || rejects[0] != want {
		t.Errorf("rejects %q, want %q", rejects, want)
	}
	if records != n || first != 3 || last != n+2 {
		t.Errorf("%d records on lines %d to %d, want %d on lines 3 to %d", records, first, last, n, n+2)
	}
	// What was allocated, garbage or not, bounds how far the heap grew:
	// a few times the limit, far less than the file.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 24<<20 {
		t.Errorf("allocated %d MiB reading a 28 MB file with a record limit of 1 MiB", alloc>>20)
	}
}

func TestReadSelectedStreams(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.jsonl", []byte(`{"id":1}`))
	b := writeFile(t, dir, "b.jsonl", []byte(`{"id":2}`))
	cfg, _ := json.Marshal(map[string]any{"streams": []any{
		map[string]any{"name": "a", "paths": []string{a}, "primary_key": []string{"id"}},
		map[string]any{"name": "b", "paths": []string{b}, "primary_key": []string{"id"}},
	}})
	var c sdktest.Collector
	if err := New().Read(quiet(t), connector.ReadRequest{Config: cfg, Streams: []string{"b"}}, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Records) != 1 || c.Records[0].Stream != "b" {
		t.Fatalf("records %+v, want only stream b", c.Records)
	}
	err := New().Read(quiet(t), connector.ReadRequest{Config: cfg, Streams: []string{"c"}}, &c)
	if err == nil || !strings.Contains(err.Error(), `no stream "c"`) {
		t.Fatalf("Read of an unknown stream = %v", err)
	}
}

// A path pattern that matches no file is read as nothing, with a warning
// that names it; a pattern that matches is not warned about.
func TestReadWarnsOfUnmatchedPatterns(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "a.csv", []byte("id,name\n1,Anna\n"))
	missing := filepath.Join(dir, "nope", "*.csv")
	var logs bytes.Buffer
	ctx := connector.WithLogger(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)))
	var c sdktest.Collector
	if err := New().Read(ctx, connector.ReadRequest{Config: config(t, []string{f, missing}, []string{"id"}, nil)}, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Records) != 1 {
		t.Fatalf("read %d records, want 1", len(c.Records))
	}
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "matches no file") || !strings.Contains(out, missing) {
		t.Errorf("no warning naming %s in the log:\n%s", missing, out)
	}
	if strings.Count(out, "matches no file") != 1 {
		t.Errorf("want exactly one warning, for the unmatched pattern:\n%s", out)
	}
}

// latin-1 decodes as the WHATWG Encoding Standard decodes the label
// latin1: Windows-1252, with its five undefined bytes kept as the control
// characters of the same number.
func TestLatin1IsWindows1252(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	got, _, err := transform.Bytes(latin1{}, all)
	if err != nil {
		t.Fatal(err)
	}
	runes := []rune(string(got))
	if !utf8.Valid(got) || len(runes) != 256 {
		t.Fatalf("256 bytes decode to %d runes (valid UTF-8: %v)", len(runes), utf8.Valid(got))
	}
	want := map[byte]rune{0x80: '€', 0x81: 0x81, 0x82: '‚', 0x84: '„', 0x85: '…', 0x8a: 'Š', 0x8d: 0x8d, 0x8f: 0x8f,
		0x90: 0x90, 0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x96: '–', 0x97: '—', 0x99: '™', 0x9d: 0x9d, 0x9f: 'Ÿ'}
	for i, r := range runes {
		w, ok := want[byte(i)]
		if !ok {
			if i >= 0x80 && i < 0xa0 {
				continue
			}
			w = rune(i) // ASCII, and 0xA0-0xFF as in ISO 8859-1
		}
		if r != w {
			t.Errorf("byte %#x decodes to %U, want %U", i, r, w)
		}
	}
	for i := 0x80; i < 0xa0; i++ {
		if r := runes[i]; r == utf8.RuneError || r == rune(i) && want[byte(i)] != rune(i) {
			t.Errorf("byte %#x decodes to %U", i, r)
		}
	}
}
