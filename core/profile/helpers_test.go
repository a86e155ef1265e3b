package profile

import (
	"testing"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// asOf is the build time of every test.
var asOf = time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fields are a row's values by column name.
type fields map[string]any

// row builds a row of table from its values by name, in a set of its
// own.
func row(t testing.TB, table, source, stream, key string, f fields) Row {
	t.Helper()
	return rowOf(t, table, values(t, table, source, stream, key, f))
}

// rowOf puts the values of one row of table into a set of its own.
func rowOf(t testing.TB, table string, vals []any) Row {
	t.Helper()
	s := rowset.New(model.MustLoad(table))
	if err := s.Append(vals); err != nil {
		t.Fatal(err)
	}
	return Row{Set: s, I: 0}
}

// values is a row of table from its values by name.
func values(t testing.TB, table, source, stream, key string, f fields) []any {
	t.Helper()
	tb := model.MustLoad(table)
	r := make([]any, len(tb.Columns))
	set := func(name string, v any) {
		i, ok := tb.Index(name)
		if !ok {
			t.Fatalf("table %s has no column %q", table, name)
		}
		r[i] = v
	}
	set("source", source)
	set("stream", stream)
	set("record_key", key)
	for k, v := range f {
		set(k, v)
	}
	return r
}

func cust(t testing.TB, source, key string, f fields) Row {
	return row(t, "customer_record", source, "contacts", key, f)
}

func order(t testing.TB, key string, f fields) Row {
	return row(t, "order", "shop", "orders", key, f)
}

func ticket(t testing.TB, key string, f fields) Row {
	return row(t, "ticket", "desk", "tickets", key, f)
}

func message(t testing.TB, key string, f fields) Row {
	return row(t, "message", "mail", "inbox", key, f)
}

func event(t testing.TB, source, key string, f fields) Row {
	return row(t, "event", source, "events", key, f)
}

// get returns the named column of a row of table.
func get(t testing.TB, table string, r []any, name string) any {
	t.Helper()
	i, ok := model.MustLoad(table).Index(name)
	if !ok {
		t.Fatalf("table %s has no column %q", table, name)
	}
	return r[i]
}

func newBuilder(t testing.TB, s config.Survivorship) *Builder {
	t.Helper()
	b, err := New(Options{Survivorship: s, AsOf: asOf, DefaultRegion: "DE"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// build returns the customer row of r.
func build(t testing.TB, b *Builder, r *Records) []any {
	t.Helper()
	out := rowset.New(model.MustLoad("customer"))
	if err := b.Profile(r, out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 1 {
		t.Fatalf("Profile added %d rows, want 1", out.Len())
	}
	return out.Row(0, nil)
}

// journey returns the journey rows of r.
func journey(t testing.TB, b *Builder, r *Records) [][]any {
	t.Helper()
	out := rowset.New(model.MustLoad("event"))
	if err := b.Journey(r, out); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, out.Len())
	for i := range rows {
		rows[i] = out.Row(i, nil)
	}
	return rows
}
