package parquet

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
)

// TestReadFileRoundTrip checks the production reader against what the
// writer was given, for every output table with nulls, lists and times.
func TestReadFileRoundTrip(t *testing.T) {
	for _, name := range model.Outputs {
		t.Run(name, func(t *testing.T) {
			tb := model.MustLoad(name)
			rows := sampleRows(tb, 300)
			path := filepath.Join(t.TempDir(), name+".parquet")
			writeFile(t, path, tb, Options{RowGroupRows: 128}, rows)
			var got [][]any
			err := ReadFile(context.Background(), path, tb, func(row []any) error {
				got = append(got, append([]any(nil), row...))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(rows) {
				t.Fatalf("read %d rows, wrote %d", len(got), len(rows))
			}
			for i := range rows {
				if !reflect.DeepEqual(got[i], rows[i]) {
					t.Fatalf("row %d:\n got %#v\nwant %#v", i, got[i], rows[i])
				}
			}
		})
	}
}

// sampleRows makes rows with every kind of value a column can hold,
// including nulls in optional columns and empty and null lists.
func sampleRows(tb *model.Table, n int) [][]any {
	base := time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		row := make([]any, len(tb.Columns))
		for j, c := range tb.Columns {
			if !c.Required && (i+j)%4 == 0 {
				continue // null
			}
			if c.List {
				switch i % 3 {
				case 0:
					row[j] = []string{}
				default:
					row[j] = []string{"a", c.Name, "ü"}[:i%3+1]
				}
				continue
			}
			switch c.Type {
			case model.String:
				row[j] = c.Name + "-" + string(rune('a'+i%26))
			case model.Integer:
				row[j] = int64(i * 7)
			case model.Number:
				row[j] = float64(i) / 4
			case model.Boolean:
				row[j] = i%2 == 0
			case model.Timestamp:
				row[j] = base.Add(time.Duration(i) * time.Hour)
			case model.Date:
				row[j] = time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC)
			}
		}
		rows[i] = row
	}
	return rows
}
