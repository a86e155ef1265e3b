package parquet

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// listTypes is a test-only table with a list of every scalar type.
func listTypes(t *testing.T) *model.Table {
	t.Helper()
	tb, err := model.FromSchema("lists", []byte(`{"type": "object", "required": ["s", "x"], "properties": {
		"s": {"type": "array", "items": {"type": "string"}},
		"i": {"type": "array", "items": {"type": "integer"}},
		"n": {"type": "array", "items": {"type": "number"}},
		"b": {"type": ["array", "null"], "items": {"type": "boolean"}},
		"ts": {"type": "array", "items": {"type": "string", "format": "date-time"}},
		"d": {"type": "array", "items": {"type": "string", "format": "date"}},
		"x": {"type": ["integer", "null"]},
		"f": {"type": ["number", "null"]},
		"ok": {"type": ["boolean", "null"]},
		"day": {"type": ["string", "null"], "format": "date"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// setTyped sets the row's non-null columns with the typed setters, last
// column first: the order must not matter.
func setTyped(t *testing.T, w *Writer, tb *model.Table, row []any) {
	t.Helper()
	for j := len(row) - 1; j >= 0; j-- {
		switch v := row[j].(type) {
		case nil: // left unset: null
		case string:
			w.SetString(j, v)
		case int64:
			w.SetInt(j, v)
		case float64:
			w.SetFloat(j, v)
		case bool:
			w.SetBool(j, v)
		case time.Time:
			w.SetTime(j, v)
		case []string:
			w.SetStrings(j, v)
		default:
			t.Fatalf("column %s: no typed setter for %T", tb.Columns[j].Name, v)
		}
	}
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Typed rows and rows copied from a rowset give the same file, byte for
// byte, as Write given the same values; and the file reads back.
func TestTypedRowsMatchWrite(t *testing.T) {
	tables := []*model.Table{listTypes(t)}
	for _, name := range allTables() {
		tables = append(tables, model.MustLoad(name))
	}
	for _, tb := range tables {
		t.Run(tb.Name, func(t *testing.T) {
			rows := make([][]any, 60)
			set := rowset.New(tb)
			for i := range rows {
				rows[i] = sampleRow(tb, i)
				if err := set.Append(rows[i]); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			opts := Options{RowGroupRows: 16}
			plain := filepath.Join(dir, "plain.parquet")
			writeFile(t, plain, tb, opts, rows)

			typed := filepath.Join(dir, "typed.parquet")
			fromSet := filepath.Join(dir, "set.parquet")
			wt, err := NewWriter(context.Background(), typed, tb, opts)
			if err != nil {
				t.Fatal(err)
			}
			ws, err := NewWriter(context.Background(), fromSet, tb, opts)
			if err != nil {
				t.Fatal(err)
			}
			// Lists of other types than String have no typed setter:
			// the typed rows leave them null, and are compared with Write
			// given the same.
			typedRows := make([][]any, len(rows))
			for i, row := range rows {
				typedRows[i] = slices.Clone(row)
				for j, c := range tb.Columns {
					if c.List && c.Type != model.String {
						typedRows[i][j] = nil
					}
				}
				setTyped(t, wt, tb, typedRows[i])
				if err := wt.EndRow(); err != nil {
					t.Fatal(err)
				}
				ws.SetRow(set, i)
				if err := ws.EndRow(); err != nil {
					t.Fatal(err)
				}
			}
			for _, w := range []*Writer{wt, ws} {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(fileBytes(t, plain), fileBytes(t, fromSet)) {
				t.Error("rows copied from a rowset wrote another file than Write")
			}
			plainTyped := filepath.Join(dir, "plain-typed.parquet")
			writeFile(t, plainTyped, tb, opts, typedRows)
			if !bytes.Equal(fileBytes(t, plainTyped), fileBytes(t, typed)) {
				t.Error("typed rows wrote another file than Write")
			}
			compareRows(t, tb, readBack(t, typed, tb), typedRows)
			compareRows(t, tb, readBack(t, fromSet, tb), rows)
		})
	}
}

// A column set before SetRow keeps its value; the rest come from the set.
func TestSetRowOverride(t *testing.T) {
	tb := model.MustLoad("order")
	cust, _ := tb.Index("customer_id")
	set := rowset.New(tb)
	var want [][]any
	for i := range 20 {
		row := sampleRow(tb, i)
		if err := set.Append(row); err != nil {
			t.Fatal(err)
		}
		row[cust] = "cust-" + strings.Repeat("x", i)
		want = append(want, row)
	}
	path := filepath.Join(t.TempDir(), "order.parquet")
	w, err := NewWriter(context.Background(), path, tb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i := range want {
		// SetBytes copies: the buffer is reused row to row.
		buf = append(buf[:0], want[i][cust].(string)...)
		w.SetBytes(cust, buf)
		w.SetRow(set, i)
		if err := w.EndRow(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	compareRows(t, tb, readBack(t, path, tb), want)
}

// A Writer with columns past a set's takes its rows once those columns
// are set, as staging's compaction writes rows plus the deleted flag.
func TestSetRowFromAShorterTable(t *testing.T) {
	tb := model.MustLoad("order")
	wide := &model.Table{Name: tb.Name, Columns: append(slices.Clone(tb.Columns), model.Column{Name: "_flag", Type: model.Boolean, Required: true})}
	flag := len(wide.Columns) - 1
	set := rowset.New(tb)
	var want [][]any
	for i := range 5 {
		row := sampleRow(tb, i)
		if err := set.Append(row); err != nil {
			t.Fatal(err)
		}
		want = append(want, append(row, i%2 == 0))
	}
	path := filepath.Join(t.TempDir(), "order.parquet")
	w, err := NewWriter(context.Background(), path, wide, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		w.SetBool(flag, i%2 == 0)
		w.SetRow(set, i)
		if err := w.EndRow(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	compareRows(t, wide, readBack(t, path, wide), want)

	dir := t.TempDir()
	w, err = NewWriter(context.Background(), filepath.Join(dir, "order.parquet"), wide, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.SetRow(set, 0) // _flag not set
	err = w.EndRow()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil || !strings.Contains(err.Error(), "has no column _flag") {
		t.Errorf("SetRow leaving _flag unset: %v", err)
	}
	assertEmptyDir(t, dir)
}

// Misuse fails the Writer, which then publishes nothing.
func TestTypedErrors(t *testing.T) {
	tb := model.MustLoad("merge") // absorbed_id, surviving_id, ... required strings
	absorbed, _ := tb.Index("absorbed_id")
	merged, _ := tb.Index("merged_at")
	other := model.MustLoad("order")
	cases := []struct {
		name string
		do   func(w *Writer) error
		want string
	}{
		{"wrong type", func(w *Writer) error { w.SetInt(absorbed, 1); return w.EndRow() }, "set as"},
		{"set twice", func(w *Writer) error {
			w.SetString(absorbed, "a")
			w.SetString(absorbed, "b")
			return w.EndRow()
		}, "set twice"},
		{"no such column", func(w *Writer) error { w.SetString(99, "a"); return w.EndRow() }, "no column 99"},
		{"required left unset", func(w *Writer) error { w.SetTime(merged, time.Now()); return w.EndRow() }, "required"},
		{"list as scalar", func(w *Writer) error { w.SetStrings(absorbed, nil); return w.EndRow() }, "list"},
		{"row of another table", func(w *Writer) error { w.SetRow(rowset.New(other), 0); return w.EndRow() }, "columns"},
		{"Write during a typed row", func(w *Writer) error {
			w.SetString(absorbed, "a")
			return w.Write(sampleRow(tb, 1))
		}, "during a typed row"},
		{"Close before EndRow", func(w *Writer) error { w.SetString(absorbed, "a"); return nil }, "before EndRow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewWriter(context.Background(), filepath.Join(dir, "merge.parquet"), tb, Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = c.do(w)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
			assertEmptyDir(t, dir)
		})
	}
}
