package files

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// drain reads every row and checks that each record is a JSON object with
// a positive line number (for CSV, past the last row's), and its members
// are its own; it must not panic or loop forever.
func drain(t *testing.T, rows rowReader, csv bool) {
	last := 0
	for i := 0; ; i++ {
		r, err := rows.next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("next: %v (a bytes.Reader cannot fail)", err)
		}
		if r.line < 1 || csv && r.line <= last {
			t.Fatalf("row %d: line %d after line %d", i, r.line, last)
		}
		last = r.line
		if r.reject != "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(r.data, &v); err != nil {
			t.Fatalf("row %d: data %q is no JSON object: %v", i, r.data, err)
		}
		if r.fast {
			checkMembers(t, r.data, r.members, csv)
		}
		if i > 1<<20 {
			t.Fatal("no end of input")
		}
	}
}

func FuzzCSVRows(f *testing.F) {
	for _, s := range []string{"id,name\n1,a\n", "a\\b,\"c\"\"d\"\n1,2\n", "a;b\r\n\"x\"\"y\";\n", "\xef\xbb\xbfa\n\xff\n", "a,a\n", "\"", "a\n1,2\n"} {
		f.Add([]byte(s), false, true)
	}
	f.Add([]byte("id,name\n1,\"a\n2,b\n3,\"c\n4,d\n5,eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n6,f"), false, true)
	f.Fuzz(func(t *testing.T, data []byte, latin1, header bool) {
		ff := fileFormat{format: formatCSV, delimiter: ',', latin1: latin1, header: header}
		drain(t, newCSVRows(bytes.NewReader(data), ff, []string{"id"}), true)
		// With a limit of a few bytes, records are cut short, and their
		// lines read again.
		rows := newCSVRows(bytes.NewReader(data), ff, []string{"id"})
		rows.maxRecord = 1 + len(data)%32
		drain(t, rows, true)
	})
}

func FuzzJSONRows(f *testing.F) {
	for _, s := range []string{"[{\"a\":1},\n{\"b\":[2]}]", "{\"a\":1}{\"a\":2}", "[1,", "\n\n[]x", "\xef\xbb\xbf[{\"a\":\"\xff\"}]", "{\"a\":1}\n{\"a\":"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		drain(t, newJSONRows(bytes.NewReader(data)), false)
		drain(t, newJSONLRows(bytes.NewReader(data)), false)
	})
}
