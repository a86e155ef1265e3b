package imap

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// header holds the raw values of the fields parse reads: of each, the
// first occurrence, unfolded as go-message's textproto does it.
type header struct {
	from, to, cc, bcc, subject, messageID, inReplyTo, references, date string

	found uint16 // readHeaderFast: bit i set once field i is read
}

// readHeader reads a header section. A section of well-formed lines takes
// a fast path that finds the same values as textproto.ReadHeader without
// building its map of every field; anything else (and every malformed
// line, whose error text the reject carries) goes through textproto.
func readHeader(b []byte) (header, error) {
	if h, ok := readHeaderFast(b); ok {
		return h, nil
	}
	th, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b)))
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return header{}, err
	}
	return header{
		from:       th.Get("From"),
		to:         th.Get("To"),
		cc:         th.Get("Cc"),
		bcc:        th.Get("Bcc"),
		subject:    th.Get("Subject"),
		messageID:  th.Get("Message-Id"),
		inReplyTo:  th.Get("In-Reply-To"),
		references: th.Get("References"),
		date:       th.Get("Date"),
	}, nil
}

// readHeaderFast mirrors textproto.ReadHeader: a line is split at "\n"
// and loses that and one "\r" before it; a line starting with a space or
// tab continues the field; the section ends at an empty line or the end
// of b. A field's value is the trimmed (spaces and tabs) text after the
// first colon and each trimmed continuation line, empty ones left out,
// joined by single spaces. It gives up (ok false) where ReadHeader would
// fail: a first line that starts with a space, a field without a colon,
// a name with a byte outside 33-126.
func readHeaderFast(b []byte) (h header, ok bool) {
	if len(b) > 0 && isSpace(b[0]) {
		return header{}, false
	}
	s := string(b) // one copy; single-line values are substrings of it
	for pos := 0; pos < len(s); {
		line, next := headerLine(s, pos)
		if line == "" {
			break // the blank line ending the section
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			return header{}, false
		}
		name := trimSpaceTab(line[:colon])
		for i := 0; i < len(name); i++ {
			if name[i] < 33 || name[i] > 126 {
				return header{}, false
			}
		}
		value := trimSpaceTab(line[colon+1:])
		var folded []string
		for next < len(s) && isSpace(s[next]) {
			var cont string
			cont, next = headerLine(s, next)
			if cont = trimSpaceTab(cont); cont != "" {
				folded = append(folded, cont)
			}
		}
		pos = next
		// A name parse does not read, or an empty one, is skipped.
		if i, dst := h.slot(name); dst != nil && h.found&(1<<i) == 0 {
			*dst = unfold(value, folded)
			h.found |= 1 << i
		}
	}
	return h, true
}

// headerLine returns the line starting at pos without its "\n" and one
// "\r" before that, and where the next line starts.
func headerLine(s string, pos int) (line string, next int) {
	i := strings.IndexByte(s[pos:], '\n')
	if i < 0 {
		return s[pos:], len(s)
	}
	return strings.TrimSuffix(s[pos:pos+i], "\r"), pos + i + 1
}

func unfold(first string, folded []string) string {
	if len(folded) == 0 {
		return first
	}
	parts := folded
	if first != "" {
		parts = append([]string{first}, folded...)
	}
	return strings.Join(parts, " ")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func trimSpaceTab(s string) string {
	for s != "" && isSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// slot returns the number of the field and where its value goes, nil
// for a field parse does not read. Names compare case-insensitively, as
// textproto's canonical keys do for names of letters and hyphens.
func (h *header) slot(name string) (int, *string) {
	var want string
	var i int
	var dst *string
	switch len(name) {
	case 2:
		want, i, dst = "To", 1, &h.to
		if name[0]|0x20 == 'c' {
			want, i, dst = "Cc", 2, &h.cc
		}
	case 3:
		want, i, dst = "Bcc", 3, &h.bcc
	case 4:
		want, i, dst = "From", 0, &h.from
		if name[0]|0x20 == 'd' {
			want, i, dst = "Date", 8, &h.date
		}
	case 7:
		want, i, dst = "Subject", 4, &h.subject
	case 10:
		want, i, dst = "Message-Id", 5, &h.messageID
		if name[0]|0x20 == 'r' {
			want, i, dst = "References", 7, &h.references
		}
	case 11:
		want, i, dst = "In-Reply-To", 6, &h.inReplyTo
	default:
		return 0, nil
	}
	if !strings.EqualFold(name, want) {
		return 0, nil
	}
	return i, dst
}

// rfc5322Date is the layout nearly every mail's Date field has.
const rfc5322Date = "Mon, 2 Jan 2006 15:04:05 -0700"

// parseDate is netmail.ParseDate with a shortcut for the common layout.
// ParseDate cuts the value 5 bytes after its first "+" or "-" and tries
// its layouts in order: those without a weekday fail on a value starting
// with a letter, and the first with one is rfc5322Date. So when the
// value starts with a letter, its first sign starts its last 5 bytes and
// it parses as rfc5322Date, ParseDate returns just that.
func parseDate(v string) (time.Time, error) {
	if v != "" && isLetter(v[0]) && strings.IndexAny(v, "+-") == len(v)-5 {
		if t, err := time.Parse(rfc5322Date, v); err == nil {
			return t, nil
		}
	}
	return netmail.ParseDate(v)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
