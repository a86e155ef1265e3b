package profile

import (
	"testing"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
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

// row builds a row of table from its values by name; source, stream and
// record_key come from id "source/stream/key".
func row(t testing.TB, table, source, stream, key string, f fields) []any {
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

func cust(t testing.TB, source, key string, f fields) []any {
	return row(t, "customer_record", source, "contacts", key, f)
}

func order(t testing.TB, key string, f fields) []any {
	return row(t, "order", "shop", "orders", key, f)
}

func ticket(t testing.TB, key string, f fields) []any {
	return row(t, "ticket", "desk", "tickets", key, f)
}

func message(t testing.TB, key string, f fields) []any {
	return row(t, "message", "mail", "inbox", key, f)
}

func event(t testing.TB, source, key string, f fields) []any {
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
	out := make([]any, len(model.MustLoad("customer").Columns))
	if err := b.Profile(r, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// journey returns copies of the journey rows of r.
func journey(t testing.TB, b *Builder, r *Records) [][]any {
	t.Helper()
	var rows [][]any
	err := b.Journey(r, func(row []any) error {
		rows = append(rows, append([]any(nil), row...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
