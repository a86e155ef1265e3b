package pipeline

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// previous answers like a map of the same links, whether or not the
// snapshot's rows were in (source, stream, record_key) order.
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
	for _, shuffled := range []bool{false, true} {
		order := append([]identity.RecordRef(nil), refs...)
		if shuffled {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		} else {
			slices.SortFunc(order, identity.CompareRefs)
		}
		p := &previous{rows: rowset.New(tb), src: col(tb, "source"), stream: col(tb, "stream"), key: col(tb, "record_key"), cust: col(tb, "customer_id")}
		for _, r := range order {
			row := make([]any, len(tb.Columns))
			row[p.src], row[p.stream], row[p.key], row[p.cust] = r.Source, r.Stream, r.Key, want[r]
			if err := p.rows.Append(row); err != nil {
				t.Fatal(err)
			}
		}
		p.sort()
		if (p.order != nil) != shuffled {
			t.Errorf("shuffled=%v: sorted a copy = %v", shuffled, p.order != nil)
		}
		if p.Len() != len(want) {
			t.Fatalf("Len = %d, want %d", p.Len(), len(want))
		}
		for r, id := range want {
			if got := p.Lookup(r); got != id {
				t.Fatalf("shuffled=%v: Lookup(%v) = %q, want %q", shuffled, r, got, id)
			}
		}
		// In record order, as identity asks, with unknown records between.
		sorted := slices.SortedFunc(maps.Keys(want), identity.CompareRefs)
		for _, r := range sorted {
			before := identity.RecordRef{Source: r.Source, Stream: r.Stream, Key: r.Key[:len(r.Key)-1] + "!"}
			if _, known := want[before]; !known {
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
		counts := map[string]int{}
		p.Each(func(id string) { counts[id]++ })
		wantCounts := map[string]int{}
		want.Each(func(id string) { wantCounts[id]++ })
		if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
			t.Errorf("Each gave %v, want %v", counts, wantCounts)
		}
	}
}
