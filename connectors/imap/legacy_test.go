package imap

// The parser as it was before the fast paths (header fields through
// go-message's textproto, dates through net/mail, addresses parsed every
// time, records encoded by encoding/json), kept verbatim as the oracle
// of TestFastPathsEquivalent and FuzzFastPathsEquivalent; so is the mbox
// reader, for FuzzMboxReaderEquivalent.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// legacyFallback is the old emitMbox's fallback: the From line's date,
// always parsed.
func legacyFallback(m rawMessage) time.Time {
	if m.fromLine != "" {
		return fromLineDate(m.fromLine)
	}
	return m.fallback
}

// parse turns a raw message into a record (without ID and location).
// An error means the header section is unreadable; the caller rejects
// the message. Fields that are malformed on their own are kept as far as
// they can be read, never dropped with the rest of the message.
func legacyParse(cfg *Config, m rawMessage, sent bool) (*Record, error) {
	th, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(m.header)))
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("header: %w", err)
	}
	h := mail.Header{Header: gomessage.Header{Header: th}}
	r := &Record{
		From:    legacyAddressList(h, "From"),
		To:      legacyAddressList(h, "To"),
		Cc:      legacyAddressList(h, "Cc"),
		Bcc:     legacyAddressList(h, "Bcc"),
		Subject: legacyText(h, "Subject"),
		Size:    m.size,
		Flags:   m.flags,
		Mailbox: m.mailbox,
	}
	if r.Flags == nil {
		r.Flags = []string{}
	}
	r.MessageID = firstMsgID(legacyField(h, "Message-Id"))
	r.InReplyTo = firstMsgID(legacyField(h, "In-Reply-To"))
	r.References = msgIDs(legacyField(h, "References"))
	switch {
	case len(r.References) > 0:
		r.ThreadID = r.References[0]
	case r.InReplyTo != "":
		r.ThreadID = r.InReplyTo
	default:
		r.ThreadID = r.MessageID
	}
	if d, err := netmail.ParseDate(legacyField(h, "Date")); err == nil {
		r.Date = d.Format(time.RFC3339)
	} else if fallback := legacyFallback(m); !fallback.IsZero() {
		r.Date = fallback.Format(time.RFC3339)
	}

	r.Direction = "in"
	if sent || (len(r.From) > 0 && cfg.ownAddress(r.From[0].Address)) {
		r.Direction = "out"
	}
	r.Counterpart = counterpart(cfg, r)

	if cfg.Bodies {
		body, cut := plainText(m.header, m.text, cfg.BodyMaxBytes)
		r.Body = &body
		r.BodyTruncated = cut || (m.textCut && body == "")
	}
	return r, nil
}

// field returns a header field's raw value as valid UTF-8. Raw 8-bit
// bytes that are not UTF-8 are taken as Latin-1, by far their most
// common source in old mail.
func legacyField(h mail.Header, key string) string {
	return legacyToUTF8(h.Get(key))
}

func legacyToUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// text decodes encoded words; an undecodable word stays as it was.
func legacyText(h mail.Header, key string) string {
	v := legacyField(h, key)
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// legacyAddressList is a header's address list, as parseAddressList reads
// it.
func legacyAddressList(h mail.Header, key string) []Address {
	// The list parsing itself is not a fast path: both sides share it.
	return parseAddressList(legacyField(h, key))
}

// legacyMboxReader is the mbox reader before it reused its line buffers.
// It splits an mbox stream. A message starts at a line beginning
// with "From " at the start of the stream or after an empty line, the
// common ground of the mboxo, mboxrd and mboxcl variants; CRLF line ends
// are accepted. The empty line before a "From " line is the separator,
// not part of the message.
type legacyMboxReader struct {
	br   *bufio.Reader
	pos  int64  // stream offset of the next byte of br
	keep int    // bytes of each message kept in memory
	next []byte // a "From " line already read, starting the next message
	err  error
}

func newLegacyMboxReader(r io.Reader, base int64, keep int) *legacyMboxReader {
	return &legacyMboxReader{br: bufio.NewReaderSize(r, 64<<10), pos: base, keep: keep}
}

// Next returns the next message, or io.EOF after the last one.
func (r *legacyMboxReader) Next() (*mboxMessage, error) {
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
	m := &mboxMessage{offset: start, fromLine: strings.TrimRight(string(first), "\r\n")}
	var blank []byte // a pending empty line: separator or content
	for {
		lineStart := r.pos
		line, err := r.readLine()
		if len(line) > 0 {
			if blank != nil && isFromLine(line) {
				r.next = line
				m.end = lineStart
				return m, nil
			}
			if blank != nil {
				m.add(blank, r.keep)
				blank = nil
			}
			if isBlankLine(line) {
				blank = line
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

// readLine reads a line with its line end, of any length.
func (r *legacyMboxReader) readLine() ([]byte, error) {
	line, err := r.br.ReadBytes('\n')
	r.pos += int64(len(line))
	return line, err
}
