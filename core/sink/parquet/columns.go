package parquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	pgo "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// EachValue calls fn with every value of leaf column col of f, in row
// order. Byte slices are valid only during the call.
func EachValue(ctx context.Context, f *pgo.File, col int, fn func(pgo.Value)) error {
	return eachValue(ctx, f.RowGroups(), col, fn)
}

func eachValue(ctx context.Context, rgs []pgo.RowGroup, col int, fn func(pgo.Value)) error {
	buf := make([]pgo.Value, 4096)
	for _, rg := range rgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		pages := rg.ColumnChunks()[col].Pages()
		err := func() error {
			defer pages.Close()
			for {
				p, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				vr := p.Values()
				for {
					n, err := vr.ReadValues(buf)
					for _, v := range buf[:n] {
						fn(v)
					}
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						pgo.Release(p)
						return err
					}
				}
				pgo.Release(p)
			}
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// Leaf says where a file's leaf column goes in a rowset row.
type Leaf struct {
	Col      int // the model column
	Type     model.Type
	List     bool
	Nullable bool // the leaf may say null (an optional scalar or list)
	MaxDef   int  // the leaf's maximum definition level
}

// FillColumn reads leaf column col of row group rg into dst: the value of
// the row group's row r goes to row at[r] of dst, or nowhere when at[r] <
// 0. at has one entry per row of the row group. Rows of a list column
// must be in ascending order in dst.
func FillColumn(ctx context.Context, rg pgo.RowGroup, col int, d Leaf, at []int32, dst *rowset.Set) error {
	row := -1
	var bad error
	err := eachValue(ctx, []pgo.RowGroup{rg}, col, func(v pgo.Value) {
		if v.RepetitionLevel() == 0 {
			row++
		}
		if row >= len(at) {
			bad = fmt.Errorf("column %d has more rows than the row group", col)
			return
		}
		i := at[row]
		if i < 0 || bad != nil {
			return
		}
		if !d.List {
			if !v.IsNull() {
				if d.Type == model.String {
					dst.PutString(int(i), d.Col, v.ByteArray())
				} else {
					dst.PutWord(int(i), d.Col, word(d.Type, v))
				}
			}
			return
		}
		switch def := v.DefinitionLevel(); {
		case def == 0 && d.Nullable:
			// a null list
		case def < d.MaxDef:
			dst.PutEmptyList(int(i), d.Col)
		case d.Type == model.String:
			dst.AddStringItem(int(i), d.Col, v.ByteArray())
		default:
			dst.AddItem(int(i), d.Col, word(d.Type, v))
		}
	})
	if err == nil {
		err = bad
	}
	if err == nil && row != len(at)-1 {
		err = fmt.Errorf("column %d has %d rows, the row group %d", col, row+1, len(at))
	}
	return err
}

// word encodes a Parquet value of type t as rowset stores it.
func word(t model.Type, v pgo.Value) uint64 {
	switch t {
	case model.Number:
		return math.Float64bits(v.Double())
	case model.Boolean:
		if v.Boolean() {
			return 1
		}
		return 0
	case model.Date:
		return uint64(int64(v.Int32()))
	default: // Integer; Timestamp in Unix microseconds, as written
		return uint64(v.Int64())
	}
}

// ReadInto appends the rows of a Parquet file written for dst's table to
// dst, reading only the named scalar columns (the others stay null):
// column by column, with no boxed row per record.
func ReadInto(ctx context.Context, path string, dst *rowset.Set, cols ...string) error {
	r, err := OpenColumns(path, dst.Table(), cols...)
	if err != nil {
		return err
	}
	defer r.Close()
	if int64(dst.Len())+r.pf.NumRows() > math.MaxInt32 {
		return fmt.Errorf("parquet %s: more than %d rows", path, math.MaxInt32)
	}
	for g := range r.RowGroups() {
		if err := r.ReadRowGroup(ctx, g, dst); err != nil {
			return err
		}
	}
	return nil
}

// ColumnReader reads named scalar columns of a Parquet file written for a
// model table, a row group at a time.
type ColumnReader struct {
	path   string
	f      io.Closer
	pf     *pgo.File
	leaves []int  // per column read: the file's leaf column
	dest   []Leaf // per column read: where it goes
}

// OpenColumns opens the file at path to read the named scalar columns of
// table t.
func OpenColumns(path string, t *model.Table, cols ...string) (*ColumnReader, error) {
	f, pf, err := Open(path, pgo.SkipPageIndex(true), pgo.SkipBloomFilters(true))
	if err != nil {
		return nil, err
	}
	r := &ColumnReader{path: path, f: f, pf: pf}
	for _, name := range cols {
		i, ok := t.Index(name)
		if !ok || t.Columns[i].List {
			f.Close()
			return nil, fmt.Errorf("parquet %s: table %s has no scalar column %q", path, t.Name, name)
		}
		leaf, ok := pf.Schema().Lookup(name)
		if !ok {
			f.Close()
			return nil, fmt.Errorf("parquet %s: no column %q", path, name)
		}
		c := t.Columns[i]
		if typ, ok := LeafType(leaf.Node); !ok || typ != c.Type || leaf.MaxRepetitionLevel > 0 {
			f.Close()
			return nil, fmt.Errorf("parquet %s: column %s is not a %s", path, name, c.Type)
		}
		r.leaves = append(r.leaves, leaf.ColumnIndex)
		r.dest = append(r.dest, Leaf{Col: i, Type: c.Type, Nullable: leaf.MaxDefinitionLevel > 0, MaxDef: leaf.MaxDefinitionLevel})
	}
	return r, nil
}

// RowGroups is the number of row groups in the file.
func (r *ColumnReader) RowGroups() int { return len(r.pf.RowGroups()) }

// ReadRowGroup appends the rows of row group g to dst, whose table is
// the one the reader was opened for.
func (r *ColumnReader) ReadRowGroup(ctx context.Context, g int, dst *rowset.Set) error {
	rg := r.pf.RowGroups()[g]
	n := rg.NumRows()
	if int64(dst.Len())+n > math.MaxInt32 {
		return fmt.Errorf("parquet %s: more than %d rows", r.path, math.MaxInt32)
	}
	at := make([]int32, n)
	first := dst.Extend(int(n))
	for i := range at {
		at[i] = int32(first + i)
	}
	for k, leaf := range r.leaves {
		if err := FillColumn(ctx, rg, leaf, r.dest[k], at, dst); err != nil {
			return fmt.Errorf("parquet %s: %w", r.path, err)
		}
	}
	return nil
}

// Close closes the file.
func (r *ColumnReader) Close() error { return r.f.Close() }

// LeafType is the model type a leaf column holds, as this package
// writes it.
func LeafType(n pgo.Node) (model.Type, bool) {
	var lv format.LogicalTypeValue
	if lt := n.Type().LogicalType(); lt != nil {
		lv = lt.Value
	}
	switch n.Type().Kind() {
	case pgo.ByteArray:
		return model.String, true
	case pgo.Int64:
		if _, ok := lv.(*format.TimestampType); ok {
			return model.Timestamp, true
		}
		return model.Integer, true
	case pgo.Int32:
		_, ok := lv.(*format.DateType)
		return model.Date, ok
	case pgo.Double:
		return model.Number, true
	case pgo.Boolean:
		return model.Boolean, true
	}
	return 0, false
}
