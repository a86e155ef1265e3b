package stage

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
	sink "github.com/desilo/desilo/core/sink/parquet"
)

// value returns a value of column c, varied by n; lists have n%3 items,
// so n%3 == 0 gives an empty list.
func value(c model.Column, n int) any {
	one := func(i int) any {
		switch c.Type {
		case model.String:
			return fmt.Sprintf("%s-%d-%d ünï", c.Name, n, i)
		case model.Integer:
			return int64(n*1000+i) - 3
		case model.Number:
			return float64(n) + 0.25 + float64(i)
		case model.Boolean:
			return (n+i)%2 == 0
		case model.Timestamp:
			return time.Date(2026, 11, 22, 2, n, i, 123456000, time.UTC) // microsecond precision
		default:
			return time.Date(1990+n, 2, 28, 0, 0, 0, 0, time.UTC)
		}
	}
	if !c.List {
		return one(0)
	}
	k := n % 3
	switch c.Type {
	case model.String:
		l := []string{}
		for i := range k {
			l = append(l, one(i).(string))
		}
		return l
	case model.Integer:
		l := []int64{}
		for i := range k {
			l = append(l, one(i).(int64))
		}
		return l
	case model.Number:
		l := []float64{}
		for i := range k {
			l = append(l, one(i).(float64))
		}
		return l
	case model.Boolean:
		l := []bool{}
		for i := range k {
			l = append(l, one(i).(bool))
		}
		return l
	default:
		l := []time.Time{}
		for i := range k {
			l = append(l, one(i).(time.Time))
		}
		return l
	}
}

// Every mapped table's rows come back from staging as they went in: all
// column types, nulls, empty and non-empty lists.
func TestRoundTripMappedTables(t *testing.T) {
	var names []string
	for _, name := range model.Mapped {
		names = append(names, name)
	}
	sort.Strings(names)
	covered := map[string]bool{}
	t.Cleanup(func() {
		for _, want := range []string{"string", "integer", "number", "boolean", "timestamp", "date", "list of string"} {
			if !covered[want] {
				t.Errorf("no mapped table has a %s column: the round trip does not cover it", want)
			}
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			tb, err := model.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tb.Columns {
				covered[describe(c)] = true
			}
			s, _ := open(t, t.TempDir(), Options{})
			x := begin(t, s, BeginOptions{})
			var want [][]any
			for n := range 4 {
				row := make([]any, len(tb.Columns))
				for i, c := range tb.Columns {
					switch {
					case c.Name == "source":
						row[i] = "crm"
					case c.Name == "stream":
						row[i] = "things"
					case c.Name == "record_key":
						row[i] = fmt.Sprint(n)
					case n == 3 && !c.Required: // a row of nulls
					default:
						row[i] = value(c, n)
					}
				}
				if err := x.Write("things", tb, row, false); err != nil {
					t.Fatal(err)
				}
				want = append(want, row)
			}
			finish(t, x)
			got := make([][]any, 4)
			err = s.Scan(context.Background(), "crm", "things", func(row []any) error {
				i, _ := tb.Index("record_key")
				var n int
				fmt.Sscan(row[i].(string), &n)
				got[n] = row
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			scanChunksMatch(t, s, "crm", "things", tb)
			for n := range want {
				if !reflect.DeepEqual(got[n], want[n]) {
					for i, c := range tb.Columns {
						if g := got[n]; g == nil || !reflect.DeepEqual(g[i], want[n][i]) {
							t.Errorf("row %d column %s (%v list=%v): got %#v, want %#v", n, c.Name, c.Type, c.List, at(got[n], i), want[n][i])
						}
					}
				}
			}
		})
	}
}

func at(row []any, i int) any {
	if row == nil {
		return "<no row>"
	}
	return row[i]
}

// A segment staged before the model changed: a column it lacks reads as
// nil, a column it has that the model dropped is ignored, and a column
// whose type changed is an error naming it.
func TestSegmentSchemaDrift(t *testing.T) {
	dir := t.TempDir()
	col := func(name string, typ model.Type, req bool) model.Column {
		return model.Column{Name: name, Type: typ, Required: req}
	}
	write := func(cols ...model.Column) string {
		t.Helper()
		tb := &model.Table{Name: "customer_record", Columns: cols}
		path := filepath.Join(dir, fmt.Sprintf("%d.parquet", len(cols)))
		w, err := sink.NewWriter(context.Background(), path, segmentTable(tb), sink.Options{})
		if err != nil {
			t.Fatal(err)
		}
		row := []any{"crm", "contacts", "1"}
		for _, c := range cols[3:] {
			row = append(row, value(c, 1))
		}
		if err := w.Write(append(row, false)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	keys := []model.Column{col("source", model.String, true), col("stream", model.String, true), col("record_key", model.String, true)}

	old := write(append(keys, col("email", model.String, false), col("retired", model.Integer, false))...)
	var got [][]any
	if err := scanLatest(context.Background(), []string{old}, 1, customerRecord, func(r []any) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || get(customerRecord, got[0], "email") != value(col("email", model.String, false), 1) ||
		get(customerRecord, got[0], "phone") != nil || len(got[0]) != len(customerRecord.Columns) {
		t.Errorf("old segment reads as %v", got)
	}

	changed := write(append(keys, col("email", model.Integer, false))...)
	err := scanLatest(context.Background(), []string{changed}, 1, customerRecord, func([]any) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "column email is not a string") {
		t.Errorf("segment with a changed column type: %v", err)
	}
}
