package files

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// inferSchemaDecoding is inferSchema as it was before it read records from
// their members: every sampled record decoded by encoding/json. The fast
// inference must give the same schema.
func inferSchemaDecoding(s *StreamConfig, paths []string) (json.RawMessage, error) {
	types := map[string]map[string]bool{}
	n := 0
	for _, path := range paths {
		if n >= sampleSize {
			break
		}
		ff, err := s.formatOf(path)
		if err != nil {
			return nil, err
		}
		rows, closer, err := openRows(path, ff, nil)
		if err != nil {
			return nil, err
		}
		for n < sampleSize {
			r, err := rows.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				closer.Close()
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if r.reject != "" {
				continue
			}
			value, err := decodeObject(r.data)
			if err != nil {
				closer.Close()
				return nil, fmt.Errorf("%s:%d: %w", path, r.line, err)
			}
			n++
			for k, v := range value {
				if types[k] == nil {
					types[k] = map[string]bool{}
				}
				if ff.format == formatCSV {
					types[k]["string"] = true
					continue
				}
				types[k][jsonType(v)] = true
			}
		}
		closer.Close()
	}
	props := make(map[string]any, len(types))
	for field, seen := range types {
		delete(seen, "null")
		props[field] = map[string]any{}
		if len(seen) == 1 {
			props[field] = map[string]any{"type": []string{slices.Collect(maps.Keys(seen))[0], "null"}}
		}
	}
	return json.Marshal(map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"type":       "object",
		"properties": props,
		"required":   requiredFields(s),
	})
}

// FuzzInferSchema checks that schema inference from members gives the
// schema that decoding every sampled record gives, for the same bytes read
// as CSV (with and without a header), JSON Lines and JSON, split over two
// files of a stream.
func FuzzInferSchema(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s+"\n"+s), []byte(`{"id":1,"a":[1],"b":"x","c":null}`+"\n"))
		f.Add([]byte(s), []byte{})
	}
	f.Add([]byte("{\"a\":1,\"a\":\"x\"}\n{\"a\":\"y\"}"), []byte("{\"b\":{}}"))
	f.Add([]byte("a,b\n,x\n"), []byte{})
	f.Add([]byte("{\"a\":1}\n{\"a\":\"x\",\"b\":null}"), []byte{})
	f.Add([]byte("{\"a\":1,\"a\":\"x\"}\n{\"b\":null}\n{\"b\":true,\"a\":2}"), []byte("{\"a\":null}\n{\"\\u0061\":[1]}"))
	f.Add([]byte("id,name\n1,a\n2,\n3\n"), []byte("x;y\n\"1\",\"\"\"2\"\n"))
	f.Add([]byte("a,b,a\n1,2,3\n"), []byte("\xef\xbb\xbfid,é\n,\xff\n1,2\n"))
	f.Fuzz(func(t *testing.T, file1, file2 []byte) {
		dir := t.TempDir()
		for _, ext := range []string{"csv", "jsonl", "json"} {
			paths := []string{filepath.Join(dir, "1."+ext), filepath.Join(dir, "2."+ext)}
			for i, data := range [][]byte{file1, file2} {
				if err := os.WriteFile(paths[i], data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []StreamConfig{
				{Name: "s", Paths: paths, PrimaryKey: []string{"id"}},
				{Name: "s", Paths: paths, PrimaryKey: []string{"id"}, CursorField: "c", CSV: CSVConfig{Header: new(false)}},
				{Name: "s", Paths: paths, CSV: CSVConfig{Encoding: encodingLatin1, Delimiter: ";"}},
			} {
				got, gerr := inferSchema(&s, paths)
				want, werr := inferSchemaDecoding(&s, paths)
				if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
					t.Fatalf("%s: inferSchema error %v, decoding every record: %v", ext, gerr, werr)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s %+v: inferSchema gives %s, decoding every record %s", ext, s.CSV, got, want)
				}
			}
		}
	})
}

// TestInferSchemaManyRecords checks the sample's bound across files: the
// fast inference stops where decoding every record stops.
func TestInferSchemaManyRecords(t *testing.T) {
	dir := t.TempDir()
	var csv1, csv2, jl1, jl2 bytes.Buffer
	csv1.WriteString("id,a\n")
	csv2.WriteString("id,b\n")
	for i := range sampleSize - 2 {
		fmt.Fprintf(&csv1, "%d,x\n", i)
		fmt.Fprintf(&jl1, "{\"id\":%d,\"a\":%d}\n", i, i)
	}
	csv1.WriteString("1,2,3\n") // a reject: does not count
	for i := range 5 {
		fmt.Fprintf(&csv2, "%d,y\n", i)
		fmt.Fprintf(&jl2, "{\"id\":%d,\"a\":\"s\",\"b%d\":true}\n", i, i)
	}
	write := func(name string, b *bytes.Buffer) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, paths := range [][]string{
		{write("1.csv", &csv1), write("2.csv", &csv2)},
		{write("1.jsonl", &jl1), write("2.jsonl", &jl2)},
	} {
		s := StreamConfig{Name: "s", Paths: paths, PrimaryKey: []string{"id"}}
		got, err := inferSchema(&s, paths)
		if err != nil {
			t.Fatal(err)
		}
		want, err := inferSchemaDecoding(&s, paths)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("inferSchema gives %s, decoding every record %s", got, want)
		}
		if !bytes.Contains(got, []byte(`"b"`)) && !bytes.Contains(got, []byte(`"b1"`)) {
			t.Fatalf("%s: the second file's fields are missing", got)
		}
		if bytes.Contains(got, []byte(`"b2"`)) {
			t.Fatalf("%s: read past the sample", got)
		}
	}
}
