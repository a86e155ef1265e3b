package parquet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/xitongsys/parquet-go/compress"
	pq "github.com/xitongsys/parquet-go/parquet"

	"github.com/desilo/desilo/core/model"
)

const (
	// pageBytes and pageLevels cut data pages: a page ends after the row
	// that takes its values past pageBytes or its entries past pageLevels.
	// A page is buffered raw, so they bound the memory of one column.
	pageBytes  = 64 << 10
	pageLevels = 8 << 10
	// statsMaxLen drops the min/max statistics of a string column chunk
	// whose min or max is longer: for free text they cost footer space and
	// prune nothing. The null count is always kept.
	statsMaxLen = 256
)

// column encodes the values of one model column straight from the rows:
// PLAIN values, RLE levels, one data page at a time, compressed pages of
// the current row group collected in chunk. Nothing is boxed or copied per
// row beyond the encoded bytes.
type column struct {
	model.Column
	path  []string
	ptype pq.Type
	opt   uint8 // definition level of a present value (of a list, for List)
	def   bool  // the column has definition levels: optional or a list

	// The page being filled.
	defs, reps []uint8
	vals       []byte
	bits       int // Boolean: values bit packed into vals so far
	levels     int // leaf entries in the page

	// The row group's column chunk.
	chunk        []byte // page headers and compressed pages
	chunkLevels  int64
	uncompressed int64 // chunk's size with every page uncompressed
	nulls        int64 // entries without a value: nulls and empty lists
	st           stats
}

// stats are a column chunk's min and max, kept typed: ints for INT64,
// INT32 (Date) and BOOLEAN (0, 1), floats for DOUBLE, strings for
// BYTE_ARRAY.
type stats struct {
	set        bool
	minI, maxI int64
	minF, maxF float64
	minS, maxS []byte
	minP, maxP uint64 // prefix8 of minS and maxS
}

func newColumn(c model.Column, path []string) *column {
	col := &column{Column: c, path: path, ptype: physicalType(c.Type)}
	if !c.Required {
		col.opt = 1
	}
	col.def = !c.Required || c.List
	return col
}

func physicalType(t model.Type) pq.Type {
	switch t {
	case model.String:
		return pq.Type_BYTE_ARRAY
	case model.Integer, model.Timestamp:
		return pq.Type_INT64
	case model.Number:
		return pq.Type_DOUBLE
	case model.Boolean:
		return pq.Type_BOOLEAN
	}
	return pq.Type_INT32 // Date
}

// put encodes the column's value of one row with its levels, checking it
// against the column. An empty list is one entry defined up to the list;
// each element of a list is one entry, with repetition level 1 after the
// first. On error the row is left part-encoded: the Writer is failed by
// then and never publishes.
func (c *column) put(v any) error {
	if v == nil {
		if c.Required {
			return fmt.Errorf("column %s is required but nil", c.Name)
		}
		c.nulls++
		c.level(0, 0)
		return nil
	}
	if c.List {
		return c.putList(v)
	}
	switch c.Type {
	case model.String:
		s, ok := v.(string)
		if !ok {
			return c.typeError(v)
		}
		c.level(c.opt, 0)
		c.putString(s)
	case model.Integer:
		x, ok := v.(int64)
		if !ok {
			return c.typeError(v)
		}
		c.level(c.opt, 0)
		c.putInt64(x)
	case model.Number:
		x, ok := v.(float64)
		if !ok {
			return c.typeError(v)
		}
		c.level(c.opt, 0)
		c.putFloat64(x)
	case model.Boolean:
		x, ok := v.(bool)
		if !ok {
			return c.typeError(v)
		}
		c.level(c.opt, 0)
		c.putBool(x)
	default:
		t, ok := v.(time.Time)
		if !ok {
			return c.typeError(v)
		}
		return c.putTime(t, c.opt, 0)
	}
	return nil
}

func (c *column) putList(v any) error {
	if !c.listOK(v) {
		return c.typeError(v)
	}
	var n int
	switch l := v.(type) {
	case []string:
		n = len(l)
		for j, s := range l {
			c.level(c.opt+1, rep(j))
			c.putString(s)
		}
	case []int64:
		n = len(l)
		for j, x := range l {
			c.level(c.opt+1, rep(j))
			c.putInt64(x)
		}
	case []float64:
		n = len(l)
		for j, x := range l {
			c.level(c.opt+1, rep(j))
			c.putFloat64(x)
		}
	case []bool:
		n = len(l)
		for j, x := range l {
			c.level(c.opt+1, rep(j))
			c.putBool(x)
		}
	case []time.Time:
		n = len(l)
		for j, t := range l {
			if err := c.putTime(t, c.opt+1, rep(j)); err != nil {
				return err
			}
		}
	}
	if n == 0 {
		c.nulls++
		c.level(c.opt, 0)
	}
	return nil
}

// putTime encodes a Timestamp as microseconds and a Date, checked to be
// midnight UTC, as days since the epoch.
func (c *column) putTime(t time.Time, def, rep uint8) error {
	if c.Type == model.Timestamp {
		c.level(def, rep)
		c.putInt64(t.UnixMicro())
		return nil
	}
	if !isMidnightUTC(t) {
		return fmt.Errorf("column %s: date %s is not midnight UTC", c.Name, t.Format(time.RFC3339))
	}
	c.level(def, rep)
	c.putInt32(int32(t.Unix() / 86400))
	return nil
}

// listOK reports whether v is the list type of the column.
func (c *column) listOK(v any) bool {
	switch v.(type) {
	case []string:
		return c.Type == model.String
	case []int64:
		return c.Type == model.Integer
	case []float64:
		return c.Type == model.Number
	case []bool:
		return c.Type == model.Boolean
	case []time.Time:
		return c.Type == model.Timestamp || c.Type == model.Date
	}
	return false
}

func (c *column) typeError(v any) error {
	want := goType(c.Type)
	if c.List {
		want = "[]" + want
	}
	return fmt.Errorf("column %s wants %s, got %T", c.Name, want, v)
}

func goType(t model.Type) string {
	switch t {
	case model.String:
		return "string"
	case model.Integer:
		return "int64"
	case model.Number:
		return "float64"
	case model.Boolean:
		return "bool"
	}
	return "time.Time"
}

func isMidnightUTC(t time.Time) bool {
	u := t.UTC()
	return u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0
}

func rep(j int) uint8 {
	if j == 0 {
		return 0
	}
	return 1
}

func (c *column) level(def, rep uint8) {
	if c.def {
		c.defs = append(c.defs, def)
	}
	if c.List {
		c.reps = append(c.reps, rep)
	}
	c.levels++
}

func (c *column) putString(s string) {
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(len(s)))
	c.vals = append(c.vals, s...)
	// The statistics read s, not the bytes just appended (see prefix8).
	// Min and max are copies of our own, so they pin none of the caller's
	// memory.
	p := prefix8(s)
	switch {
	case c.st.set && p > c.st.minP && p < c.st.maxP:
		// Strictly between min and max by its first eight bytes: most
		// values of a varied column, ids with a common prefix among
		// them, decided without two full comparisons.
	case !c.st.set:
		c.st.minS, c.st.maxS, c.st.set = append(c.st.minS[:0], s...), append(c.st.maxS[:0], s...), true
		c.st.minP, c.st.maxP = p, p
	case s < string(c.st.minS):
		c.st.minS, c.st.minP = append(c.st.minS[:0], s...), p
	case s > string(c.st.maxS):
		c.st.maxS, c.st.maxP = append(c.st.maxS[:0], s...), p
	}
}

// prefix8 is s's first eight bytes as a big-endian number, zero-padded.
// If prefix8(x) > prefix8(y) then x > y byte-wise: at the first byte the
// two numbers differ in, x has a greater byte, and y either a smaller one
// or none (a zero of the padding, y ending there). It reads the caller's
// string, not the copy just appended to the page: an eight-byte load of
// bytes just stored cannot take them from the store buffer, and stalled
// until they reached the cache (0.2 s of a 1 M-record sync).
func prefix8(s string) uint64 {
	if len(s) >= 8 {
		return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
			uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
	}
	var p uint64
	for i := range 8 {
		p <<= 8
		if i < len(s) {
			p |= uint64(s[i])
		}
	}
	return p
}

func (c *column) putInt64(x int64) {
	c.vals = binary.LittleEndian.AppendUint64(c.vals, uint64(x))
	c.int(x)
}

func (c *column) putInt32(x int32) {
	c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(x))
	c.int(int64(x))
}

// putBool packs booleans one bit each, least significant bit first.
func (c *column) putBool(b bool) {
	if c.bits%8 == 0 {
		c.vals = append(c.vals, 0)
	}
	var x int64
	if b {
		c.vals[len(c.vals)-1] |= 1 << (c.bits % 8)
		x = 1
	}
	c.bits++
	c.int(x)
}

func (c *column) int(x int64) {
	switch {
	case !c.st.set:
		c.st.minI, c.st.maxI, c.st.set = x, x, true
	case x < c.st.minI:
		c.st.minI = x
	case x > c.st.maxI:
		c.st.maxI = x
	}
}

func (c *column) putFloat64(x float64) {
	c.vals = binary.LittleEndian.AppendUint64(c.vals, math.Float64bits(x))
	switch {
	case math.IsNaN(x): // NaN has no order: statistics leave it out
	case !c.st.set:
		c.st.minF, c.st.maxF, c.st.set = x, x, true
	case x < c.st.minF:
		c.st.minF = x
	case x > c.st.maxF:
		c.st.maxF = x
	}
}

// pageFull reports whether the page should end after the current row.
func (c *column) pageFull() bool {
	return len(c.vals) >= pageBytes || c.levels >= pageLevels
}

// pager holds what every column shares to turn a page into bytes.
type pager struct {
	codec  pq.CompressionCodec
	header *headerWriter
	buf    []byte // the uncompressed page, reused
	dst    []byte // the Snappy-compressed page, reused
}

// compress compresses a page. The result is valid until the next call.
// Snappy pages are made by the S2 encoder's Snappy mode: the plain Snappy
// block format, several times faster than github.com/golang/snappy (which
// the library uses) and smaller, since matches may reach further back.
func (p *pager) compress(buf []byte) []byte {
	if p.codec != pq.CompressionCodec_SNAPPY {
		return compress.Compress(buf, p.codec)
	}
	if n := s2.MaxEncodedLen(len(buf)); cap(p.dst) < n {
		p.dst = make([]byte, n)
	}
	return s2.EncodeSnappy(p.dst[:cap(p.dst)], buf)
}

// flushPage encodes, compresses and appends the page to the chunk.
func (c *column) flushPage(p *pager) error {
	if c.levels == 0 {
		return nil
	}
	buf := p.buf[:0]
	if c.List {
		buf = appendLevels(buf, c.reps)
	}
	if c.def {
		buf = appendLevels(buf, c.defs)
	}
	buf = append(buf, c.vals...)
	data := p.compress(buf)
	h, err := p.header.page(&pq.PageHeader{
		Type:                 pq.PageType_DATA_PAGE,
		UncompressedPageSize: int32(len(buf)),
		CompressedPageSize:   int32(len(data)),
		DataPageHeader: &pq.DataPageHeader{
			NumValues:               int32(c.levels),
			Encoding:                pq.Encoding_PLAIN,
			DefinitionLevelEncoding: pq.Encoding_RLE,
			RepetitionLevelEncoding: pq.Encoding_RLE,
		},
	})
	if err != nil {
		return fmt.Errorf("column %s: page header: %w", c.Name, err)
	}
	c.chunk = append(c.chunk, h...)
	c.chunk = append(c.chunk, data...)
	c.uncompressed += int64(len(h) + len(buf))
	c.chunkLevels += int64(c.levels)
	p.buf = buf
	c.defs, c.reps, c.vals = c.defs[:0], c.reps[:0], c.vals[:0]
	c.bits, c.levels = 0, 0
	return nil
}

// appendLevels appends levels (at most 2, so one byte wide) in the RLE
// form of the RLE/bit-packing hybrid, after their 4-byte length. Levels
// come in runs (a column's nulls, a list's elements), which RLE suits.
func appendLevels(dst []byte, levels []uint8) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for i := 0; i < len(levels); {
		j := i + 1
		for j < len(levels) && levels[j] == levels[i] {
			j++
		}
		dst = binary.AppendUvarint(dst, uint64(j-i)<<1) // low bit 0: an RLE run
		dst = append(dst, levels[i])
		i = j
	}
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// statistics returns the chunk's statistics: the exact null count, and
// min and max when the chunk has a value to order (and, for strings, when
// they are short enough to be worth keeping).
func (c *column) statistics() *pq.Statistics {
	nulls := c.nulls
	s := &pq.Statistics{NullCount: &nulls}
	if !c.st.set {
		return s
	}
	var lo, hi []byte
	switch c.ptype {
	case pq.Type_BYTE_ARRAY:
		if len(c.st.minS) > statsMaxLen || len(c.st.maxS) > statsMaxLen {
			return s
		}
		// The deprecated min and max had no defined order for strings:
		// only min_value and max_value are set.
		s.MinValue, s.MaxValue = bytes.Clone(c.st.minS), bytes.Clone(c.st.maxS)
		return s
	case pq.Type_INT64:
		lo = binary.LittleEndian.AppendUint64(nil, uint64(c.st.minI))
		hi = binary.LittleEndian.AppendUint64(nil, uint64(c.st.maxI))
	case pq.Type_INT32:
		lo = binary.LittleEndian.AppendUint32(nil, uint32(c.st.minI))
		hi = binary.LittleEndian.AppendUint32(nil, uint32(c.st.maxI))
	case pq.Type_BOOLEAN:
		lo, hi = []byte{byte(c.st.minI)}, []byte{byte(c.st.maxI)}
	case pq.Type_DOUBLE:
		mn, mx := c.st.minF, c.st.maxF
		if mn == 0 { // the format asks for -0 as a min and +0 as a max
			mn = math.Copysign(0, -1)
		}
		if mx == 0 {
			mx = 0
		}
		lo = binary.LittleEndian.AppendUint64(nil, math.Float64bits(mn))
		hi = binary.LittleEndian.AppendUint64(nil, math.Float64bits(mx))
	}
	s.Min, s.Max, s.MinValue, s.MaxValue = lo, hi, lo, hi
	return s
}
