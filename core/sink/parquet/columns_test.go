package parquet

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// ReadInto reads the named scalar columns of every table as ReadFile
// does, across row groups, and leaves the other columns null.
func TestReadIntoMatchesReadFile(t *testing.T) {
	for _, name := range allTables() {
		t.Run(name, func(t *testing.T) {
			tb := model.MustLoad(name)
			rows := make([][]any, 50)
			for i := range rows {
				rows[i] = sampleRow(tb, i)
			}
			path := filepath.Join(t.TempDir(), name+".parquet")
			writeFile(t, path, tb, Options{RowGroupRows: 7}, rows)
			var cols []string
			for _, c := range tb.Columns {
				if !c.List {
					cols = append(cols, c.Name)
				}
			}
			cols = cols[:len(cols)/2+1] // some, not all
			set := rowset.New(tb)
			for range 2 { // a second file's rows go after the first's
				if err := ReadInto(context.Background(), path, set, cols...); err != nil {
					t.Fatal(err)
				}
			}
			want := readBack(t, path, tb)
			if set.Len() != 2*len(want) {
				t.Fatalf("%d rows, want %d", set.Len(), 2*len(want))
			}
			for i := range set.Len() {
				got := set.Row(i, nil)
				for j, c := range tb.Columns {
					w := want[i%len(want)][j]
					if !containsName(cols, c.Name) {
						w = nil
					}
					if !reflect.DeepEqual(got[j], w) {
						t.Fatalf("row %d column %s: got %#v, want %#v", i, c.Name, got[j], w)
					}
				}
			}
		})
	}
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

func TestReadIntoErrors(t *testing.T) {
	tb := model.MustLoad("identity_link")
	path := filepath.Join(t.TempDir(), "l.parquet")
	writeFile(t, path, tb, Options{}, [][]any{sampleRow(tb, 1)})
	for _, tc := range []struct{ col, want string }{
		{"no_such_column", "no scalar column"},
	} {
		err := ReadInto(context.Background(), path, rowset.New(tb), tc.col)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadInto(%s) = %v, want an error saying %q", tc.col, err, tc.want)
		}
	}
	// A file of another table: its column has another type.
	ev := model.MustLoad("event")
	evPath := filepath.Join(t.TempDir(), "e.parquet")
	writeFile(t, evPath, ev, Options{}, [][]any{sampleRow(ev, 1)})
	other := &model.Table{Name: "x", Columns: []model.Column{{Name: "occurred_at", Type: model.String}}}
	if err := ReadInto(context.Background(), evPath, rowset.New(other), "occurred_at"); err == nil || !strings.Contains(err.Error(), "is not a string") {
		t.Errorf("ReadInto of a timestamp as a string = %v, want a type error", err)
	}
	if err := ReadInto(context.Background(), filepath.Join(t.TempDir(), "missing.parquet"), rowset.New(tb), "source"); err == nil {
		t.Error("ReadInto of a missing file succeeded")
	}
}
