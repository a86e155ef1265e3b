package rowset

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
)

// every is a table with a column of each type, scalar and list.
var every = &model.Table{Name: "every", Columns: []model.Column{
	{Name: "s", Type: model.String},
	{Name: "i", Type: model.Integer},
	{Name: "n", Type: model.Number},
	{Name: "b", Type: model.Boolean},
	{Name: "ts", Type: model.Timestamp},
	{Name: "d", Type: model.Date},
	{Name: "ls", Type: model.String, List: true},
	{Name: "li", Type: model.Integer, List: true},
	{Name: "ln", Type: model.Number, List: true},
	{Name: "lb", Type: model.Boolean, List: true},
	{Name: "lts", Type: model.Timestamp, List: true},
	{Name: "ld", Type: model.Date, List: true},
}}

func randomValue(r *rand.Rand, c model.Column) any {
	if r.IntN(3) == 0 {
		return nil
	}
	one := func() any {
		switch c.Type {
		case model.String:
			return strings.Repeat("äx", r.IntN(20))
		case model.Integer:
			return r.Int64() - r.Int64()
		case model.Number:
			return r.NormFloat64() * 1e6
		case model.Boolean:
			return r.IntN(2) == 1
		case model.Timestamp:
			return time.UnixMicro(r.Int64N(4e15) - 1e15).UTC()
		default:
			return time.Unix((r.Int64N(80000)-20000)*86400, 0).UTC()
		}
	}
	if !c.List {
		return one()
	}
	n := r.IntN(4)
	switch c.Type {
	case model.String:
		return listOf[string](n, one)
	case model.Integer:
		return listOf[int64](n, one)
	case model.Number:
		return listOf[float64](n, one)
	case model.Boolean:
		return listOf[bool](n, one)
	default:
		return listOf[time.Time](n, one)
	}
}

func listOf[T any](n int, one func() any) []T {
	out := make([]T, n) // empty, not nil, when n is 0: both must survive
	for i := range out {
		out[i] = one().(T)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	var want [][]any
	s := randomSet(t, rand.New(rand.NewPCG(1, 2)), 5000, func(row []any) { want = append(want, row) })
	if s.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(want))
	}
	var got []any
	for i, w := range want {
		got = s.Row(i, got)
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("row %d:\n got %#v\nwant %#v", i, got, w)
		}
		if str, _ := w[0].(string); s.String(i, 0) != str {
			t.Fatalf("String(%d, 0) = %q, want %q", i, s.String(i, 0), str)
		}
		tm, ok := s.Time(i, 4)
		if wt, wok := w[4].(time.Time); ok != wok || !tm.Equal(wt) {
			t.Fatalf("Time(%d, 4) = %v %v, want %v %v", i, tm, ok, wt, wok)
		}
	}
}

// A column null for its first rows gets storage only at its first value;
// the rows before stay null, list rows before stay nil.
func TestLateColumn(t *testing.T) {
	s := New(every)
	empty := make([]any, len(every.Columns))
	for range 100 {
		if err := s.Append(empty); err != nil {
			t.Fatal(err)
		}
	}
	if s.cols[0].vals != nil || s.cols[6].ends != nil {
		t.Fatal("an all-null column allocated storage")
	}
	late := make([]any, len(every.Columns))
	late[0], late[6] = "x", []string{"a", "b"}
	if err := s.Append(late); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if v := s.Value(i, 0); v != nil {
			t.Fatalf("row %d: s = %#v, want nil", i, v)
		}
		if v := s.Value(i, 6); v != nil {
			t.Fatalf("row %d: ls = %#v, want nil", i, v)
		}
	}
	if got := s.Row(100, nil); got[0] != "x" || !reflect.DeepEqual(got[6], []string{"a", "b"}) {
		t.Fatalf("row 100 = %#v", got)
	}
}

// A row with a value of the wrong type is refused whole: the set is as
// before, and the next row lands in its place.
func TestWrongTypeRollsBack(t *testing.T) {
	s := New(every)
	good := make([]any, len(every.Columns))
	good[0], good[6], good[1] = "a", []string{"x"}, int64(1)
	if err := s.Append(good); err != nil {
		t.Fatal(err)
	}
	bad := make([]any, len(every.Columns))
	bad[0], bad[6], bad[7] = "b", []string{"y", "z"}, []string{"not ints"}
	err := s.Append(bad)
	if err == nil || !strings.Contains(err.Error(), "column li") {
		t.Fatalf("err = %v, want one naming column li", err)
	}
	bad2 := make([]any, len(every.Columns))
	bad2[1] = "not an int"
	if err := s.Append(bad2); err == nil {
		t.Fatal("a string in an integer column was accepted")
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d after refused rows, want 1", s.Len())
	}
	next := make([]any, len(every.Columns))
	next[6] = []string{"n"}
	if err := s.Append(next); err != nil {
		t.Fatal(err)
	}
	if got := s.Row(0, nil); !reflect.DeepEqual(got, good) {
		t.Fatalf("row 0 = %#v, want %#v", got, good)
	}
	want := make([]any, len(every.Columns))
	want[6] = []string{"n"}
	if got := s.Row(1, nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("row 1 = %#v, want %#v", got, want)
	}
}

func TestLongStrings(t *testing.T) {
	s := New(every)
	const chunk = 1 << 20                 // core/arena's chunk size
	long := strings.Repeat("z", chunk+10) // longer than a chunk
	near := strings.Repeat("y", chunk-5)  // fills most of a chunk
	for _, v := range []string{"a", near, long, "b", near, ""} {
		row := make([]any, len(every.Columns))
		row[0] = v
		if err := s.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []string{"a", near, long, "b", near, ""} {
		if got := s.String(i, 0); got != want {
			t.Fatalf("row %d: got %d bytes, want %d", i, len(got), len(want))
		}
	}
}

func BenchmarkAppendRow(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([][]any, 1024)
	for i := range rows {
		rows[i] = make([]any, len(every.Columns))
		for j, c := range every.Columns {
			rows[i][j] = randomValue(r, c)
		}
	}
	s := New(every)
	var dst []any
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.Append(rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
		dst = s.Row(i, dst)
	}
	b.ReportMetric(float64(s.Bytes())/float64(s.Len()), "bytes/row")
}

// A value equal to the one before it in its column is stored once, by
// Append and by PutString alike; other values are unaffected.
func TestRepeatedStringsShareText(t *testing.T) {
	s := New(every)
	long := strings.Repeat("EUR", 100)
	row := make([]any, len(every.Columns))
	for i := range 1000 {
		row[0] = long
		if i%100 == 99 {
			row[0] = "other"
		}
		if err := s.Append(row); err != nil {
			t.Fatal(err)
		}
	}
	first := s.Extend(1000)
	for i := range 1000 {
		s.PutString(first+i, 0, []byte(long))
	}
	for i := range 2000 {
		want := long
		if i < 1000 && i%100 == 99 {
			want = "other"
		}
		if got := s.String(i, 0); got != want {
			t.Fatalf("row %d = %q, want %q", i, got, want)
		}
	}
	// 11 runs of long and 10 of "other", not 2000 copies.
	if used := s.text.Len(); used > int64(21*len(long)) {
		t.Errorf("the arena holds %d bytes for 21 runs of a %d-byte value", used, len(long))
	}
}

// A column keeps one value while all its values are equal, and every
// value survives its switch to a word a row, whenever the second value
// comes: by Append, or column-wise in any row order.
func TestConstantColumns(t *testing.T) {
	for _, second := range []int{-1, 0, 1, 63, 64, 700, 999} { // -1: never
		for _, columnWise := range []bool{false, true} {
			s := New(every)
			want := make([][]any, 1000)
			for i := range want {
				want[i] = make([]any, len(every.Columns))
				if i%7 != 3 { // some nulls
					want[i][0], want[i][1], want[i][4] = "EUR", int64(42), time.UnixMicro(1700000000123456).UTC()
				}
				if i == second {
					want[i][0], want[i][1], want[i][4] = "USD", int64(-1), time.UnixMicro(0).UTC()
				}
			}
			if columnWise {
				first := s.Extend(len(want))
				for i := len(want) - 1; i >= 0; i-- { // descending: the order must not matter
					if v, ok := want[i][0].(string); ok {
						s.PutString(first+i, 0, []byte(v))
						s.PutWord(first+i, 1, uint64(want[i][1].(int64)))
						s.PutWord(first+i, 4, uint64(want[i][4].(time.Time).UnixMicro()))
					}
				}
			} else {
				for _, row := range want {
					if err := s.Append(row); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i, w := range want {
				if got := s.Row(i, nil); !reflect.DeepEqual(got, w) {
					t.Fatalf("second value at %d, column-wise %v: row %d = %v, want %v", second, columnWise, i, got, w)
				}
			}
			words := s.cols[0].vals != nil
			if words != (second >= 0) {
				t.Errorf("second value at %d: column s spends a word a row: %v", second, words)
			}
			if !words {
				// A constant column's value is boxed once, not per read.
				if n := testing.AllocsPerRun(100, func() { _ = s.Value(0, 0); _ = s.Value(0, 4) }); n != 0 {
					t.Errorf("reading a constant column allocates %v times", n)
				}
			}
		}
	}
}

// CopyRow copies every value, lists and text included, into a row being
// filled; PutText and AddText set strings without a []byte.
func TestCopyRowAndText(t *testing.T) {
	var want [][]any
	src := randomSet(t, rand.New(rand.NewPCG(3, 4)), 500, func(row []any) { want = append(want, row) })
	dst := New(every)
	for j := src.Len() - 1; j >= 0; j-- { // backwards: the rows land in another order
		dst.CopyRow(dst.Extend(1), src, j)
	}
	for i := range want {
		got := dst.Row(i, nil)
		if w := want[len(want)-1-i]; !reflect.DeepEqual(got, w) {
			t.Fatalf("copied row %d:\n got %#v\nwant %#v", i, got, w)
		}
	}

	s := New(every)
	i := s.Extend(1)
	s.PutText(i, 0, "plain")
	s.PutEmptyList(i, 6)
	s.AddText(i, 6, "a")
	s.AddText(i, 6, "ä")
	if got := s.Row(i, nil); got[0] != "plain" || !reflect.DeepEqual(got[6], []string{"a", "ä"}) {
		t.Errorf("PutText/AddText row: %#v", got)
	}
}
