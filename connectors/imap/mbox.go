package imap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// mboxMessage is one message of an mbox file, its "From " line removed and
// mboxrd quoting (">From " → "From ") undone.
type mboxMessage struct {
	offset   int64 // of the "From " line
	end      int64 // where the next message's "From " line starts (or EOF)
	fromLine string
	data     []byte // at most the reader's keep bytes
	size     int64  // the whole message, even past keep
}

// mboxReader splits an mbox stream. A message starts at a line beginning
// with "From " at the start of the stream or after an empty line, the
// common ground of the mboxo, mboxrd and mboxcl variants; CRLF line ends
// are accepted. The empty line before a "From " line is the separator,
// not part of the message.
type mboxReader struct {
	br    *bufio.Reader
	pos   int64  // stream offset of the next byte of br
	keep  int    // bytes of each message kept in memory
	next  []byte // a "From " line already read (in held), starting the next message
	held  []byte
	blank []byte      // an empty line held back: separator or content
	long  []byte      // a line longer than br's buffer
	msg   mboxMessage // the message Next returns, reused
	err   error
}

func newMboxReader(r io.Reader, base int64, keep int) *mboxReader {
	return &mboxReader{br: bufio.NewReaderSize(r, 64<<10), pos: base, keep: keep}
}

// errNotMbox means the stream does not start with a "From " line.
var errNotMbox = errors.New(`not an mbox file: it does not start with a "From " line`)

// Next returns the next message, or io.EOF after the last one. The
// message (and its data) is valid until the next call.
func (r *mboxReader) Next() (*mboxMessage, error) {
	if r.err != nil {
		return nil, r.err
	}
	start := r.pos
	first := r.next
	if first == nil {
		line, err := r.readLine()
		if len(line) == 0 && err != nil {
			r.err = err
			return nil, err
		}
		if !isFromLine(line) {
			r.err = fmt.Errorf("offset %d: %w", start, errNotMbox)
			return nil, r.err
		}
		first = line
	} else {
		start -= int64(len(first))
	}
	r.next = nil
	m := &r.msg
	*m = mboxMessage{offset: start, fromLine: string(bytes.TrimRight(first, "\r\n")), data: m.data[:0]}
	var blank []byte // a pending empty line (in r.blank): separator or content
	for {
		lineStart := r.pos
		line, err := r.readLine()
		if len(line) > 0 {
			if blank != nil && isFromLine(line) {
				r.held = append(r.held[:0], line...)
				r.next = r.held
				m.end = lineStart
				return m, nil
			}
			if blank != nil {
				m.add(blank, r.keep)
				blank = nil
			}
			if isBlankLine(line) {
				r.blank = append(r.blank[:0], line...)
				blank = r.blank
			} else {
				m.add(unquoteFrom(line), r.keep)
			}
		}
		if err != nil {
			if blank != nil && !errors.Is(err, io.EOF) {
				m.add(blank, r.keep)
			}
			if !errors.Is(err, io.EOF) {
				r.err = err
				return nil, err
			}
			r.err = io.EOF
			m.end = r.pos
			return m, nil
		}
	}
}

// readLine reads a line with its line end, of any length. The line is
// valid until the next call.
func (r *mboxReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	r.pos += int64(len(line))
	return line, err
}

func (m *mboxMessage) add(line []byte, keep int) {
	m.size += int64(len(line))
	if room := keep - len(m.data); room > 0 {
		m.data = append(m.data, line[:min(room, len(line))]...)
	}
}

func isFromLine(line []byte) bool { return bytes.HasPrefix(line, []byte("From ")) }

// isBlankLine reports whether line holds nothing but "\r" and "\n".
func isBlankLine(line []byte) bool {
	for _, c := range line {
		if c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// unquoteFrom undoes mboxrd quoting: one ">" is removed from a line
// matching ^>+From . (In mboxo only ">From " was quoted, and unquoting it
// is the usual reading as well.)
func unquoteFrom(line []byte) []byte {
	if line[0] != '>' {
		return line
	}
	rest := bytes.TrimLeft(line, ">")
	if len(rest) < len(line) && bytes.HasPrefix(rest, []byte("From ")) {
		return line[1:]
	}
	return line
}

// fromLineDate reads the date of "From sender Mon Jan  2 15:04:05 2006",
// in UTC as the format has no zone; zero when there is none.
func fromLineDate(line string) time.Time {
	f := strings.Fields(line)
	if len(f) < 7 {
		return time.Time{}
	}
	// The date is the last five fields: weekday, month, day, time, year.
	t, err := time.Parse("Mon Jan 2 15:04:05 2006", strings.Join(f[len(f)-5:], " "))
	if err != nil {
		return time.Time{}
	}
	return t
}

// splitHeader separates the header section (with its empty line) from
// the body.
func splitHeader(data []byte) (header, body []byte) {
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			break
		}
		line := data[i : i+j+1]
		i += j + 1
		if isBlankLine(line) {
			return data[:i], data[i:]
		}
	}
	return data, nil
}
