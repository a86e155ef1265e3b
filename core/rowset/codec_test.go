package rowset

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// Rows encoded from one set and decoded into others, in any selection
// and order, come back value for value: scalars, lists (empty ones
// included), nulls, constant columns and long strings.
func TestEncodedRowsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := New(every)
	var want [][]any
	for i := range 3000 {
		row := make([]any, len(every.Columns))
		for j, c := range every.Columns {
			row[j] = randomValue(r, c)
		}
		row[1] = int64(7) // a constant column
		if i%500 == 0 {
			row[0] = strings.Repeat("long ", 1<<18) // kept outside the arena's chunks
		}
		if err := src.Append(row); err != nil {
			t.Fatal(err)
		}
		want = append(want, row)
	}
	// Every third row into one set, the rest into another, one of them
	// reserved and one growing as it goes.
	var bufs [2][]byte
	var which [2][]int
	for i := range src.Len() {
		k := min(i%3, 1)
		bufs[k] = src.AppendEncoded(bufs[k], i)
		which[k] = append(which[k], i)
	}
	for k := range 2 {
		dst := New(every)
		if k == 0 {
			dst.Reserve(len(which[0]))
		}
		b := bufs[k]
		for len(b) > 0 {
			n, err := dst.DecodeRow(b)
			if err != nil {
				t.Fatal(err)
			}
			b = b[n:]
		}
		if dst.Len() != len(which[k]) {
			t.Fatalf("set %d: %d rows, want %d", k, dst.Len(), len(which[k]))
		}
		var got []any
		for n, i := range which[k] {
			got = dst.Row(n, got)
			if !reflect.DeepEqual(got, want[i]) {
				t.Fatalf("set %d row %d (source row %d):\n got %#v\nwant %#v", k, n, i, got, want[i])
			}
		}
	}
}

// A cut or corrupt encoding is an error, never a panic, and leaves the
// set as it was.
func TestDecodeRowCutShort(t *testing.T) {
	src := randomSet(t, rand.New(rand.NewPCG(5, 6)), 50, func(row []any) { row[0] = "never null" })
	for i := range src.Len() {
		b := src.AppendEncoded(nil, i)
		for cut := range len(b) {
			dst := New(every)
			if _, err := dst.DecodeRow(b[:cut]); err == nil {
				t.Fatalf("row %d cut to %d of %d bytes: no error", i, cut, len(b))
			}
			if dst.Len() != 0 {
				t.Fatalf("row %d cut to %d bytes: the set has %d rows", i, cut, dst.Len())
			}
		}
	}
}

func FuzzDecodeRow(f *testing.F) {
	src := randomSet(f, rand.New(rand.NewPCG(7, 8)), 1, func([]any) {})
	f.Add(src.AppendEncoded(nil, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		dst := New(every)
		n, err := dst.DecodeRow(b)
		if err != nil {
			return
		}
		if n > len(b) || dst.Len() != 1 {
			t.Fatalf("read %d of %d bytes, %d rows", n, len(b), dst.Len())
		}
		// What decoded encodes to bytes that decode to the same row
		// (compared encoded: a Number may be NaN).
		enc := dst.AppendEncoded(nil, 0)
		again := New(every)
		if _, err := again.DecodeRow(enc); err != nil {
			t.Fatal(err)
		}
		if got := again.AppendEncoded(nil, 0); string(got) != string(enc) {
			t.Fatalf("decoded again %x, encoded %x", got, enc)
		}
	})
}

// BenchmarkEncodedRows encodes rows of every column type (a third of
// them null) and decodes them into a reserved set, as a build's spill
// and group load do.
func BenchmarkEncodedRows(b *testing.B) {
	src := randomSet(b, rand.New(rand.NewPCG(9, 10)), 10000, func([]any) {})
	var buf []byte
	var ends []int
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		buf, ends = buf[:0], ends[:0]
		for i := range src.Len() {
			buf = src.AppendEncoded(buf, i)
			ends = append(ends, len(buf))
		}
		dst := New(every)
		dst.Reserve(src.Len())
		at := 0
		for _, end := range ends {
			if _, err := dst.DecodeRow(buf[at:end]); err != nil {
				b.Fatal(err)
			}
			at = end
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*src.Len()), "ns/row")
	b.ReportMetric(float64(len(buf))/float64(src.Len()), "bytes/row")
}

// randomSet is a set of n random rows of every column type, each changed
// by edit before it is appended.
func randomSet(t testing.TB, r *rand.Rand, n int, edit func(row []any)) *Set {
	t.Helper()
	s := New(every)
	for range n {
		row := make([]any, len(every.Columns))
		for j, c := range every.Columns {
			row[j] = randomValue(r, c)
		}
		edit(row)
		if err := s.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	return s
}
