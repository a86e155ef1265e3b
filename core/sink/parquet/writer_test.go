package parquet

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
)

// allTables are the model tables: published and staged.
func allTables() []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range model.Outputs {
		if !seen[n] {
			seen[n], out = true, append(out, n)
		}
	}
	for _, n := range []string{"customer_record", "order", "ticket", "message", "event"} {
		if !seen[n] {
			seen[n], out = true, append(out, n)
		}
	}
	return out
}

var strs = []string{"", "Ada", "Ünïcødé ✓", "a\x00b", strings.Repeat("x", 300), "crm/contacts/17"}

// sampleRow makes row i of a table: nulls in optional columns, empty and
// null lists, extreme numbers, timestamps and dates before and after 1970.
func sampleRow(tb *model.Table, i int) []any {
	row := make([]any, len(tb.Columns))
	for j, c := range tb.Columns {
		k := i + j
		if !c.Required && k%4 == 0 {
			continue // nil
		}
		if c.List {
			row[j] = sampleList(c.Type, k%4, k)
			continue
		}
		row[j] = sampleValue(c.Type, k)
	}
	return row
}

func sampleValue(t model.Type, k int) any {
	switch t {
	case model.String:
		return strs[k%len(strs)]
	case model.Integer:
		return []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 42}[k%6]
	case model.Number:
		return []float64{0, 12.5, -3.25, math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-9}[k%6]
	case model.Boolean:
		return k%2 == 0
	case model.Timestamp:
		base := time.Date(1965, 3, 1, 12, 30, 15, 123456000, time.UTC)
		k %= 1000 // spans 1965 to 2230 with no overflow
		return base.Add(time.Duration(k) * 97 * 24 * time.Hour).Add(time.Duration(k) * time.Microsecond)
	case model.Date:
		return time.Date(1960+k%80, time.Month(1+k%12), 1+k%28, 0, 0, 0, 0, time.UTC)
	}
	panic(t)
}

func sampleList(t model.Type, n, k int) any {
	switch t {
	case model.String:
		l := []string{}
		for x := 0; x < n; x++ {
			l = append(l, strs[(k+x)%len(strs)])
		}
		return l
	case model.Integer:
		l := []int64{}
		for x := 0; x < n; x++ {
			l = append(l, sampleValue(t, k+x).(int64))
		}
		return l
	case model.Number:
		l := []float64{}
		for x := 0; x < n; x++ {
			l = append(l, sampleValue(t, k+x).(float64))
		}
		return l
	case model.Boolean:
		l := []bool{}
		for x := 0; x < n; x++ {
			l = append(l, sampleValue(t, k+x).(bool))
		}
		return l
	}
	l := []time.Time{}
	for x := 0; x < n; x++ {
		l = append(l, sampleValue(t, k+x).(time.Time))
	}
	return l
}

// writeFile writes rows and closes; it fails the test on any error.
func writeFile(t *testing.T, path string, tb *model.Table, opts Options, rows [][]any) {
	t.Helper()
	w, err := NewWriter(context.Background(), path, tb, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != int64(len(rows)) {
		t.Errorf("Rows() = %d, want %d", w.Rows(), len(rows))
	}
}

func compareRows(t *testing.T, tb *model.Table, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: read %d rows, wrote %d", tb.Name, len(got), len(want))
	}
	for i := range want {
		for j, c := range tb.Columns {
			if !reflect.DeepEqual(got[i][j], want[i][j]) {
				t.Errorf("%s row %d column %s: read %#v, wrote %#v", tb.Name, i, c.Name, got[i][j], want[i][j])
			}
		}
	}
}

// wantNulls counts, per row group, the leaf entries without a value.
func wantNulls(tb *model.Table, rows [][]any, groupRows int) [][]int64 {
	var out [][]int64
	for start := 0; start < len(rows); start += groupRows {
		counts := make([]int64, len(tb.Columns))
		for _, r := range rows[start:min(start+groupRows, len(rows))] {
			for j, v := range r {
				if v == nil || (tb.Columns[j].List && reflect.ValueOf(v).Len() == 0) {
					counts[j]++
				}
			}
		}
		out = append(out, counts)
	}
	return out
}

func TestRoundTripEveryTable(t *testing.T) {
	for _, name := range allTables() {
		for _, codec := range []Compression{Snappy, Zstd, Uncompressed} {
			t.Run(name+"/"+string(codec), func(t *testing.T) {
				tb := model.MustLoad(name)
				rows := make([][]any, 50)
				for i := range rows {
					rows[i] = sampleRow(tb, i)
				}
				path := filepath.Join(t.TempDir(), name+".parquet")
				opts := Options{RowGroupRows: 7, Compression: codec}
				writeFile(t, path, tb, opts, rows)
				compareRows(t, tb, readBack(t, path, tb), rows)
				if got, want := nullCounts(t, path), wantNulls(tb, rows, 7); !reflect.DeepEqual(got, want) {
					t.Errorf("null counts per row group\n got %v\nwant %v", got, want)
				}
			})
		}
	}
}

// Lists of every scalar type, through a test-only schema (listTypes).
func TestRoundTripListTypes(t *testing.T) {
	tb := listTypes(t)
	rows := make([][]any, 40)
	for i := range rows {
		rows[i] = sampleRow(tb, i)
	}
	path := filepath.Join(t.TempDir(), "lists.parquet")
	writeFile(t, path, tb, Options{RowGroupRows: 16}, rows)
	compareRows(t, tb, readBack(t, path, tb), rows)
}

func TestEmptyFile(t *testing.T) {
	tb := model.MustLoad("customer")
	path := filepath.Join(t.TempDir(), "customer.parquet")
	writeFile(t, path, tb, Options{}, nil)
	if got := readBack(t, path, tb); len(got) != 0 {
		t.Errorf("read %d rows from an empty file", len(got))
	}
}

// Timestamps keep microseconds and their instant, whatever the location.
func TestTimestampNormalization(t *testing.T) {
	tb, err := model.FromSchema("ts", []byte(`{"properties": {"t": {"type": "string", "format": "date-time"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	berlin := time.FixedZone("CEST", 2*3600)
	in := time.Date(2024, 5, 1, 12, 0, 0, 123456789, berlin)
	path := filepath.Join(t.TempDir(), "ts.parquet")
	writeFile(t, path, tb, Options{}, [][]any{{in}})
	got := readBack(t, path, tb)[0][0].(time.Time)
	if want := time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("read %v, want %v", got, want)
	}
}

func TestWriteErrors(t *testing.T) {
	tb := model.MustLoad("merge") // absorbed_id, surviving_id, run_id, merged_at, reason: all required
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	good := []any{"c2", "c1", "r1", at, "email"}
	dateTable, err := model.FromSchema("d", []byte(`{"properties": {"d": {"type": "string", "format": "date"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		tb   *model.Table
		row  []any
		want string
	}{
		{"too few values", tb, good[:4], "4 values for 5 columns"},
		{"required nil", tb, []any{"c2", nil, "r1", at, "email"}, "surviving_id is required"},
		{"int for string", tb, []any{"c2", "c1", 7, at, "email"}, "run_id wants string, got int"},
		{"string for timestamp", tb, []any{"c2", "c1", "r1", "2024-05-01", "email"}, "merged_at wants time.Time"},
		{"date with a clock", dateTable, []any{at.Add(time.Hour)}, "not midnight UTC"},
		{"list for scalar", tb, []any{"c2", "c1", "r1", at, []string{"a"}}, "reason wants string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.parquet")
			w, err := NewWriter(context.Background(), path, c.tb, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c.tb == tb {
				if err := w.Write(good); err != nil {
					t.Fatal(err)
				}
			}
			err = w.Write(c.row)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Write error %v, want one containing %q", err, c.want)
			}
			if !strings.Contains(err.Error(), "row ") {
				t.Errorf("error %q does not name the row", err)
			}
			if err2 := w.Write(good); err2 == nil {
				t.Error("Write after a failed Write succeeded")
			}
			if cerr := w.Close(); cerr == nil {
				t.Error("Close after a failed Write succeeded")
			}
			assertEmptyDir(t, dir)
		})
	}
}

func TestCancelledWrite(t *testing.T) {
	tb := model.MustLoad("reject")
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	w, err := NewWriter(ctx, filepath.Join(dir, "reject.parquet"), tb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleRow(tb, 1)); err != nil {
		t.Fatal(err)
	}
	cancel()
	var werr error
	for i := 0; i < 2*ctxEvery && werr == nil; i++ {
		werr = w.Write(sampleRow(tb, 1))
	}
	if werr == nil || !strings.Contains(werr.Error(), context.Canceled.Error()) {
		t.Fatalf("Write after cancel: %v", werr)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after cancel succeeded")
	}
	assertEmptyDir(t, dir)
}

func TestBadCompression(t *testing.T) {
	_, err := NewWriter(context.Background(), filepath.Join(t.TempDir(), "x.parquet"), model.MustLoad("merge"), Options{Compression: "lzo"})
	if err == nil || !strings.Contains(err.Error(), `"lzo"`) {
		t.Errorf("error %v, want one naming the codec", err)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) > 0 {
		t.Errorf("%s holds %v after a failed write", dir, names)
	}
}

// Pages end by bytes (long strings) and by entries (long lists) within a
// row group, and row groups end mid-page: every row must survive.
func TestRoundTripManyPages(t *testing.T) {
	tb, err := model.FromSchema("pages", []byte(`{"type": "object", "required": ["s"], "properties": {
		"s": {"type": "string"},
		"l": {"type": "array", "items": {"type": "string"}},
		"n": {"type": ["integer", "null"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	const n = 1500
	rows := make([][]any, n)
	for i := range rows {
		l := make([]string, 100)
		for j := range l {
			l[j] = strs[(i+j)%len(strs)]
		}
		rows[i] = []any{strings.Repeat(string(rune('a'+i%26)), 1000+i%50), l, int64(i)}
		switch i % 9 {
		case 0:
			rows[i][1], rows[i][2] = nil, nil
		case 1:
			rows[i][1] = []string{}
		}
	}
	path := filepath.Join(t.TempDir(), "pages.parquet")
	groupRows := 1001 // the first group ends mid-page in every column
	writeFile(t, path, tb, Options{RowGroupRows: groupRows}, rows)
	compareRows(t, tb, readBack(t, path, tb), rows)
	if got, want := nullCounts(t, path), wantNulls(tb, rows, groupRows); !reflect.DeepEqual(got, want) {
		t.Errorf("null counts per row group\n got %v\nwant %v", got, want)
	}
	pages := pageCounts(t, path)
	if len(pages) != 2 {
		t.Fatalf("%d row groups, want 2", len(pages))
	}
	// s: ~1 KB a row, so 512 KB pages hold ~500 rows; l: 100 entries a
	// row, so 64 Ki-entry pages hold ~650 rows.
	for i, name := range []string{"s", "l"} {
		if pages[0][i] < 2 {
			t.Errorf("column %s: %d pages in the first row group, want several", name, pages[0][i])
		}
	}
}

// pageCounts reads, per row group, the number of pages of each column.
func pageCounts(t *testing.T, path string) [][]int {
	t.Helper()
	f, pf, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]int
	for _, rg := range pf.RowGroups() {
		var counts []int
		for _, cc := range rg.ColumnChunks() {
			pages := cc.Pages()
			n := 0
			for {
				_, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			pages.Close()
			counts = append(counts, n)
		}
		out = append(out, counts)
	}
	return out
}

// Column chunk statistics: min and max per type as the independent reader
// decodes them, NaN left out, zero signed as the format asks, and none for
// strings too long to be worth it.
func TestStatistics(t *testing.T) {
	tb, err := model.FromSchema("st", []byte(`{"type": "object", "properties": {
		"s": {"type": ["string", "null"]},
		"long": {"type": ["string", "null"]},
		"i": {"type": ["integer", "null"]},
		"f": {"type": ["number", "null"]},
		"z": {"type": ["number", "null"]},
		"b": {"type": ["boolean", "null"]},
		"ts": {"type": ["string", "null"], "format": "date-time"},
		"d": {"type": ["string", "null"], "format": "date"},
		"l": {"type": "array", "items": {"type": "string"}},
		"none": {"type": ["string", "null"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC)
	t1 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	d0 := time.Date(1950, 6, 1, 0, 0, 0, 0, time.UTC)
	d1 := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	long := strings.Repeat("z", statsMaxLen+1)
	rows := [][]any{
		{"m", "a", int64(5), 2.5, 0.0, true, t1, d0, []string{"k", "b"}, nil},
		{"\xff", long, int64(math.MinInt64), math.NaN(), 0.0, true, t0, d1, []string{}, nil},
		{"Z", nil, int64(-3), -1e300, nil, nil, nil, nil, []string{"é"}, nil},
		{nil, "b", nil, nil, nil, true, nil, nil, nil, nil},
	}
	path := filepath.Join(t.TempDir(), "st.parquet")
	writeFile(t, path, tb, Options{}, rows) // no compareRows: NaN != NaN
	i64 := func(x int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(x)) }
	f64 := func(x float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)) }
	i32 := func(x int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(x)) }
	want := map[string][2][]byte{
		"s":    {[]byte("Z"), []byte("\xff")}, // unsigned byte order
		"long": {nil, nil},
		"i":    {i64(math.MinInt64), i64(5)},
		"f":    {f64(-1e300), f64(2.5)},
		"z":    {f64(math.Copysign(0, -1)), f64(0)},
		"b":    {{1}, {1}},
		"ts":   {i64(t0.UnixMicro()), i64(t1.UnixMicro())},
		"d":    {i32(int32(d0.Unix() / 86400)), i32(int32(d1.Unix() / 86400))},
		"l":    {[]byte("b"), []byte("é")},
		"none": {nil, nil},
	}
	f, pf, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, cc := range pf.Metadata().RowGroups[0].Columns {
		name := tb.Columns[i].Name
		s := cc.MetaData.Statistics
		if w := want[name]; !bytes.Equal(s.MinValue, w[0]) || !bytes.Equal(s.MaxValue, w[1]) {
			t.Errorf("column %s: min/max %x/%x, want %x/%x", name, s.MinValue, s.MaxValue, w[0], w[1])
		}
	}
	if got, want := nullCounts(t, path), wantNulls(tb, rows, len(rows)); !reflect.DeepEqual(got, want) {
		t.Errorf("null counts\n got %v\nwant %v", got, want)
	}
}

// String min and max against a plain scan, over strings that share
// prefixes, hold NUL and 0xff bytes and run past 16 bytes.
func TestStringMinMax(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		c := newColumn(model.Column{Name: "s", Type: model.String}, []string{"s"})
		var lo, hi string
		for i := range 50 {
			b := make([]byte, rnd.IntN(22))
			for j := range b {
				b[j] = "\x00a\xffb"[rnd.IntN(4)]
			}
			s := string(b)
			if err := c.put(s); err != nil {
				t.Fatal(err)
			}
			if i == 0 || s < lo {
				lo = s
			}
			if i == 0 || s > hi {
				hi = s
			}
		}
		st := c.statistics()
		if string(st.MinValue) != lo || string(st.MaxValue) != hi {
			t.Fatalf("round %d: min/max %q/%q, want %q/%q", round, st.MinValue, st.MaxValue, lo, hi)
		}
	}
}

func TestAbort(t *testing.T) {
	tb := model.MustLoad("merge")
	dir := t.TempDir()
	w, err := NewWriter(context.Background(), filepath.Join(dir, "merge.parquet"), tb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleRow(tb, 1)); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	w.Abort() // idempotent
	if err := w.Write(sampleRow(tb, 2)); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "aborted") {
		t.Errorf("Close after Abort: %v, want an abort error", err)
	}
	assertEmptyDir(t, dir)

	// After a successful Close, Abort leaves the file.
	path := filepath.Join(t.TempDir(), "merge.parquet")
	w, err = NewWriter(context.Background(), path, tb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Abort after Close: %v", err)
	}
}
