package parquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/desilo/desilo/core/model"
)

// ReadFile reads a Parquet file of a model table with parquet-go (not the
// library that wrote it) and calls fn with each row in the core/model
// representation. fn must not keep row: it is reused.
func ReadFile(ctx context.Context, path string, t *model.Table, fn func(row []any) error) error {
	f, pf, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	leaves := pf.Schema().Columns()
	if len(leaves) != len(t.Columns) {
		return fmt.Errorf("parquet %s: %d columns, table %s has %d: written with another schema", path, len(leaves), t.Name, len(t.Columns))
	}
	for i, c := range t.Columns {
		if leaves[i][0] != c.Name {
			return fmt.Errorf("parquet %s: column %d is %q, table %s expects %q", path, i, leaves[i][0], t.Name, c.Name)
		}
	}
	r := pgo.NewReader(pf)
	defer r.Close()
	buf := make([]pgo.Row, 256)
	row := make([]any, len(t.Columns))
	byCol := make([][]pgo.Value, len(t.Columns))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.ReadRows(buf)
		for _, pr := range buf[:n] {
			if err := decode(t, pr, byCol, row); err != nil {
				return fmt.Errorf("parquet %s: %w", path, err)
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parquet %s: %w", path, err)
		}
	}
}

// Open opens a Parquet file with parquet-go; close f when done with pf.
func Open(path string, opts ...pgo.FileOption) (f *os.File, pf *pgo.File, err error) {
	if f, err = os.Open(path); err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil {
		pf, err = pgo.OpenFile(f, st.Size(), opts...)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("parquet %s: %w", path, err)
	}
	return f, pf, nil
}

// ReadTable reads one table of a committed snapshot.
func ReadTable(dir string, m Manifest, t *model.Table, fn func(row []any) error) error {
	mt, ok := m.Tables[t.Name]
	if !ok {
		return fmt.Errorf("snapshot %s has no table %s", dir, t.Name)
	}
	for _, f := range mt.Files {
		if err := ReadFile(context.Background(), filepath.Join(dir, f), t, fn); err != nil {
			return err
		}
	}
	return nil
}

func decode(t *model.Table, pr pgo.Row, byCol [][]pgo.Value, row []any) error {
	for i := range byCol {
		byCol[i] = byCol[i][:0]
	}
	for _, v := range pr {
		byCol[v.Column()] = append(byCol[v.Column()], v)
	}
	for i, c := range t.Columns {
		vals := byCol[i]
		if len(vals) == 0 {
			return fmt.Errorf("column %s has no value in a row", c.Name)
		}
		if !c.List {
			row[i] = nil
			if !vals[0].IsNull() {
				row[i] = DecodeScalar(c.Type, vals[0])
			}
			continue
		}
		// A list: one value at definition level 0 is a null list, one
		// below the element's level an empty list; else its elements.
		switch {
		case len(vals) == 1 && vals[0].IsNull() && vals[0].DefinitionLevel() == 0 && !c.Required:
			row[i] = nil
		case len(vals) == 1 && vals[0].IsNull():
			row[i] = DecodeList(c.Type, nil)
		default:
			row[i] = DecodeList(c.Type, vals)
		}
	}
	return nil
}

// DecodeScalar turns one Parquet value written for a column of type t into
// its core/model form.
func DecodeScalar(t model.Type, v pgo.Value) any {
	switch t {
	case model.String:
		return string(v.ByteArray())
	case model.Integer:
		return v.Int64()
	case model.Number:
		return v.Double()
	case model.Boolean:
		return v.Boolean()
	case model.Timestamp:
		return time.UnixMicro(v.Int64()).UTC()
	default: // model.Date: days since the epoch
		return time.Unix(int64(v.Int32())*86400, 0).UTC()
	}
}

// DecodeList turns the element values of a list column into the typed
// slice core/model uses ([]string for strings).
func DecodeList(t model.Type, vals []pgo.Value) any {
	switch t {
	case model.String:
		return listOf(vals, func(v pgo.Value) string { return string(v.ByteArray()) })
	case model.Integer:
		return listOf(vals, pgo.Value.Int64)
	case model.Number:
		return listOf(vals, pgo.Value.Double)
	case model.Boolean:
		return listOf(vals, pgo.Value.Boolean)
	default:
		return listOf(vals, func(v pgo.Value) time.Time { return DecodeScalar(t, v).(time.Time) })
	}
}

func listOf[T any](vals []pgo.Value, conv func(pgo.Value) T) []T {
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i] = conv(v)
	}
	return out
}
