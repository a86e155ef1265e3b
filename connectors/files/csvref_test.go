package files

// csvRowsRef is csvRows as it was before it read plain lines itself: every
// row through encoding/csv. The tests check that csvRows reads every input
// exactly as it does.

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/transform"

	"github.com/desilo/desilo/connectors/internal/jsonenc"
)

type csvRowsRef struct {
	r        *csv.Reader
	cols     []string
	names    [][]byte // cols as bytes, for members
	keys     [][]byte // cols as JSON object keys: "name":
	ends     []int    // scratch: where each value ends in a record
	members  []member // scratch, reused from row to row
	delim    string
	latin1   bool
	header   bool
	required []string
	started  bool
	done     bool
}

func newCSVRowsRef(r io.Reader, ff fileFormat, required []string) *csvRowsRef {
	if ff.latin1 {
		r = transform.NewReader(r, latin1{})
	} else {
		br := bufio.NewReader(r)
		if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
			br.Discard(len(utf8BOM))
		}
		r = br
	}
	cr := csv.NewReader(r)
	cr.Comma = ff.delimiter
	cr.ReuseRecord = true
	return &csvRowsRef{r: cr, delim: string(ff.delimiter), latin1: ff.latin1, header: ff.header, required: required}
}

func (c *csvRowsRef) next() (row, error) {
	if c.done {
		return row{}, io.EOF
	}
	rec, err := c.r.Read()
	if !c.started {
		c.started = true
		if err == nil {
			if reject := c.readHeader(rec); reject != "" {
				c.done = true // without columns no row can be read
				return row{line: 1, reject: reject, raw: c.rawOf(rec)}, nil
			}
			if c.header {
				rec, err = c.r.Read()
			}
		}
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return row{}, err // io.EOF or an I/O error
		}
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return row{line: pe.StartLine, raw: c.rawOf(rec),
				reject: fmt.Sprintf("%d fields, want %d (one per column)", len(rec), len(c.cols))}, nil
		}
		if len(c.cols) == 0 { // the header itself is unreadable
			c.done = true
		}
		return row{line: pe.StartLine, reject: fmt.Sprintf("invalid CSV: %v", pe.Err)}, nil
	}
	line, _ := c.r.FieldPos(0)
	if !c.latin1 && !validUTF8(rec) {
		return row{line: line, raw: c.rawOf(rec), reject: "invalid UTF-8 (if the file is Latin-1, set csv.encoding: latin-1)"}, nil
	}
	return c.record(line, rec), nil
}

// record builds the JSON object of a row: every value a string, an empty
// cell null.
func (c *csvRowsRef) record(line int, rec []string) row {
	size := 1
	for i, f := range rec {
		size += len(c.keys[i]) + len(f) + 3 // a comma, two quotes
	}
	buf := make([]byte, 0, size)
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
	buf = append(buf, '}')
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
func (c *csvRowsRef) readHeader(rec []string) string {
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

func (c *csvRowsRef) setKeys() {
	for _, col := range c.cols {
		c.names = append(c.names, []byte(col))
		c.keys = append(c.keys, append(jsonenc.AppendString(nil, col), ':'))
	}
}

func (c *csvRowsRef) rawOf(rec []string) []byte {
	return truncate([]byte(joinFields(rec, c.delim)))
}

// failingReader reads r, then fails with errBroken after n bytes.
type failingReader struct {
	r io.Reader
	n int
}

var errBroken = errors.New("broken")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBroken
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// chunkReader hands out at most n bytes a read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// checkCSVLikeRef reads data with csvRows and with csvRowsRef and fails
// unless they give the same rows and errors. failAt > 0 breaks the input
// after that many bytes; chunk > 0 hands it out in chunks of that size.
func checkCSVLikeRef(t *testing.T, data []byte, ff fileFormat, failAt, chunk int) {
	t.Helper()
	input := func() io.Reader {
		var r io.Reader = bytes.NewReader(data)
		if failAt > 0 {
			r = &failingReader{r: r, n: failAt}
		}
		if chunk > 0 {
			r = &chunkReader{r: r, n: chunk}
		}
		return r
	}
	got := newCSVRows(input(), ff, []string{"id"})
	want := newCSVRowsRef(input(), ff, []string{"id"})
	for i := 0; ; i++ {
		g, gerr := got.next()
		w, werr := want.next()
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("row %d of %q: error %v, encoding/csv alone: %v", i, data, gerr, werr)
		}
		if !equalRows(g, w) {
			t.Fatalf("row %d of %q (%+v):\n got %s\nwant %s", i, data, ff, showRow(g), showRow(w))
		}
		if werr != nil {
			return
		}
		if i > len(data)+2 {
			t.Fatal("no end of input")
		}
	}
}

func equalRows(a, b row) bool {
	if a.line != b.line || !bytes.Equal(a.data, b.data) || a.reject != b.reject || !bytes.Equal(a.raw, b.raw) ||
		a.fast != b.fast || len(a.members) != len(b.members) {
		return false
	}
	for i := range a.members {
		x, y := a.members[i], b.members[i]
		if !bytes.Equal(x.key, y.key) || !bytes.Equal(x.value, y.value) || x.escaped != y.escaped {
			return false
		}
	}
	return true
}

func showRow(r row) string {
	return fmt.Sprintf("line %d data %q reject %q raw %q fast %v members %d", r.line, r.data, r.reject, r.raw, r.fast, len(r.members))
}

// csvSeeds are inputs for the CSV equivalence tests: plain rows, and all
// that the plain path leaves to encoding/csv.
var csvSeeds = []string{
	"id,name\n1,a\n2,b\n",
	"id,name\r\n1,a\r\n2,\r\n",
	"id,name\n1,a\n\n\n2,b",
	"id,name\n1,a\r",
	"id,name\n1,a\r\r\n2,b\r\r",
	"id,name\n1,\"a\nb\"\n2,c\n3,\"d\"\"e\"\n",
	"id,name\n1,a\"b\n2,c\n",
	"id,name\n1,\"a\"b\n2,c\n",
	"id,name\n1,\"abc\n2,c\n",
	"id,name\n1\n1,2,3\n4,5\n",
	"id,name\n\xff,a\n1,b\n",
	"\xef\xbb\xbfid,name\n1,\xe9\n",
	"\xef\xbb\xbf\"id\",\"name\"\r\n\"1\",\"a\"\r\n2,b\r\n",
	"\xef\xbb\xbf1,a\n2,b\n",
	"\xef\xbb\xbf\xef\xbb\xbfid\n1\n",
	"id\n\n\n1\n",
	"id,id\n1,2\n",
	",a\n1,2\n",
	"\"id\",\"x\"\n1,<&>\u2028\\\"\n",
	"id,\"multi\nline\"\n1,2\n\"3\n\",4\n5,6",
	"id;x\n1;2\n3,4;5\n",
	"id\t€x\n1€2\n",
	"id,x\n1,\r2\n3,4\r\n",
	"\"\n",
	"",
	"\n\n",
	"id,name\n1,a\n2,\"b\n",
}

func TestCSVRowsLikeEncodingCSV(t *testing.T) {
	long := "id,pad\n" + strings.Repeat("1,"+strings.Repeat("x", 70000)+"\n", 2) + "2,\"" + strings.Repeat("y\n", 40000) + "\"\n3,z\n"
	for _, s := range append(slices.Clone(csvSeeds), long) {
		for _, ff := range csvFormats {
			for _, failAt := range []int{0, 1, 5, 9, 17, len(s) - 1} {
				for _, chunk := range []int{0, 1, 3} {
					checkCSVLikeRef(t, []byte(s), ff, failAt, chunk)
				}
			}
		}
	}
}

var csvFormats = []fileFormat{
	{format: formatCSV, delimiter: ',', header: true},
	{format: formatCSV, delimiter: ',', header: false},
	{format: formatCSV, delimiter: ',', header: true, latin1: true},
	{format: formatCSV, delimiter: ';', header: true},
	{format: formatCSV, delimiter: '€', header: false},
}

func FuzzCSVRowsLikeEncodingCSV(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add([]byte(s), uint8(0), uint16(0), uint8(0))
	}
	f.Add([]byte("id,name\n1,a\n2,b\n"), uint8(1), uint16(9), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, format uint8, failAt uint16, chunk uint8) {
		checkCSVLikeRef(t, data, csvFormats[int(format)%len(csvFormats)], int(failAt), int(chunk))
	})
}
