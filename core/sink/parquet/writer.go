// Package parquet writes the unified model's tables as Parquet files and
// publishes them as snapshots that readers switch to atomically.
//
// The file layout follows the model (core/model): one column per model
// column, in order; optional columns for those that are not Required;
// Timestamp as INT64 TIMESTAMP(MICROS, isAdjustedToUTC), Date as INT32
// DATE, String as BYTE_ARRAY STRING, List columns as the standard
// three-level LIST with required elements.
//
// Encoding is done by github.com/xitongsys/parquet-go with a column marshal
// of our own (see marshal.go): rows go straight into column tables, with no
// struct reflection and no JSON or CSV detour, and lists are supported.
package parquet

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	pq "github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/writer"

	"github.com/desilo/desilo/core/model"
)

// Compression names a Parquet compression codec.
type Compression string

// The supported codecs.
const (
	Snappy       Compression = "snappy"
	Zstd         Compression = "zstd"
	Gzip         Compression = "gzip"
	Uncompressed Compression = "none"
)

func (c Compression) codec() (pq.CompressionCodec, error) {
	switch c {
	case Snappy, "":
		return pq.CompressionCodec_SNAPPY, nil
	case Zstd:
		return pq.CompressionCodec_ZSTD, nil
	case Gzip:
		return pq.CompressionCodec_GZIP, nil
	case Uncompressed:
		return pq.CompressionCodec_UNCOMPRESSED, nil
	}
	return 0, fmt.Errorf("unknown parquet compression %q (want snappy, zstd, gzip or none)", string(c))
}

// Options tune a Writer. The zero value is usable.
type Options struct {
	// RowGroupRows is the number of rows per row group; 0 means
	// DefaultRowGroupRows. The encoded pages of one row group are held in
	// memory until it is complete.
	RowGroupRows int
	// Compression defaults to Snappy.
	Compression Compression
}

// DefaultRowGroupRows keeps row groups in the range readers such as
// BigQuery and DuckDB handle best for tables of a few dozen columns.
const DefaultRowGroupRows = 256 * 1024

const (
	pageSize = 1 << 20 // bytes of values per data page, the Parquet default
	// ctxEvery is how many rows Write goes between looks at ctx.
	ctxEvery = 1024
	// batchRows is how many rows are buffered before they are encoded into
	// pages; it bounds the memory held by rows not yet encoded.
	batchRows = 8192
)

// Writer writes the rows of one model table to one Parquet file. The file
// appears at its path only when Close succeeds; until then it is a
// temporary file beside it. A Writer is not safe for concurrent use.
type Writer struct {
	ctx   context.Context
	table *model.Table
	path  string
	tmp   *os.File
	buf   *bufio.Writer
	pw    *writer.ParquetWriter
	enc   *encoder

	groupRows int
	inGroup   int   // rows written to the current row group
	rows      int64 // rows written in total
	nulls     []int64
	err       error // sticky: once set, the file is never published
	closed    bool
}

// NewWriter starts writing table t to path.
func NewWriter(ctx context.Context, path string, t *model.Table, opts Options) (*Writer, error) {
	codec, err := opts.Compression.codec()
	if err != nil {
		return nil, err
	}
	groupRows := opts.RowGroupRows
	if groupRows <= 0 {
		groupRows = DefaultRowGroupRows
	}
	enc, elems := newEncoder(t)
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("parquet %s: %w", t.Name, err)
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	pw, err := writer.NewParquetWriterFromWriter(buf, elems, 1)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("parquet %s: schema: %w", t.Name, err)
	}
	enc.bind(pw.SchemaHandler)
	pw.MarshalFunc = enc.marshal
	pw.CompressionType = codec
	pw.PageSize = pageSize
	pw.RowGroupSize = math.MaxInt64 / 2 // row groups are cut by row count in Write
	createdBy := "desilo (github.com/xitongsys/parquet-go v1.6.2)"
	pw.Footer.CreatedBy = &createdBy
	return &Writer{
		ctx: ctx, table: t, path: path, tmp: f, buf: buf, pw: pw, enc: enc,
		groupRows: groupRows, nulls: make([]int64, enc.leaves),
	}, nil
}

// Write appends one row: a value per column, in column order, of the types
// core/model documents. It checks the row before taking it. The Writer
// copies row, so the caller may reuse it, but not the lists in it: a list
// must not change after it is written. After an error the Writer is
// failed: Close returns that error and publishes nothing.
func (w *Writer) Write(row []any) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("parquet %s: write after close", w.table.Name)
	}
	if w.rows%ctxEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			return w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, err))
		}
	}
	if err := w.enc.check(row, w.nulls); err != nil {
		return w.fail(fmt.Errorf("parquet %s, row %d: %w", w.table.Name, w.rows+1, err))
	}
	if err := w.pw.Write(append([]any(nil), row...)); err != nil {
		return w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, err))
	}
	w.rows++
	w.inGroup++
	switch {
	case w.inGroup >= w.groupRows:
		return w.endGroup()
	case w.inGroup%batchRows == 0:
		if err := w.pw.Flush(false); err != nil { // encodes pages, keeps the row group open
			return w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, err))
		}
	}
	return nil
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Path is where the file appears once Close succeeds.
func (w *Writer) Path() string { return w.path }

// endGroup writes the buffered rows as one row group.
func (w *Writer) endGroup() error {
	if w.inGroup == 0 {
		return nil
	}
	if err := w.pw.Flush(true); err != nil {
		return w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, err))
	}
	// xitongsys/parquet-go v1.6.2 miscounts nulls per page (it skips each
	// page's first value, and counts a dictionary page's first value for
	// every value), and readers skip row groups by null_count. The exact
	// counts, kept by check, replace the column chunks' ones.
	groups := w.pw.Footer.RowGroups
	cols := groups[len(groups)-1].Columns
	if len(cols) != len(w.nulls) {
		return w.fail(fmt.Errorf("parquet %s: row group has %d column chunks, want %d", w.table.Name, len(cols), len(w.nulls)))
	}
	for i, c := range cols {
		n := w.nulls[i]
		if c.MetaData.Statistics == nil {
			c.MetaData.Statistics = pq.NewStatistics()
		}
		c.MetaData.Statistics.NullCount = &n
		w.nulls[i] = 0
	}
	w.inGroup = 0
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Close finishes the file and moves it to its path. On any error, earlier
// or now, the temporary file is removed and nothing appears at the path.
// Close is idempotent.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	err := w.finish()
	if err != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
		return w.fail(err)
	}
	return nil
}

func (w *Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("parquet %s: %w", w.table.Name, err)
	}
	if err := w.endGroup(); err != nil {
		return err
	}
	if err := w.pw.WriteStop(); err != nil {
		return fmt.Errorf("parquet %s: footer: %w", w.table.Name, err)
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("parquet %s: %w", w.table.Name, err)
	}
	if err := w.tmp.Sync(); err != nil {
		return fmt.Errorf("parquet %s: %w", w.table.Name, err)
	}
	if err := w.tmp.Close(); err != nil {
		return fmt.Errorf("parquet %s: %w", w.table.Name, err)
	}
	if err := os.Rename(w.tmp.Name(), w.path); err != nil {
		return fmt.Errorf("parquet %s: %w", w.table.Name, err)
	}
	return syncDir(filepath.Dir(w.path))
}

// syncDir makes a rename or a new entry in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// schemaElements builds the Parquet schema of t, depth first, and reports
// for each column the index of its leaf element.
func schemaElements(t *model.Table) (elems []*pq.SchemaElement, leaf []int) {
	root := &pq.SchemaElement{Name: t.Name, NumChildren: ptr(int32(len(t.Columns))),
		RepetitionType: ptr(pq.FieldRepetitionType_REQUIRED)}
	elems = append(elems, root)
	leaf = make([]int, len(t.Columns))
	for i, c := range t.Columns {
		rep := pq.FieldRepetitionType_OPTIONAL
		if c.Required {
			rep = pq.FieldRepetitionType_REQUIRED
		}
		if !c.List {
			e := scalarElement(c.Name, c.Type)
			e.RepetitionType = ptr(rep)
			leaf[i] = len(elems)
			elems = append(elems, e)
			continue
		}
		elems = append(elems,
			&pq.SchemaElement{Name: c.Name, RepetitionType: ptr(rep), NumChildren: ptr(int32(1)),
				ConvertedType: ptr(pq.ConvertedType_LIST), LogicalType: &pq.LogicalType{LIST: pq.NewListType()}},
			&pq.SchemaElement{Name: "list", RepetitionType: ptr(pq.FieldRepetitionType_REPEATED), NumChildren: ptr(int32(1))},
		)
		e := scalarElement("element", c.Type)
		e.RepetitionType = ptr(pq.FieldRepetitionType_REQUIRED)
		leaf[i] = len(elems)
		elems = append(elems, e)
	}
	return elems, leaf
}

func scalarElement(name string, t model.Type) *pq.SchemaElement {
	e := &pq.SchemaElement{Name: name}
	switch t {
	case model.String:
		e.Type = ptr(pq.Type_BYTE_ARRAY)
		e.ConvertedType = ptr(pq.ConvertedType_UTF8)
		e.LogicalType = &pq.LogicalType{STRING: pq.NewStringType()}
	case model.Integer:
		e.Type = ptr(pq.Type_INT64)
	case model.Number:
		e.Type = ptr(pq.Type_DOUBLE)
	case model.Boolean:
		e.Type = ptr(pq.Type_BOOLEAN)
	case model.Timestamp:
		e.Type = ptr(pq.Type_INT64)
		e.ConvertedType = ptr(pq.ConvertedType_TIMESTAMP_MICROS)
		e.LogicalType = &pq.LogicalType{TIMESTAMP: &pq.TimestampType{
			IsAdjustedToUTC: true, Unit: &pq.TimeUnit{MICROS: pq.NewMicroSeconds()}}}
	case model.Date:
		e.Type = ptr(pq.Type_INT32)
		e.ConvertedType = ptr(pq.ConvertedType_DATE)
		e.LogicalType = &pq.LogicalType{DATE: pq.NewDateType()}
	}
	return e
}

func ptr[T any](v T) *T { return &v }
