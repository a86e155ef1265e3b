package pipeline

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/parquet"
)

// The previous links answer like a map of the same links, streamed when
// the snapshot's rows are in (source, stream, record_key) order, held and
// sorted when they are not; lookups in any order are right either way.
// Streamed, Each reads the ids from the snapshot's customer table when
// it has one.
func TestPreviousLookup(t *testing.T) {
	tb := model.MustLoad("identity_link")
	rng := rand.New(rand.NewPCG(3, 4))
	var refs []identity.RecordRef
	want := identity.PreviousMap{}
	for _, src := range []string{"crm", "shop"} {
		for _, st := range []string{"contacts", "orders"} {
			for k := range 200 {
				r := identity.RecordRef{Source: src, Stream: st, Key: fmt.Sprint(k)} // "10" < "2": string order
				refs = append(refs, r)
				want[r] = fmt.Sprintf("c_%d", rng.IntN(50))
			}
		}
	}
	for _, v := range []struct{ shuffled, customers bool }{{false, false}, {true, false}, {false, true}} {
		shuffled := v.shuffled
		order := append([]identity.RecordRef(nil), refs...)
		if shuffled {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		} else {
			slices.SortFunc(order, identity.CompareRefs)
		}
		// A snapshot whose identity_link file holds the links in this
		// order, in row groups of a few rows.
		out := t.TempDir()
		snap, err := parquet.Begin(context.Background(), out, "previous")
		if err != nil {
			t.Fatal(err)
		}
		snap.Options.RowGroupRows = 7
		w, err := snap.Table("identity_link")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range order {
			row := make([]any, len(tb.Columns))
			row[col(tb, "source")], row[col(tb, "stream")], row[col(tb, "record_key")] = r.Source, r.Stream, r.Key
			row[col(tb, "customer_id")], row[col(tb, "entity")], row[col(tb, "rule")] = want[r], "customer", RuleAnchor
			if err := w.Write(row); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if v.customers {
			w, err := snap.Table("customer")
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			want.Each(func(id string) { ids[id] = true })
			for _, id := range slices.Sorted(maps.Keys(ids)) {
				w.SetString(col(customerTable, "customer_id"), id)
				for i, c := range customerTable.Columns { // the other required columns, zero
					switch {
					case !c.Required || c.Name == "customer_id":
					case c.List:
						w.SetStrings(i, []string{})
					case c.Type == model.Timestamp:
						w.SetTime(i, time.Unix(0, 0))
					case c.Type == model.Integer:
						w.SetInt(i, 0)
					case c.Type == model.Number:
						w.SetFloat(i, 0)
					}
				}
				if err := w.EndRow(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := snap.Commit(parquet.Manifest{RunID: "previous"}); err != nil {
			t.Fatal(err)
		}
		ps, err := readPrevious(out)
		if err != nil {
			t.Fatal(err)
		}
		p, err := previousAssignments(context.Background(), ps)
		if err != nil {
			t.Fatal(err)
		}
		// The links are not read before the first lookup; then those in
		// order are streamed, others held and sorted.
		sp := p.(*streamed)
		if sp.checked || sp.held != nil {
			t.Errorf("shuffled=%v: links read before any lookup", shuffled)
		}
		if p.Len() != len(want) {
			t.Fatalf("Len = %d, want %d", p.Len(), len(want))
		}
		// In no order (a streamed lookup before the last one starts over,
		// so a sample).
		n := 0
		for r, id := range want {
			if got := p.Lookup(r); got != id {
				t.Fatalf("shuffled=%v: Lookup(%v) = %q, want %q", shuffled, r, got, id)
			}
			if n++; n == 40 {
				break
			}
		}
		if held := sp.held != nil; held != shuffled {
			t.Errorf("shuffled=%v: links held after lookups: %v", shuffled, held)
		}
		// In record order, as identity asks, with unknown records between.
		sorted := slices.SortedFunc(maps.Keys(want), identity.CompareRefs)
		for k, r := range sorted {
			before := identity.RecordRef{Source: r.Source, Stream: r.Stream, Key: r.Key[:len(r.Key)-1] + "!"}
			inOrder := k == 0 || identity.CompareRefs(sorted[k-1], before) < 0
			if _, known := want[before]; !known && inOrder {
				if got := p.Lookup(before); got != "" {
					t.Fatalf("shuffled=%v: Lookup(%v) of an unknown record = %q", shuffled, before, got)
				}
			}
			if got := p.Lookup(r); got != want[r] {
				t.Fatalf("shuffled=%v: in order, Lookup(%v) = %q, want %q", shuffled, r, got, want[r])
			}
		}
		for _, r := range []identity.RecordRef{{Source: "crm", Stream: "contacts", Key: "x"}, {Source: "zz", Stream: "a", Key: "1"}, {}} {
			if got := p.Lookup(r); got != "" {
				t.Errorf("Lookup(%v) of an unknown record = %q", r, got)
			}
		}
		// Each gives every id once a link, or once a customer.
		counts := map[string]int{}
		p.Each(func(id string) { counts[id]++ })
		wantCounts := map[string]int{}
		want.Each(func(id string) {
			if wantCounts[id] == 0 || !v.customers {
				wantCounts[id]++
			}
		})
		if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
			t.Errorf("customers=%v: Each gave %v, want %v", v.customers, counts, wantCounts)
		}
	}
}

// The cursor reads ahead on a goroutine of its own: closing it early
// stops that goroutine, a file it cannot read is an error from next, and
// the rows before the error are still read.
func TestLinkCursorReadsAhead(t *testing.T) {
	tb := model.MustLoad("identity_link")
	dir := t.TempDir()
	write := func(name string, n int) string {
		path := dir + "/" + name
		w, err := parquet.NewWriter(context.Background(), path, tb, parquet.Options{RowGroupRows: 3})
		if err != nil {
			t.Fatal(err)
		}
		for k := range n {
			w.SetString(col(tb, "source"), "crm")
			w.SetString(col(tb, "stream"), "contacts")
			w.SetString(col(tb, "record_key"), fmt.Sprint(k))
			w.SetString(col(tb, "customer_id"), fmt.Sprintf("c_%d", k))
			w.SetString(col(tb, "entity"), "customer")
			w.SetString(col(tb, "rule"), RuleAnchor)
			if err := w.EndRow(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.parquet", 10)
	read := func(c *linkCursor) (keys []string, err error) {
		for {
			ok, err := c.next()
			if err != nil || !ok {
				return keys, err
			}
			keys = append(keys, c.ref().Key)
		}
	}

	c := newCursor(context.Background(), []string{good, good}, tb, "source", "stream", "record_key", "customer_id")
	keys, err := read(c)
	c.close()
	if err != nil || len(keys) != 20 || keys[9] != "9" || keys[10] != "0" {
		t.Fatalf("two files: %v, %v", keys, err)
	}

	// Closed after one row: the reader, blocked on a full channel, stops.
	c = newCursor(context.Background(), []string{good}, tb, "record_key")
	if ok, err := c.next(); !ok || err != nil {
		t.Fatalf("first row: %v, %v", ok, err)
	}
	c.close()
	c.close() // twice is fine
	if _, open := <-c.ahead; open {
		t.Error("the reader still sends after close")
	}

	missing := dir + "/missing.parquet"
	c = newCursor(context.Background(), []string{good, missing}, tb, "record_key")
	keys, err = read(c)
	c.close()
	if err == nil || len(keys) != 10 {
		t.Errorf("a missing second file: %d rows, error %v", len(keys), err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c = newCursor(ctx, []string{good}, tb, "record_key")
	keys, err = read(c)
	c.close()
	if err == nil {
		t.Errorf("a cancelled cursor ended without an error, after %d rows", len(keys))
	}
}
