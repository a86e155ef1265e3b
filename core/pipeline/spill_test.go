package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// spilledBuilder spills n rows of two staged sets, orders and tickets,
// whose record_key is the record's index, and returns the builder with
// the records in a random customer order cut into jobs of about chunk
// records.
func spilledBuilder(t *testing.T, n, chunk int) (*builder, []*profileJob, []int32) {
	t.Helper()
	b := &builder{spill: &spill{dir: t.TempDir()}}
	for _, entity := range []string{"order", "ticket"} {
		b.sets = append(b.sets, stagedSet{table: model.MustLoad(entity), entity: entity})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Records are spilled set by set, in chunks, as the staging read does.
	for s := range b.sets {
		tb := b.sets[s].table
		rows := rowset.New(tb)
		first := len(b.records)
		for range n / 2 {
			row := make([]any, len(tb.Columns))
			row[col(tb, "source")], row[col(tb, "stream")] = "src", b.sets[s].entity
			row[col(tb, "record_key")] = fmt.Sprint(len(b.records))
			if err := rows.Append(row); err != nil {
				t.Fatal(err)
			}
			b.records = append(b.records, staged{set: int32(s)})
			if rows.Len() == 37 {
				if err := b.spill.write(rows, first); err != nil {
					t.Fatal(err)
				}
				rows, first = rowset.New(tb), len(b.records)
			}
		}
		if err := b.spill.write(rows, first); err != nil {
			t.Fatal(err)
		}
	}
	order := make([]int32, len(b.records))
	for i := range order {
		order[i] = int32(i)
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	// Customers of one to four records.
	var ids []string
	start := []int{0}
	for at := 0; at < len(order); {
		at = min(len(order), at+1+rng.IntN(4))
		ids = append(ids, fmt.Sprintf("c_%06d", len(ids)))
		start = append(start, at)
	}
	defer func(c int) { profileChunk = c }(profileChunk)
	profileChunk = chunk
	return b, chunks(ids, order, start), order
}

// A loaded group holds its records' rows in customer order: each set's
// rows are met front to back when the group's records are read in that
// order, and each is its record's row.
func TestGroupsLoadInCustomerOrder(t *testing.T) {
	defer func(g int) { groupRecords = g }(groupRecords)
	groupRecords = 150
	b, jobs, order := spilledBuilder(t, 1000, 40)
	ctx := context.Background()
	gs, err := b.groups(ctx, jobs, order)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) < 5 {
		t.Fatalf("%d groups, want several", len(gs))
	}
	key := col(b.sets[0].table, "record_key")
	var buf loadBuf
	for _, only := range []map[string]bool{nil, {"order": true}} {
		seen := 0
		for k, g := range gs {
			if err := b.load(ctx, g, only, &buf); err != nil {
				t.Fatal(err)
			}
			next := make([]int32, len(b.sets)) // each set's next row
			for _, j := range g.jobs {
				for x, i := range j.order {
					r := g.rows[j.first+x]
					if want := b.records[i].set; only != nil && !only[b.sets[want].entity] {
						if r.set != -1 {
							t.Fatalf("group %d: record %d of an unloaded set has row %+v", k, i, r)
						}
						continue
					} else if r.set != want {
						t.Fatalf("group %d: record %d in set %d, want %d", k, i, r.set, want)
					}
					if r.row != next[r.set] {
						t.Fatalf("group %d: record %d at row %d of its set, want %d (customer order)", k, i, r.row, next[r.set])
					}
					next[r.set]++
					if got := g.sets[r.set].String(int(r.row), key); got != fmt.Sprint(i) {
						t.Fatalf("group %d: record %d has the row of record %s", k, i, got)
					}
					seen++
				}
			}
			g.release()
		}
		want := len(b.records)
		if only != nil {
			want /= 2
		}
		if seen != want {
			t.Errorf("only %v: %d records loaded, want %d", only, seen, want)
		}
	}
}

// A damaged group file fails the load with an error that says so.
func TestDamagedGroupFileFailsTheLoad(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(w *rowWriter) error
		want  string
	}{
		{"position twice", func(w *rowWriter) error {
			for range 2 {
				if err := errorsOf(w.uvarint(0), w.uvarint(0), w.row([]byte{0})); err != nil {
					return err
				}
			}
			return nil
		}, "damaged row position"},
		{"position out of range", func(w *rowWriter) error {
			return errorsOf(w.uvarint(1<<30), w.uvarint(0), w.row([]byte{0}))
		}, "damaged row position"},
		{"unknown set", func(w *rowWriter) error {
			return errorsOf(w.uvarint(0), w.uvarint(9), w.row([]byte{0}))
		}, "damaged staged set"},
		{"cut short", func(w *rowWriter) error {
			return errorsOf(w.uvarint(0), w.uvarint(0), w.uvarint(40))
		}, "unexpected EOF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func(g int) { groupRecords = g }(groupRecords)
			groupRecords = 1 << 20
			b, jobs, order := spilledBuilder(t, 100, 1<<20)
			gs, err := b.groups(context.Background(), jobs, order)
			if err != nil {
				t.Fatal(err)
			}
			path := gs[0].files[0].path
			w, err := createRows(path, 64<<10)
			if err != nil {
				t.Fatal(err)
			}
			if err := errorsOf(c.write(w), w.close()); err != nil {
				t.Fatal(err)
			}
			err = b.load(context.Background(), gs[0], nil, &loadBuf{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("load: %v, want an error with %q", err, c.want)
			}
		})
	}
}

// A group whose files miss rows fails the load.
func TestGroupMissingRowsFailsTheLoad(t *testing.T) {
	b, jobs, order := spilledBuilder(t, 100, 1<<20)
	gs, err := b.groups(context.Background(), jobs, order)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gs[0].files[0].path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = b.load(context.Background(), gs[0], nil, &loadBuf{})
	if err == nil || !strings.Contains(err.Error(), "rows of staged set") {
		t.Fatalf("load: %v, want an error counting the rows", err)
	}
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
