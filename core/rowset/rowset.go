// Package rowset holds many rows of one model table in typed columns.
//
// A build keeps every staged record in memory while it groups them by
// customer. As []any rows each value is boxed on the heap: about a
// kilobyte a record, all of it pointers the garbage collector walks on
// every cycle. A Set keeps each column as 64-bit words and every string's
// bytes in a few large pointer-free chunks, so a record costs about its
// filled columns times eight bytes plus its text, and the collector has
// almost nothing to scan.
//
// Rows go in as []any in the core/model representation and come out the
// same way (Row); single strings can be read without boxing (String).
package rowset

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/desilo/desilo/core/arena"
	"github.com/desilo/desilo/core/model"
)

// Set is a growing sequence of rows of one table. Reads may run
// concurrently with each other, not with writes.
type Set struct {
	table   *model.Table
	n       int
	reserve int // rows to make room for when a column allocates
	cols    []column
	text    arena.Arena
}

// column holds one column's values. Columns are filled lazily: while a
// column has held only nulls it has no storage at all.
type column struct {
	typ  model.Type
	list bool
	// valid has a bit per row, set when the value is not null; nil
	// while every value so far was null.
	valid []uint64
	// vals holds a scalar column's values by row: string references,
	// Integer and Timestamp (Unix µs) and Date (Unix days) as int64
	// bits, Number as float64 bits, Boolean as 0 or 1. While every
	// non-null value has been the same (a source name, a currency),
	// vals is nil and that value is kept once, in same.
	vals    []uint64
	same    uint64
	hasSame bool
	// box is same decoded and boxed, made once when same is set, so that
	// Value hands out a constant column without allocating.
	box any
	// ends holds, by row, where a list column's items end in items.
	ends  []uint32
	items []uint64
	// last is the reference of the last scalar string stored, reused
	// when the next is equal (see putText); hasLast says there is one.
	last    uint64
	hasLast bool
}

// New returns an empty set of rows of t.
func New(t *model.Table) *Set {
	s := &Set{table: t, cols: make([]column, len(t.Columns))}
	for i, c := range t.Columns {
		s.cols[i] = column{typ: c.Type, list: c.List}
	}
	return s
}

// Reserve makes columns that allocate room for n rows at once, for a
// caller that knows how many rows it will append.
func (s *Set) Reserve(n int) { s.reserve = n }

// Table is the table of the rows.
func (s *Set) Table() *model.Table { return s.table }

// Len is the number of rows.
func (s *Set) Len() int { return s.n }

// Append adds a copy of row, which must hold the table's column types as
// core/model describes them (nil for null).
func (s *Set) Append(row []any) error {
	if len(row) != len(s.cols) {
		return fmt.Errorf("rowset %s: row has %d values, the table %d columns", s.table.Name, len(row), len(s.cols))
	}
	for i := range s.cols {
		if err := s.put(i, row[i]); err != nil {
			// Roll the columns already written back to n rows.
			for j := range i + 1 {
				s.cols[j].truncate(s.n)
			}
			return fmt.Errorf("rowset %s: column %s: %w", s.table.Name, s.table.Columns[i].Name, err)
		}
	}
	s.n++
	return nil
}

// put appends v as row s.n of column i.
func (s *Set) put(i int, v any) error {
	c := &s.cols[i]
	if v == nil {
		if c.valid != nil {
			c.grow(s.n, max(s.n, s.reserve))
		}
		return nil
	}
	if c.list {
		c.grow(s.n, max(s.n, s.reserve)) // before the items: rows before n end where they start
		if err := s.appendList(c, v); err != nil {
			return err
		}
		end := len(c.items)
		if end > math.MaxUint32 {
			return fmt.Errorf("more than %d list items", math.MaxUint32)
		}
		c.ends[s.n] = uint32(end)
		setBit(c.valid, s.n)
		return nil
	}
	var w uint64
	var err error
	if x, ok := v.(string); ok && c.typ == model.String {
		w = s.putText(c, x)
	} else if w, err = s.word(c.typ, v); err != nil {
		return err
	}
	s.set(c, s.n, w, max(s.n, s.reserve))
	return nil
}

// grow makes row n of the column exist (as null), allocating the column's
// storage on its first non-null value. rows is how many rows the set
// will hold at least: a column filled column-wise (after Extend) gets
// exactly that capacity instead of append's doubling.
func (c *column) grow(n, rows int) {
	c.valid = extend(c.valid, n/64+1, (rows+63)/64, 0)
	if c.list {
		c.ends = extend(c.ends, n+1, rows, uint32(len(c.items)))
		return
	}
	if c.vals != nil {
		c.vals = extend(c.vals, n+1, rows, 0)
	}
}

// set sets scalar row n of column c to w. A column keeps one value for
// all its rows until a second, different one arrives; only then does it
// spend a word a row.
func (s *Set) set(c *column, n int, w uint64, rows int) {
	c.grow(n, rows)
	setBit(c.valid, n)
	if c.vals == nil {
		if !c.hasSame || c.same == w {
			if !c.hasSame {
				c.same, c.hasSame, c.box = w, true, s.decode(c.typ, w)
			}
			return
		}
		c.box = nil
		c.vals = extend[uint64](nil, 64*len(c.valid), max(rows, 64*len(c.valid)), 0)
		for i := range c.vals {
			if !c.isNull(i) {
				c.vals[i] = c.same
			}
		}
	}
	c.vals[n] = w
}

// word is scalar row i's value, which must not be null.
func (c *column) word(i int) uint64 {
	if c.vals == nil {
		return c.same
	}
	return c.vals[i]
}

// extend lengthens s to n elements of value v, with capacity hint when
// it must reallocate and hint is enough. A column that outgrows its
// capacity at least doubles it: rows added one at a time (Extend(1), then
// the Put methods) would otherwise copy the column at every row.
func extend[T any](s []T, n, hint int, v T) []T {
	if len(s) >= n {
		return s
	}
	if cap(s) < n && hint >= n {
		s = append(make([]T, 0, max(hint, 2*cap(s))), s...)
	}
	for len(s) < n {
		s = append(s, v)
	}
	return s
}

// truncate drops rows from n on (only the row being appended can exist
// beyond n).
func (c *column) truncate(n int) {
	if c.valid == nil {
		return
	}
	if c.list && len(c.ends) > n {
		c.ends = c.ends[:n]
		c.items = c.items[:c.itemsEnd(n)]
	} else if len(c.vals) > n {
		c.vals = c.vals[:n]
	}
	if len(c.valid) > n/64 {
		c.valid[n/64] &^= 1 << (n % 64)
	}
}

// itemsEnd is where the items of rows before n end.
func (c *column) itemsEnd(n int) uint32 {
	if n == 0 {
		return 0
	}
	return c.ends[n-1]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func setBit(b []uint64, i int) { b[i/64] |= 1 << (i % 64) }

func (c *column) isNull(i int) bool {
	return c.valid == nil || i/64 >= len(c.valid) || c.valid[i/64]&(1<<(i%64)) == 0
}

// word encodes one non-string scalar value of type t.
func (s *Set) word(t model.Type, v any) (uint64, error) {
	switch t { // strings are stored by putText
	case model.Integer:
		if x, ok := v.(int64); ok {
			return uint64(x), nil
		}
	case model.Number:
		if x, ok := v.(float64); ok {
			return math.Float64bits(x), nil
		}
	case model.Boolean:
		if x, ok := v.(bool); ok {
			return uint64(boolInt(x)), nil
		}
	case model.Timestamp:
		if x, ok := v.(time.Time); ok {
			return uint64(x.UnixMicro()), nil
		}
	case model.Date:
		if x, ok := v.(time.Time); ok {
			return uint64(floorDiv(x.Unix(), 86400)), nil
		}
	}
	return 0, fmt.Errorf("holds %T, want %s", v, t)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (s *Set) appendList(c *column, v any) error {
	add := func(w uint64, err error) error {
		if err == nil {
			c.items = append(c.items, w)
		}
		return err
	}
	switch x := v.(type) {
	case []string:
		if c.typ == model.String {
			for _, e := range x {
				c.items = append(c.items, s.text.Add(e))
			}
			return nil
		}
	case []int64:
		return eachItem(s, c.typ, x, add)
	case []float64:
		return eachItem(s, c.typ, x, add)
	case []bool:
		return eachItem(s, c.typ, x, add)
	case []time.Time:
		return eachItem(s, c.typ, x, add)
	}
	return fmt.Errorf("holds %T, want list of %s", v, c.typ)
}

func eachItem[T any](s *Set, t model.Type, xs []T, add func(uint64, error) error) error {
	for _, x := range xs {
		if err := add(s.word(t, x)); err != nil {
			return err
		}
	}
	return nil
}

// Row returns row i in the core/model representation, in dst when it has
// the table's width. Strings share the set's memory: they stay valid as
// long as the set does.
func (s *Set) Row(i int, dst []any) []any {
	if len(dst) != len(s.cols) {
		dst = make([]any, len(s.cols))
	}
	for j := range s.cols {
		dst[j] = s.Value(i, j)
	}
	return dst
}

// Value returns column col of row i in the core/model representation.
func (s *Set) Value(i, col int) any {
	c := &s.cols[col]
	if c.isNull(i) {
		return nil
	}
	if !c.list {
		if c.vals == nil {
			return c.box
		}
		return s.decode(c.typ, c.vals[i])
	}
	items := c.items[c.itemsEnd(i):c.ends[i]]
	switch c.typ {
	case model.String:
		out := make([]string, len(items))
		for k, w := range items {
			out[k] = s.text.Get(w)
		}
		return out
	case model.Integer:
		return decodeList(items, func(w uint64) int64 { return int64(w) })
	case model.Number:
		return decodeList(items, math.Float64frombits)
	case model.Boolean:
		return decodeList(items, func(w uint64) bool { return w != 0 })
	case model.Timestamp:
		return decodeList(items, func(w uint64) time.Time { return time.UnixMicro(int64(w)).UTC() })
	default:
		return decodeList(items, func(w uint64) time.Time { return time.Unix(int64(w)*86400, 0).UTC() })
	}
}

func decodeList[T any](items []uint64, conv func(uint64) T) []T {
	out := make([]T, len(items))
	for k, w := range items {
		out[k] = conv(w)
	}
	return out
}

func (s *Set) decode(t model.Type, w uint64) any {
	switch t {
	case model.String:
		return s.text.Get(w)
	case model.Integer:
		return int64(w)
	case model.Number:
		return math.Float64frombits(w)
	case model.Boolean:
		return w != 0
	case model.Timestamp:
		return time.UnixMicro(int64(w)).UTC()
	default:
		return time.Unix(int64(w)*86400, 0).UTC()
	}
}

// String returns a String column's value in row i without boxing it; ""
// for null.
func (s *Set) String(i, col int) string {
	c := &s.cols[col]
	if c.typ != model.String || c.list || c.isNull(i) {
		return ""
	}
	return s.text.Get(c.word(i))
}

// Time returns a Timestamp or Date column's value in row i; ok is false
// for null.
func (s *Set) Time(i, col int) (t time.Time, ok bool) {
	c := &s.cols[col]
	if c.list || c.isNull(i) {
		return time.Time{}, false
	}
	switch c.typ {
	case model.Timestamp:
		return time.UnixMicro(int64(c.word(i))).UTC(), true
	case model.Date:
		return time.Unix(int64(c.word(i))*86400, 0).UTC(), true
	}
	return time.Time{}, false
}

// Null reports whether column col of row i is null.
func (s *Set) Null(i, col int) bool { return s.cols[col].isNull(i) }

// Word returns a scalar column's value in row i encoded as PutWord takes
// it, without boxing; 0 for null. For String columns see String.
func (s *Set) Word(i, col int) uint64 {
	c := &s.cols[col]
	if c.list || c.typ == model.String || c.isNull(i) {
		return 0
	}
	return c.word(i)
}

// Items returns the items of a list column in row i, encoded as AddItem
// takes them; they share the set's memory. For String lists see
// AppendStrings.
func (s *Set) Items(i, col int) []uint64 {
	c := &s.cols[col]
	if !c.list || c.typ == model.String || c.isNull(i) {
		return nil
	}
	return c.items[c.itemsEnd(i):c.ends[i]]
}

// Bytes is the memory the set holds, for benchmarks.
func (s *Set) Bytes() int64 {
	n := int64(unsafe.Sizeof(*s)) + s.text.Bytes()
	for _, c := range s.cols {
		n += int64(cap(c.valid)+cap(c.vals)+cap(c.items))*8 + int64(cap(c.ends))*4
	}
	return n
}

// putText stores a String column's value, reusing the previous value's
// bytes when it is equal: constant and repetitive columns (source, stream,
// currency, status) then cost no text per row.
func (s *Set) putText(c *column, x string) uint64 {
	if c.hasLast && s.text.Get(c.last) == x {
		return c.last
	}
	c.last, c.hasLast = s.text.Add(x), true
	return c.last
}

// Column-wise filling, for readers of columnar files: Extend adds null
// rows, then the Put methods set values of those rows column by column.
// A list column's rows must be filled in ascending row order.

// Extend adds n null rows and returns the index of the first.
func (s *Set) Extend(n int) int {
	first := s.n
	s.n += n
	return first
}

// PutWord sets scalar column col of row i to an encoded value: Integer
// as int64 bits, Number as float64 bits, Boolean as 0 or 1, Timestamp
// as Unix microseconds, Date as days since the epoch. Not for String
// columns: see PutString.
func (s *Set) PutWord(i, col int, w uint64) {
	c := &s.cols[col]
	s.set(c, i, w, max(s.n, s.reserve))
}

// PutString sets String column col of row i to a copy of b.
func (s *Set) PutString(i, col int, b []byte) {
	s.PutText(i, col, unsafe.String(unsafe.SliceData(b), len(b))) // PutText copies b
}

// PutText sets String column col of row i to a copy of x.
func (s *Set) PutText(i, col int, x string) {
	c := &s.cols[col]
	s.set(c, i, s.putText(c, x), max(s.n, s.reserve))
}

// PutEmptyList makes list column col of row i an empty list rather than
// null.
func (s *Set) PutEmptyList(i, col int) {
	c := &s.cols[col]
	c.grow(i, max(s.n, s.reserve))
	setBit(c.valid, i)
}

// AddItem appends an encoded item (see PutWord) to list column col of
// row i.
func (s *Set) AddItem(i, col int, w uint64) {
	c := &s.cols[col]
	c.grow(i, max(s.n, s.reserve))
	c.items = append(c.items, w)
	c.ends[i] = uint32(len(c.items))
	setBit(c.valid, i)
}

// AddStringItem appends a copy of b to String list column col of row i.
func (s *Set) AddStringItem(i, col int, b []byte) {
	s.AddItem(i, col, s.text.AddBytes(b))
}

// AddText appends a copy of x to String list column col of row i.
func (s *Set) AddText(i, col int, x string) {
	s.AddItem(i, col, s.text.Add(x))
}

// AppendStrings appends the items of String list column col of row i to
// dst, without copying their bytes.
func (s *Set) AppendStrings(dst []string, i, col int) []string {
	c := &s.cols[col]
	if !c.list || c.typ != model.String || c.isNull(i) {
		return dst
	}
	for _, w := range c.items[c.itemsEnd(i):c.ends[i]] {
		dst = append(dst, s.text.Get(w))
	}
	return dst
}

// CopyRow sets the columns of row i to the values of row j of src, a set
// of the same table; src's null columns leave row i's as they are.
func (s *Set) CopyRow(i int, src *Set, j int) {
	for col := range s.cols {
		c := &src.cols[col]
		if c.isNull(j) {
			continue
		}
		switch {
		case c.list && c.typ == model.String:
			s.PutEmptyList(i, col)
			for _, w := range c.items[c.itemsEnd(j):c.ends[j]] {
				s.AddText(i, col, src.text.Get(w))
			}
		case c.list:
			s.PutEmptyList(i, col)
			for _, w := range c.items[c.itemsEnd(j):c.ends[j]] {
				s.AddItem(i, col, w)
			}
		case c.typ == model.String:
			s.PutText(i, col, src.text.Get(c.word(j)))
		default:
			s.PutWord(i, col, c.word(j))
		}
	}
}
