package files

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/transform"

	"github.com/desilo/desilo/connectors/internal/jsonenc"
)

const (
	// maxRecordBytes bounds one JSON Lines line, and one CSV record (all
	// its lines, when a quoted value spans lines), so that a file without
	// newlines, or with a quote that is never closed, cannot exhaust
	// memory.
	maxRecordBytes = 16 << 20
	// maxRawBytes bounds the raw row kept in a reject.
	maxRawBytes = 4 << 10
)

var utf8BOM = []byte("\xef\xbb\xbf")

// row is one source row: a record, or the reason it is none.
type row struct {
	line int // 1-based line where the row starts
	// data is the record as compact JSON. It may be the reader's buffer,
	// valid until the next row is read: keep a copy to keep it.
	data   []byte
	reject string // non-empty: why the row is not a record
	raw    []byte // the row as read, for a reject
	// members are data's top-level members, when fast is set. They may
	// share memory with the reader's next row.
	members []member
	fast    bool
}

// rowReader yields the rows of one file.
type rowReader interface {
	// next returns the next row, or io.EOF after the last. Any other
	// error means the file cannot be read further (I/O, gzip).
	next() (row, error)
}

// openRows opens a file for reading rows. required names the columns a
// CSV header must have. The returned closer closes the file.
func openRows(path string, ff fileFormat, required []string) (rowReader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	var r io.Reader = f
	if ff.gzip {
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		r = zr
	}
	return newRowReader(r, ff, required), f, nil
}

// newRowReader reads rows of the given format from r.
func newRowReader(r io.Reader, ff fileFormat, required []string) rowReader {
	switch ff.format {
	case formatCSV:
		return newCSVRows(r, ff, required)
	case formatJSONL:
		return newJSONLRows(r)
	default:
		return newJSONRows(r)
	}
}

// csvRows reads CSV with a header row (or generated column names).
//
// encoding/csv decides what a row is, but most rows of most files are
// plain: one line, no quotes, one value per column, valid UTF-8. csvRows
// reads the file's lines itself and builds the record of a plain line
// straight from it; any other line goes to encoding/csv, which reads it
// (and, for a quoted value over several lines, the lines after it) through
// feed, so that it sees exactly the lines of the rows it decides. The
// header, or the first row, always goes to encoding/csv, which so learns
// how many values a row has.
//
// A record may hold up to maxRecord bytes. A longer line is a reject of
// its own. A record that runs longer over several lines, as one whose
// quote is never closed does, is a reject too; its lines, but the first,
// are then read again as rows of their own, so that one stray quote does
// not swallow the rest of the file.
type csvRows struct {
	r        *csv.Reader
	src      *bufio.Reader // the file
	feed     csvFeed       // encoding/csv's input
	comma    []byte        // the delimiter, encoded
	long     []byte        // scratch: a line longer than src's buffer
	lines    int           // lines read
	fedLines int           // of which handed to the encoding/csv reader at hand
	delta    int           // line in the file minus line as encoding/csv counts
	cols     []string
	names    [][]byte // cols as bytes, for members
	keys     [][]byte // cols as JSON object keys: "name":
	ends     []int    // scratch: where each value ends in a record
	members  []member // scratch, reused from row to row
	buf      []byte   // scratch: the last row's data
	delim    string
	latin1   bool
	header   bool
	required []string
	started  bool
	done     bool

	maxRecord int       // bytes a record may hold: maxRecordBytes, less in tests
	rec       csvRecord // the record encoding/csv reads
	cut       row       // the reject of a record cut short
	// After a record cut short, its lines but the first are read again:
	// replay holds them (up to a line too long to keep, whose start is
	// replayLong), and replaying says they are not all read yet.
	replay     []byte
	replayLong []byte
	replaying  bool
}

// csvRecord is what csvRows knows of the lines of the record encoding/csv
// reads: empty lines before it do not count, as encoding/csv skips them.
type csvRecord struct {
	start int    // the line it starts on; 0: none read yet
	size  int    // bytes of its lines read so far
	first int    // bytes of its first line
	line1 []byte // its first line, valid until the next line is read
	multi bool   // it runs over more than one line, which lines holds
	lines []byte
}

// csvFeed is encoding/csv's reader: it hands over a line csvRows read and
// left, then reads further lines on demand, one at a time, so that
// encoding/csv (which reads a line at a time) never holds a line it has
// not asked for.
type csvFeed struct {
	c       *csvRows
	pending []byte // the rest of the line handed over
	err     error  // what reading the file ended with
}

func (f *csvFeed) Read(p []byte) (int, error) {
	if len(f.pending) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		line, err := f.c.feedLine()
		if errors.Is(err, errRecordTooLong) {
			return 0, err
		}
		f.pending, f.err = line, err
		if len(f.pending) == 0 {
			return 0, f.err
		}
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

func newCSVRows(r io.Reader, ff fileFormat, required []string) *csvRows {
	if ff.latin1 {
		r = transform.NewReader(r, latin1{})
	}
	c := &csvRows{src: bufio.NewReaderSize(r, 64<<10), comma: utf8.AppendRune(nil, ff.delimiter),
		delim: string(ff.delimiter), maxRecord: maxRecordBytes, latin1: ff.latin1, header: ff.header, required: required}
	// A UTF-8 file may start with a byte order mark. It is no part of the
	// first value, quoted or not, header or not: drop it before any line
	// is read. It holds no newline, so line numbers stay as they are.
	if !ff.latin1 {
		if b, err := c.src.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
			c.src.Discard(len(utf8BOM))
		}
	}
	c.feed.c = c
	c.r = csv.NewReader(&c.feed)
	c.r.Comma = ff.delimiter
	c.r.ReuseRecord = true
	return c
}

// errRecordTooLong is what encoding/csv reads when a record runs past
// maxRecord bytes.
var errRecordTooLong = errors.New("CSV record too long")

// readLine reads the next line of the file as it is, line ending and all,
// valid until the next call, with the error that ended it, as
// encoding/csv reads a line: data with io.EOF is a last line without a
// line ending. A line longer than c.maxRecord is read to its end, but
// only its start is returned, with long set.
func (c *csvRows) readLine() (line []byte, long bool, err error) {
	if c.replaying {
		if len(c.replay) > 0 {
			n := bytes.IndexByte(c.replay, '\n') + 1
			if n == 0 {
				n = len(c.replay) // the last line, which the file ends without a line ending
			}
			line, c.replay = c.replay[:n], c.replay[n:]
			c.lines++
			return line, false, nil
		}
		c.replaying, c.replay = false, nil
		if line := c.replayLong; line != nil {
			c.replayLong = nil
			c.lines++
			return line, true, nil
		}
	}
	line, err = c.src.ReadSlice('\n')
	size := len(line)
	if errors.Is(err, bufio.ErrBufferFull) {
		c.long = append(c.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = c.src.ReadSlice('\n')
			if size += len(line); size <= c.maxRecord {
				c.long = append(c.long, line...)
			}
		}
		line = c.long
	}
	if len(line) > 0 || err == nil {
		c.lines++
	}
	return line, size > c.maxRecord, err
}

// feedLine reads the next line for encoding/csv and hands it over, or
// returns errRecordTooLong, with the record cut short, when the line
// would make the record longer than c.maxRecord.
func (c *csvRows) feedLine() ([]byte, error) {
	if c.rec.start > 0 && !c.rec.multi {
		// The record goes on: keep its first line while it is valid.
		c.rec.lines = append(c.rec.lines[:0], c.rec.line1...)
		c.rec.multi = true
	}
	line, long, err := c.readLine()
	if (err == nil || errors.Is(err, io.EOF)) && (long || c.rec.start > 0 && c.rec.size+len(line) > c.maxRecord) {
		c.cutRecord(line, long)
		return nil, errRecordTooLong
	}
	c.handOver(line, err)
	return line, err
}

// handOver records that a line just read (by readLine, with err) goes to
// encoding/csv: it is the fedLines-th line encoding/csv reads, and the
// file's line c.lines.
func (c *csvRows) handOver(line []byte, err error) {
	if len(line) > 0 || err == nil {
		c.fedLines++
		c.delta = c.lines - c.fedLines
	}
	switch {
	case c.rec.start == 0 && len(trimEOL(line)) > 0:
		c.rec = csvRecord{start: c.lines, size: len(line), first: len(line), line1: line, lines: c.rec.lines}
	case c.rec.start > 0: // a line after the first (feedLine set multi)
		c.rec.size += len(line)
		c.rec.lines = append(c.rec.lines, line...)
	}
}

// cutRecord gives up the record encoding/csv reads, which line (long, if
// longer than c.maxRecord) would make too long: c.cut becomes its reject,
// and the lines after its first are to be read again, unless the record
// is the header or the first row, without which no row can be read.
func (c *csvRows) cutRecord(line []byte, long bool) {
	start := c.rec.start
	if start == 0 { // the line is the record
		c.cut = c.longLine(line)
	} else {
		c.cut = row{line: start, raw: truncate(c.rec.lines), reject: fmt.Sprintf(
			"the record from line %d on runs past %s (is a quote not closed?)", start, byteSize(c.maxRecord))}
	}
	switch {
	case len(c.cols) == 0 && c.header:
		c.cut.reject = "header: " + c.cut.reject
		return
	case len(c.cols) == 0:
		c.cut.reject += "; the file is skipped (its first row sets the number of columns)"
		return
	case start == 0:
		return // the line is read: nothing to read again
	}
	c.cut.reject += fmt.Sprintf("; read on from line %d", start+1)
	// What is left to read again goes first: the lines after the
	// record's first, the line at hand, then any lines that were still to
	// be read again.
	replay := c.rec.lines[c.rec.first:]
	if long {
		c.replayLong = truncate(line) // none is left: the line was read from the file
	} else {
		replay = append(replay, line...)
	}
	if c.replaying {
		replay = append(replay, c.replay...)
	}
	c.replay, c.replaying = replay, true
	c.rec.lines = nil // now replay's
	c.lines = start
}

// longLine is the reject of the line just read, longer than c.maxRecord.
func (c *csvRows) longLine(line []byte) row {
	return row{line: c.lines, raw: truncate(line), reject: fmt.Sprintf("line %d is longer than %s", c.lines, byteSize(c.maxRecord))}
}

// byteSize says n bytes in MiB if it is a whole number of them.
func byteSize(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// read reads a record with encoding/csv.
func (c *csvRows) read() ([]string, error) {
	rec, err := c.r.Read()
	c.rec = csvRecord{lines: c.rec.lines}
	return rec, err
}

// restart returns the reject of a record cut short, and starts a new
// encoding/csv reader for what follows; without columns, the file is done.
func (c *csvRows) restart() row {
	r := c.cut
	c.cut = row{}
	if len(c.cols) == 0 {
		c.done = true
		return r
	}
	comma := c.r.Comma
	c.feed.pending, c.feed.err = nil, nil
	c.r = csv.NewReader(&c.feed)
	c.r.Comma = comma
	c.r.ReuseRecord = true
	c.r.FieldsPerRecord = len(c.cols)
	c.fedLines = 0
	return r
}

func (c *csvRows) next() (row, error) {
	if c.done {
		return row{}, io.EOF
	}
	if c.started && len(c.feed.pending) == 0 && c.feed.err == nil {
		if r, ok := c.plainRow(); ok {
			return r, nil
		}
	}
	rec, err := c.read()
	if !c.started {
		c.started = true
		if err == nil {
			if reject := c.readHeader(rec); reject != "" {
				c.done = true // without columns no row can be read
				return row{line: 1, reject: reject, raw: c.rawOf(rec)}, nil
			}
			if c.header {
				rec, err = c.read()
			}
		}
	}
	if errors.Is(err, errRecordTooLong) {
		return c.restart(), nil
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return row{}, err // io.EOF or an I/O error
		}
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return row{line: pe.StartLine + c.delta, raw: c.rawOf(rec),
				reject: fmt.Sprintf("%d fields, want %d (one per column)", len(rec), len(c.cols))}, nil
		}
		if len(c.cols) == 0 { // the header itself is unreadable
			c.done = true
		}
		return row{line: pe.StartLine + c.delta, reject: fmt.Sprintf("invalid CSV: %v", pe.Err)}, nil
	}
	line, _ := c.r.FieldPos(0)
	line += c.delta
	if !c.latin1 && !validUTF8(rec) {
		return row{line: line, raw: c.rawOf(rec), reject: "invalid UTF-8 (if the file is Latin-1, set csv.encoding: latin-1)"}, nil
	}
	return c.record(line, rec), nil
}

// plainRow reads the next line and returns its record when the line is a
// plain row: not empty, without quotes, with one value per column, valid
// UTF-8 (or Latin-1), so that encoding/csv would read it as its values
// split at the delimiter. Any other line is left to encoding/csv.
func (c *csvRows) plainRow() (row, bool) {
	raw, long, err := c.readLine()
	if err != nil && !(errors.Is(err, io.EOF) && len(raw) > 0) {
		c.feed.pending, c.feed.err = raw, err
		c.handOver(raw, err)
		return row{}, false
	}
	if long {
		return c.longLine(raw), true
	}
	// encoding/csv takes \r\n for \n, and drops a \r at the end of the file.
	text := bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
	n := c.r.FieldsPerRecord
	if len(text) == 0 || n <= 0 || n != len(c.keys) || bytes.IndexByte(text, '"') >= 0 ||
		bytes.Count(text, c.comma)+1 != n || !c.latin1 && !utf8.Valid(text) {
		c.feed.pending, c.feed.err = raw, err
		c.handOver(raw, err)
		return row{}, false
	}
	size := 1
	for _, k := range c.keys {
		size += len(k) + 5 // a comma, and two quotes or null
	}
	size += len(text)
	buf := c.buf[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	buf = append(buf, '{')
	c.ends = c.ends[:0]
	for i := range n {
		f := text
		if j := bytes.Index(text, c.comma); j >= 0 {
			f, text = text[:j], text[j+len(c.comma):]
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, c.keys[i]...)
		if len(f) == 0 {
			buf = append(buf, "null"...)
		} else {
			buf = jsonenc.AppendBytes(buf, f)
		}
		c.ends = append(c.ends, len(buf))
	}
	return c.finish(c.lines, buf), true
}

// record builds the JSON object of a row: every value a string, an empty
// cell null.
func (c *csvRows) record(line int, rec []string) row {
	size := 1
	for i, f := range rec {
		size += len(c.keys[i]) + len(f) + 3 // a comma, two quotes
	}
	buf := c.buf[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	buf = append(buf, '{')
	c.ends = c.ends[:0]
	for i, f := range rec {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, c.keys[i]...)
		if f == "" {
			buf = append(buf, "null"...)
		} else {
			buf = jsonenc.AppendString(buf, f)
		}
		c.ends = append(c.ends, len(buf))
	}
	return c.finish(line, buf)
}

// finish closes the object in buf, whose values end at c.ends, and
// returns it as the row at line.
func (c *csvRows) finish(line int, buf []byte) row {
	buf = append(buf, '}')
	c.buf = buf
	c.members = c.members[:0]
	start := 1
	for i, end := range c.ends {
		start += len(c.keys[i])
		c.members = append(c.members, member{key: c.names[i], value: buf[start:end]})
		start = end + 1
	}
	return row{line: line, data: buf, members: c.members, fast: true}
}

// readHeader takes the column names from the first record, or generates
// them when the files have no header. It returns why the header is unusable.
func (c *csvRows) readHeader(rec []string) string {
	if !c.header {
		for i := range rec {
			c.cols = append(c.cols, "column_"+strconv.Itoa(i+1))
		}
		c.setKeys()
		return ""
	}
	if !c.latin1 && !validUTF8(rec) {
		return "header: invalid UTF-8 (if the file is Latin-1, set csv.encoding: latin-1)"
	}
	cols := slices.Clone(rec)
	seen := map[string]bool{}
	for i, col := range cols {
		if col == "" {
			return fmt.Sprintf("header: column %d has no name", i+1)
		}
		if seen[col] {
			return fmt.Sprintf("header: column name %q appears twice", col)
		}
		seen[col] = true
	}
	for _, req := range c.required {
		if !seen[req] {
			return fmt.Sprintf("header: no column %q (primary key or cursor field); columns are %q", req, cols)
		}
	}
	c.cols = cols
	c.setKeys()
	return ""
}

func (c *csvRows) setKeys() {
	for _, col := range c.cols {
		c.names = append(c.names, []byte(col))
		c.keys = append(c.keys, append(jsonenc.AppendString(nil, col), ':'))
	}
}

func (c *csvRows) rawOf(rec []string) []byte {
	return truncate([]byte(joinFields(rec, c.delim)))
}

func joinFields(rec []string, delim string) string {
	var b bytes.Buffer
	for i, f := range rec {
		if i > 0 {
			b.WriteString(delim)
		}
		b.WriteString(f)
	}
	return b.String()
}

func validUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

// jsonlRows reads JSON Lines: one object per line; blank lines are skipped.
type jsonlRows struct {
	r    *bufio.Reader
	line int
	buf  []byte // a line longer than r's buffer
	scan objectScanner
}

func newJSONLRows(r io.Reader) *jsonlRows {
	return &jsonlRows{r: bufio.NewReaderSize(r, 64<<10)}
}

func (j *jsonlRows) next() (row, error) {
	for {
		b, tooLong, err := j.readLine()
		if err != nil {
			return row{}, err
		}
		j.line++
		if j.line == 1 {
			b = bytes.TrimPrefix(b, utf8BOM)
		}
		if tooLong {
			return row{line: j.line, raw: truncate(b), reject: fmt.Sprintf("line longer than %d MiB", maxRecordBytes>>20)}, nil
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		r := parseObject(&j.scan, b)
		r.line = j.line
		return r, nil
	}
}

// readLine returns the next line without its line ending, valid until
// the next call. A line longer than maxRecordBytes is consumed to its end
// but only its start returned.
func (j *jsonlRows) readLine() (line []byte, tooLong bool, err error) {
	chunk, err := j.r.ReadSlice('\n')
	if err == nil { // the common case: the line is in the reader's buffer
		return trimEOL(chunk), false, nil
	}
	buf := j.buf[:0]
	for {
		if len(buf)+len(chunk) <= maxRecordBytes {
			buf = append(buf, chunk...)
		} else {
			tooLong = true
		}
		switch {
		case err == nil:
			j.buf = buf
			return trimEOL(buf), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			chunk, err = j.r.ReadSlice('\n')
		case errors.Is(err, io.EOF) && len(buf) > 0:
			j.buf = buf
			return bytes.TrimSuffix(buf, []byte("\r")), tooLong, nil
		default:
			return nil, false, err
		}
	}
}

func trimEOL(b []byte) []byte {
	return bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
}

// jsonRows reads a JSON array of objects, or objects one after another,
// one element at a time.
type jsonRows struct {
	scan    objectScanner
	lc      *lineCounter
	dec     *json.Decoder
	array   bool // the file is an array; its '[' is not yet consumed
	inArray bool
	done    bool
}

func newJSONRows(r io.Reader) *jsonRows {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	// Look at the first non-space byte to tell an array from a sequence
	// of objects, counting the newlines skipped on the way.
	lead := 0
	for {
		b, err := br.Peek(1)
		if err != nil || !bytes.ContainsAny(b, " \t\r\n") {
			lc := &lineCounter{r: br, passed: lead}
			return &jsonRows{lc: lc, dec: json.NewDecoder(lc), array: err == nil && b[0] == '['}
		}
		if b[0] == '\n' {
			lead++
		}
		br.Discard(1)
	}
}

func (j *jsonRows) next() (row, error) {
	if j.done {
		return row{}, io.EOF
	}
	if j.array && !j.inArray {
		j.inArray = true
		if _, err := j.dec.Token(); err != nil { // the opening bracket
			return j.syntaxReject(err)
		}
	}
	if j.inArray && !j.dec.More() {
		j.done = true
		if _, err := j.dec.Token(); err != nil { // the closing bracket
			return j.syntaxReject(err)
		}
		if _, err := j.dec.Token(); !errors.Is(err, io.EOF) {
			return row{line: j.lc.lineAt(j.dec.InputOffset()), reject: "invalid JSON: data after the closing ]"}, nil
		}
		return row{}, io.EOF
	}
	var raw json.RawMessage
	if err := j.dec.Decode(&raw); err != nil {
		if !j.inArray && errors.Is(err, io.EOF) {
			j.done = true
			return row{}, io.EOF
		}
		return j.syntaxReject(err)
	}
	r := parseObject(&j.scan, raw)
	r.line = j.lc.lineAt(j.dec.InputOffset()) - bytes.Count(raw, []byte("\n"))
	return r, nil
}

// syntaxReject turns a decoding error into a reject of the rest of the
// file: the decoder cannot find the next element after a syntax error.
// Errors of the underlying reader are returned as they are.
func (j *jsonRows) syntaxReject(err error) (row, error) {
	j.done = true
	if j.lc.err != nil && !errors.Is(j.lc.err, io.EOF) {
		return row{}, j.lc.err
	}
	reason := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		reason = "unexpected end of file"
	}
	return row{line: j.valueLine(), reject: "invalid JSON: " + reason + "; the rest of the file is skipped"}, nil
}

// valueLine is the line where the value the decoder failed on starts: a
// failed decode leaves the decoder before it, and only spaces and a comma
// can come first.
func (j *jsonRows) valueLine() int {
	off := j.dec.InputOffset()
	rest, _ := io.ReadAll(j.dec.Buffered())
	i := 0
	for i < len(rest) && bytes.IndexByte([]byte(" \t\r\n,"), rest[i]) >= 0 {
		i++
	}
	return j.lc.lineAt(off + int64(i))
}

// parseObject turns one JSON text into a record, or a reject. A record's
// data is scan's buffer, valid until its next call.
func parseObject(scan *objectScanner, b []byte) row {
	dst := scan.buf[:0]
	if cap(dst) < len(b) {
		dst = make([]byte, 0, len(b))
	}
	if data, ms, ok := scan.compact(dst, b); ok {
		scan.buf = data
		return row{data: data, members: ms, fast: true}
	}
	return parseObjectSlow(b)
}

// parseObjectSlow is parseObject through encoding/json, which decides
// what the fast path does not accept and says why a text is no record.
func parseObjectSlow(b []byte) row {
	if !utf8.Valid(b) {
		return row{raw: truncate(b), reject: "invalid UTF-8"}
	}
	v, err := decodeJSON(b)
	if err != nil {
		return row{raw: truncate(b), reject: "invalid JSON: " + err.Error()}
	}
	if _, ok := v.(map[string]any); !ok {
		return row{raw: truncate(b), reject: "not a JSON object"}
	}
	var data bytes.Buffer
	if err := json.Compact(&data, b); err != nil {
		return row{raw: truncate(b), reject: "invalid JSON: " + err.Error()}
	}
	return row{data: data.Bytes()}
}

func truncate(b []byte) []byte {
	if len(b) > maxRawBytes {
		b = b[:maxRawBytes]
	}
	return slices.Clone(b)
}

// lineCounter maps byte offsets of what it has read to line numbers. It
// keeps only the newlines past the last offset asked for, so its memory
// is bounded by the reader's read-ahead.
type lineCounter struct {
	r      io.Reader
	err    error   // the last error of r
	off    int64   // bytes read so far
	nl     []int64 // offsets of newlines not yet passed by lineAt
	passed int     // newlines before the last offset asked for
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			l.nl = append(l.nl, l.off+int64(i))
		}
	}
	l.off += int64(n)
	l.err = err
	return n, err
}

// lineAt returns the 1-based line of the byte at off. Offsets must not
// decrease from call to call.
func (l *lineCounter) lineAt(off int64) int {
	for len(l.nl) > 0 && l.nl[0] < off {
		l.nl = l.nl[1:]
		l.passed++
	}
	return l.passed + 1
}
