package parquet

import (
	"errors"
	"io"
	"testing"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/desilo/desilo/core/model"
)

// readBack reads a file with github.com/parquet-go/parquet-go, a reader
// independent of the writer's library, checks that its schema is the one
// the model prescribes, and returns its rows in the model's row form.
func readBack(t *testing.T, path string, tb *model.Table) [][]any {
	t.Helper()
	f, pf, err := Open(path)
	if err != nil {
		t.Fatalf("independent reader cannot open %s: %v", path, err)
	}
	defer f.Close()
	sch := pf.Schema()
	if got := len(sch.Columns()); got != len(tb.Columns) {
		t.Fatalf("%s: %d leaf columns, want %d", path, got, len(tb.Columns))
	}
	leaves := make([]pgo.LeafColumn, len(tb.Columns))
	for i, c := range tb.Columns {
		p := []string{c.Name}
		if c.List {
			p = []string{c.Name, "list", "element"}
		}
		leaf, ok := sch.Lookup(p...)
		if !ok {
			t.Fatalf("%s: no column %v", path, p)
		}
		if leaf.ColumnIndex != i {
			t.Errorf("%s: column %s at %d, want %d", path, c.Name, leaf.ColumnIndex, i)
		}
		opt := 0
		if !c.Required {
			opt = 1
		}
		wantDef, wantRep := opt, 0
		if c.List {
			wantDef, wantRep = opt+1, 1
			if list := sch.Fields()[i]; logical(list) != "LIST" || list.Optional() != !c.Required {
				t.Errorf("%s: column %s is %v optional=%v, want a LIST optional=%v", path, c.Name,
					logical(list), list.Optional(), !c.Required)
			}
		}
		if leaf.MaxDefinitionLevel != wantDef || leaf.MaxRepetitionLevel != wantRep {
			t.Errorf("%s: column %s def/rep %d/%d, want %d/%d", path, c.Name,
				leaf.MaxDefinitionLevel, leaf.MaxRepetitionLevel, wantDef, wantRep)
		}
		if got, want := logical(leaf.Node), logicalName(c.Type); got != want {
			t.Errorf("%s: column %s logical type %q, want %q", path, c.Name, got, want)
		}
		if got, want := leaf.Node.Type().Kind(), kindOf(c.Type); got != want {
			t.Errorf("%s: column %s physical type %v, want %v", path, c.Name, got, want)
		}
		leaves[i] = leaf
	}

	var out [][]any
	buf := make([]pgo.Row, 64)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				out = append(out, decodeRow(t, tb, leaves, r))
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: reading rows: %v", path, err)
			}
		}
		rows.Close()
	}
	if int64(len(out)) != pf.NumRows() {
		t.Errorf("%s: read %d rows, footer says %d", path, len(out), pf.NumRows())
	}
	return out
}

// logical names a node's logical type, "" when it has none.
func logical(n pgo.Node) string {
	if lt := n.Type().LogicalType(); lt != nil {
		return lt.String()
	}
	return ""
}

func logicalName(t model.Type) string {
	switch t {
	case model.String:
		return "STRING"
	case model.Timestamp:
		return "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)"
	case model.Date:
		return "DATE"
	case model.Integer:
		return "INT(64,true)" // how this reader names a plain INT64
	}
	return ""
}

func kindOf(t model.Type) pgo.Kind {
	switch t {
	case model.String:
		return pgo.ByteArray
	case model.Integer, model.Timestamp:
		return pgo.Int64
	case model.Number:
		return pgo.Double
	case model.Boolean:
		return pgo.Boolean
	}
	return pgo.Int32
}

func decodeRow(t *testing.T, tb *model.Table, leaves []pgo.LeafColumn, r pgo.Row) []any {
	t.Helper()
	byCol := make([][]pgo.Value, len(tb.Columns))
	for _, v := range r {
		byCol[v.Column()] = append(byCol[v.Column()], v)
	}
	row := make([]any, len(tb.Columns))
	for i, c := range tb.Columns {
		vals := byCol[i]
		if len(vals) == 0 {
			t.Fatalf("column %s has no value in a row", c.Name)
		}
		if !c.List {
			if vals[0].IsNull() {
				row[i] = nil
			} else {
				row[i] = DecodeScalar(c.Type, vals[0])
			}
			continue
		}
		if len(vals) == 1 && vals[0].DefinitionLevel() < leaves[i].MaxDefinitionLevel {
			if !c.Required && vals[0].DefinitionLevel() == 0 {
				row[i] = nil // a null list
			} else {
				row[i] = DecodeList(c.Type, nil)
			}
			continue
		}
		row[i] = DecodeList(c.Type, vals)
	}
	return row
}

// nullCounts returns the null_count statistic of every column chunk, per
// row group, as the independent reader sees it.
func nullCounts(t *testing.T, path string) [][]int64 {
	t.Helper()
	f, pf, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]int64
	for _, rg := range pf.Metadata().RowGroups {
		var counts []int64
		for _, c := range rg.Columns {
			counts = append(counts, c.MetaData.Statistics.NullCount)
		}
		out = append(out, counts)
	}
	return out
}
