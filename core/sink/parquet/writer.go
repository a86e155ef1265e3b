// Package parquet writes the unified model's tables as Parquet files and
// publishes them as snapshots that readers switch to atomically.
//
// The file layout follows the model (core/model): one column per model
// column, in order; optional columns for those that are not Required;
// Timestamp as INT64 TIMESTAMP(MICROS, isAdjustedToUTC), Date as INT32
// DATE, String as BYTE_ARRAY STRING, List columns as the standard
// three-level LIST with required elements.
//
// Values are encoded by a column writer of our own (column.go): each
// column's values go from the row straight into PLAIN-encoded page
// buffers, with RLE levels and typed min/max statistics, so nothing is
// boxed or copied per row. The file's metadata are the Parquet format
// types of github.com/xitongsys/parquet-go, and its codecs compress the
// pages; its own row pipeline, which holds every value as an interface,
// was the bottleneck and is not used.
package parquet

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/thrift/lib/go/thrift"
	pq "github.com/xitongsys/parquet-go/parquet"

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
	// DefaultRowGroupRows. The compressed pages of one row group are held
	// in memory until it is complete.
	RowGroupRows int
	// Compression defaults to Snappy.
	Compression Compression
}

// DefaultRowGroupRows keeps row groups in the range readers such as
// BigQuery and DuckDB handle best for tables of a few dozen columns.
const DefaultRowGroupRows = 256 * 1024

// ctxEvery is how many rows Write goes between looks at ctx.
const ctxEvery = 1024

const magic = "PAR1"

// errAborted fails a Writer that Abort discarded.
var errAborted = errors.New("writer aborted")

// FileMode is the mode of the files a snapshot holds. os.CreateTemp,
// which makes the temporary file renamed into place, gives 0600, so an
// analyst or a log shipper running as another user could not read the
// output; the folders' modes (0755 less the umask) decide who reaches it.
const FileMode = 0o644

// Writer writes the rows of one model table to one Parquet file. The file
// appears at its path only when Close succeeds; until then it is a
// temporary file beside it. A Writer is not safe for concurrent use.
type Writer struct {
	ctx    context.Context
	table  *model.Table
	path   string
	tmp    *os.File
	buf    *bufio.Writer
	schema []*pq.SchemaElement
	cols   []*column
	pager  pager
	groups []*pq.RowGroup
	offset int64 // bytes written to the file so far

	groupRows int
	inGroup   int   // rows written to the current row group
	rows      int64 // rows written in total
	err       error // sticky: once set, the file is never published
	closed    bool

	// A typed row in progress (typed.go): which columns are set.
	inRow   bool
	isSet   []bool
	scratch []string
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
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("parquet %s: %w", t.Name, err)
	}
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("parquet %s: %w", t.Name, err)
	}
	w := &Writer{
		ctx: ctx, table: t, path: path, tmp: f, buf: bufio.NewWriterSize(f, 1<<20),
		schema: schemaElements(t), pager: pager{codec: codec, header: newHeaderWriter()},
		groupRows: groupRows,
	}
	for _, c := range t.Columns {
		p := []string{c.Name}
		if c.List {
			p = append(p, "list", "element")
		}
		w.cols = append(w.cols, newColumn(c, p))
	}
	if err := w.write([]byte(magic)); err != nil {
		w.discard()
		return nil, fmt.Errorf("parquet %s: %w", t.Name, err)
	}
	return w, nil
}

// Write appends one row: a value per column, in column order, of the types
// core/model documents. It checks the row as it encodes it, and keeps
// nothing of it, so the caller may reuse the row and its lists.
// After an error the Writer is failed: Close returns that error and
// publishes nothing.
func (w *Writer) Write(row []any) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("parquet %s: write after close", w.table.Name)
	}
	if w.inRow {
		return w.fail(fmt.Errorf("parquet %s, row %d: Write during a typed row", w.table.Name, w.rows+1))
	}
	if len(row) != len(w.cols) {
		return w.fail(fmt.Errorf("parquet %s, row %d: %d values for %d columns", w.table.Name, w.rows+1, len(row), len(w.cols)))
	}
	for i, c := range w.cols {
		if err := c.put(row[i]); err != nil {
			return w.fail(fmt.Errorf("parquet %s, row %d: %w", w.table.Name, w.rows+1, err))
		}
	}
	return w.endRow()
}

// endRow ends a row whose columns are all encoded: it cuts full pages,
// counts the row, ends a full row group and now and then looks at ctx.
func (w *Writer) endRow() error {
	for _, c := range w.cols {
		if c.pageFull() {
			if err := c.flushPage(&w.pager); err != nil {
				return w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, err))
			}
		}
	}
	if w.rows%ctxEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			return w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, err))
		}
	}
	w.rows++
	w.inGroup++
	if w.inGroup >= w.groupRows {
		return w.endGroup()
	}
	return nil
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Path is where the file appears once Close succeeds.
func (w *Writer) Path() string { return w.path }

// endGroup writes the buffered column chunks as one row group.
func (w *Writer) endGroup() error {
	if w.inGroup == 0 {
		return nil
	}
	rg := &pq.RowGroup{NumRows: int64(w.inGroup)}
	start := w.offset
	for _, c := range w.cols {
		if err := c.flushPage(&w.pager); err != nil {
			return w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, err))
		}
		offset := w.offset
		if err := w.write(c.chunk); err != nil {
			return w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, err))
		}
		encodings := []pq.Encoding{pq.Encoding_PLAIN}
		if c.def {
			encodings = append(encodings, pq.Encoding_RLE)
		}
		rg.Columns = append(rg.Columns, &pq.ColumnChunk{
			FileOffset: offset,
			MetaData: &pq.ColumnMetaData{
				Type:                  c.ptype,
				Encodings:             encodings,
				PathInSchema:          c.path,
				Codec:                 w.pager.codec,
				NumValues:             c.chunkLevels,
				TotalUncompressedSize: c.uncompressed,
				TotalCompressedSize:   int64(len(c.chunk)),
				DataPageOffset:        offset,
				Statistics:            c.statistics(),
			},
		})
		rg.TotalByteSize += c.uncompressed
		c.chunk, c.chunkLevels, c.uncompressed, c.nulls = c.chunk[:0], 0, 0, 0
		c.st = stats{minS: c.st.minS[:0], maxS: c.st.maxS[:0]}
	}
	rg.FileOffset = &start
	total := w.offset - start
	rg.TotalCompressedSize = &total
	w.groups = append(w.groups, rg)
	w.inGroup = 0
	return nil
}

// write appends p to the file.
func (w *Writer) write(p []byte) error {
	n, err := w.buf.Write(p)
	w.offset += int64(n)
	return err
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
	w.cols = nil // the buffers
	if err != nil {
		w.discard()
		return w.fail(err)
	}
	return nil
}

// Abort discards the file: the temporary file is removed, nothing appears
// at the path, and later calls of Write and Close fail. After a Close,
// Abort does nothing.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.fail(fmt.Errorf("parquet %s: %w", w.table.Name, errAborted))
	w.Close()
}

func (w *Writer) discard() {
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

func (w *Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("parquet %s: %w", w.table.Name, err)
	}
	if w.inRow {
		return fmt.Errorf("parquet %s, row %d: closed before EndRow", w.table.Name, w.rows+1)
	}
	if err := w.endGroup(); err != nil {
		return err
	}
	if err := w.footer(); err != nil {
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
	return SyncDir(filepath.Dir(w.path))
}

// createdBy names the writer in the footer.
const createdBy = "desilo"

// footer writes the file metadata, its length and the closing magic.
func (w *Writer) footer() error {
	orders := make([]*pq.ColumnOrder, len(w.cols))
	for i := range orders {
		// Statistics use each type's own order (strings: unsigned bytes),
		// which min_value and max_value require.
		orders[i] = &pq.ColumnOrder{TYPE_ORDER: pq.NewTypeDefinedOrder()}
	}
	meta, err := w.pager.header.file(&pq.FileMetaData{
		Version:      1,
		Schema:       w.schema,
		NumRows:      w.rows,
		RowGroups:    w.groups,
		CreatedBy:    ptr(createdBy),
		ColumnOrders: orders,
	})
	if err != nil {
		return err
	}
	meta = binary.LittleEndian.AppendUint32(meta, uint32(len(meta)))
	meta = append(meta, magic...)
	return w.write(meta)
}

// headerWriter serializes the format's Thrift structures in the compact
// protocol.
type headerWriter struct{ ts *thrift.TSerializer }

func newHeaderWriter() *headerWriter {
	ts := thrift.NewTSerializer()
	ts.Protocol = thrift.NewTCompactProtocolFactoryConf(nil).GetProtocol(ts.Transport)
	return &headerWriter{ts: ts}
}

func (h *headerWriter) page(p *pq.PageHeader) ([]byte, error) {
	return h.ts.Write(context.Background(), p)
}

func (h *headerWriter) file(m *pq.FileMetaData) ([]byte, error) {
	return h.ts.Write(context.Background(), m)
}

// SyncDir makes new, renamed or removed entries of dir durable.
func SyncDir(dir string) error {
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

// schemaElements builds the Parquet schema of t, depth first.
func schemaElements(t *model.Table) (elems []*pq.SchemaElement) {
	root := &pq.SchemaElement{Name: t.Name, NumChildren: ptr(int32(len(t.Columns))),
		RepetitionType: ptr(pq.FieldRepetitionType_REQUIRED)}
	elems = append(elems, root)
	for _, c := range t.Columns {
		rep := pq.FieldRepetitionType_OPTIONAL
		if c.Required {
			rep = pq.FieldRepetitionType_REQUIRED
		}
		if !c.List {
			e := scalarElement(c.Name, c.Type)
			e.RepetitionType = ptr(rep)
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
		elems = append(elems, e)
	}
	return elems
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
