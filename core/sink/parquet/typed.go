package parquet

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// Typed rows: instead of Write's []any, a caller sets the columns of the
// current row with the Set methods, in any order, and ends it with
// EndRow. No value is boxed, which at a million rows a table is most of
// what the garbage collector would otherwise do. A column left unset is
// null. A wrongly typed or repeated Set fails the Writer like a bad
// Write: EndRow and Close return the error and nothing is published.

// SetString sets String column col of the current row.
func (w *Writer) SetString(col int, s string) {
	if c := w.setting(col, model.String, false); c != nil {
		c.level(c.opt, 0)
		c.putString(s)
	}
}

// SetBytes sets String column col of the current row to the text in b,
// which the Writer copies: the caller may reuse b at once.
func (w *Writer) SetBytes(col int, b []byte) {
	w.SetString(col, unsafe.String(unsafe.SliceData(b), len(b)))
}

// SetInt sets Integer column col of the current row.
func (w *Writer) SetInt(col int, x int64) {
	if c := w.setting(col, model.Integer, false); c != nil {
		c.level(c.opt, 0)
		c.putInt64(x)
	}
}

// SetFloat sets Number column col of the current row.
func (w *Writer) SetFloat(col int, x float64) {
	if c := w.setting(col, model.Number, false); c != nil {
		c.level(c.opt, 0)
		c.putFloat64(x)
	}
}

// SetBool sets Boolean column col of the current row.
func (w *Writer) SetBool(col int, b bool) {
	if c := w.setting(col, model.Boolean, false); c != nil {
		c.level(c.opt, 0)
		c.putBool(b)
	}
}

// SetTime sets Timestamp or Date column col of the current row.
func (w *Writer) SetTime(col int, t time.Time) {
	if c := w.setting(col, model.Timestamp, false); c != nil {
		if err := c.putTime(t, c.opt, 0); err != nil {
			w.setFail(err)
		}
	}
}

// SetStrings sets String list column col of the current row; an empty
// list is not null.
func (w *Writer) SetStrings(col int, xs []string) {
	if c := w.setting(col, model.String, true); c != nil {
		c.putStrings(xs)
	}
}

// SetRow sets the columns of the current row not set yet from row i of
// set, whose table must have the Writer's first columns; the Writer's
// columns past them must be set already. Set a column first to give it
// another value than the set's.
func (w *Writer) SetRow(set *rowset.Set, i int) {
	if w.err != nil {
		return
	}
	n := len(set.Table().Columns)
	if n > len(w.cols) {
		w.setFail(fmt.Errorf("a row of %s has %d columns, the table %d", set.Table().Name, n, len(w.cols)))
		return
	}
	w.beginRow()
	for j, c := range w.cols {
		if w.isSet[j] {
			continue
		}
		if j >= n {
			w.setFail(fmt.Errorf("a row of %s has no column %s, and it was not set", set.Table().Name, c.Name))
			return
		}
		w.isSet[j] = true
		switch {
		case set.Null(i, j):
			if err := c.put(nil); err != nil {
				w.setFail(err)
				return
			}
		case c.List && c.Type == model.String:
			w.scratch = set.AppendStrings(w.scratch[:0], i, j)
			c.putStrings(w.scratch)
		case c.List:
			c.putWords(set.Items(i, j))
		case c.Type == model.String:
			c.level(c.opt, 0)
			c.putString(set.String(i, j))
		default:
			c.level(c.opt, 0)
			c.putWord(set.Word(i, j))
		}
	}
}

// EndRow ends the current row: columns not set are null.
func (w *Writer) EndRow() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("parquet %s: write after close", w.table.Name)
	}
	w.beginRow()
	for j, c := range w.cols {
		if !w.isSet[j] {
			if err := c.put(nil); err != nil {
				return w.fail(fmt.Errorf("parquet %s, row %d: %w", w.table.Name, w.rows+1, err))
			}
		}
		w.isSet[j] = false
	}
	w.inRow = false
	return w.endRow()
}

// beginRow starts the current row if it has not started.
func (w *Writer) beginRow() {
	if w.inRow {
		return
	}
	if w.isSet == nil {
		w.isSet = make([]bool, len(w.cols))
	}
	w.inRow = true
}

// setting checks a Set of column col against the column's type and marks
// it set; nil means the Writer is failed.
func (w *Writer) setting(col int, t model.Type, list bool) *column {
	if w.err != nil {
		return nil
	}
	if col < 0 || col >= len(w.cols) {
		w.setFail(fmt.Errorf("no column %d", col))
		return nil
	}
	c := w.cols[col]
	want := c.Type
	if want == model.Date {
		want = model.Timestamp // SetTime serves both
	}
	if want != t || c.List != list {
		w.setFail(fmt.Errorf("column %s is %v (list %v), set as %v (list %v)", c.Name, c.Type, c.List, t, list))
		return nil
	}
	w.beginRow()
	if w.isSet[col] {
		w.setFail(fmt.Errorf("column %s set twice", c.Name))
		return nil
	}
	w.isSet[col] = true
	return c
}

func (w *Writer) setFail(err error) {
	w.fail(fmt.Errorf("parquet %s, row %d: %w", w.table.Name, w.rows+1, err))
}

// putStrings encodes a String list; an empty one is defined up to the list.
func (c *column) putStrings(xs []string) { putItems(c, xs, c.putString) }

// putWords encodes a list of another type in core/rowset's encoding.
func (c *column) putWords(xs []uint64) { putItems(c, xs, c.putWord) }

func putItems[T any](c *column, xs []T, put func(T)) {
	for j, x := range xs {
		c.level(c.opt+1, rep(j))
		put(x)
	}
	if len(xs) == 0 {
		c.nulls++
		c.level(c.opt, 0)
	}
}

// putWord encodes a non-String value in core/rowset's encoding.
func (c *column) putWord(x uint64) {
	switch c.Type {
	case model.Integer, model.Timestamp: // Timestamp: Unix microseconds
		c.putInt64(int64(x))
	case model.Number:
		c.putFloat64(math.Float64frombits(x))
	case model.Boolean:
		c.putBool(x != 0)
	default: // Date: days since the epoch
		c.putInt32(int32(int64(x)))
	}
}
