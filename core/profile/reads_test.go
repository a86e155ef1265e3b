package profile

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
)

// dense fills every null value of the rows with a value of its column's
// type, so that a column the builder reads without declaring it shows.
func dense(t *model.Table, rows [][]any) {
	for n, row := range rows {
		for i, c := range t.Columns {
			if row[i] != nil {
				continue
			}
			var v any
			switch c.Type {
			case model.String:
				v = fmt.Sprintf("%s-%d", c.Name, n)
			case model.Integer:
				v = int64(n + 7)
			case model.Number:
				v = float64(n) + 0.5
			case model.Boolean:
				v = n%2 == 0
			default:
				v = time.Date(2024, 1, 1+n, 0, 0, 0, 0, time.UTC)
			}
			if c.List {
				switch x := v.(type) {
				case string:
					v = []string{x}
				case int64:
					v = []int64{x}
				case float64:
					v = []float64{x}
				case bool:
					v = []bool{x}
				case time.Time:
					v = []time.Time{x}
				}
			}
			row[i] = v
		}
	}
}

// masked copies the rows keeping only the columns in keep.
func masked(rows [][]any, keep []int) [][]any {
	out := make([][]any, len(rows))
	for n, row := range rows {
		out[n] = make([]any, len(row))
		for _, i := range keep {
			out[n][i] = row[i]
		}
	}
	return out
}

// Profile and Journey give the same results from rows that hold only the
// columns Reads lists as from whole rows: the build materializes only
// those.
func TestReadsIsEnough(t *testing.T) {
	b := newBuilder(t, config.Survivorship{})
	full := rich(t)
	tables := []struct {
		name string
		rows *[][]any
	}{{"customer_record", &full.Customers}, {"order", &full.Orders}, {"ticket", &full.Tickets}, {"message", &full.Messages}, {"event", &full.Events}}
	part := &Records{CustomerID: full.CustomerID}
	partRows := []*[][]any{&part.Customers, &part.Orders, &part.Tickets, &part.Messages, &part.Events}
	for i, tb := range tables {
		mt := model.MustLoad(tb.name)
		dense(mt, *tb.rows)
		reads := b.Reads(tb.name)
		if len(reads) == 0 || len(reads) > len(mt.Columns) || !slices.IsSorted(reads) {
			t.Fatalf("Reads(%s) = %v, want a sorted subset of its %d columns", tb.name, reads, len(mt.Columns))
		}
		*partRows[i] = masked(*tb.rows, reads)
	}
	if got, want := build(t, b, part), build(t, b, full); !reflect.DeepEqual(got, want) {
		t.Errorf("profile from the read columns only:\n got %#v\nwant %#v", got, want)
	}
	if got, want := journey(t, b, part), journey(t, b, full); !reflect.DeepEqual(got, want) {
		t.Errorf("journey from the read columns only:\n got %#v\nwant %#v", got, want)
	}
}
