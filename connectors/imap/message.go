package imap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decodes non-UTF-8 charsets in headers and bodies
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Record is one record of the messages stream (see record.schema.json).
type Record struct {
	ID            string    `json:"id"`
	MessageID     string    `json:"message_id,omitempty"`
	InReplyTo     string    `json:"in_reply_to,omitempty"`
	References    []string  `json:"references,omitempty"`
	ThreadID      string    `json:"thread_id,omitempty"`
	From          []Address `json:"from"`
	To            []Address `json:"to"`
	Cc            []Address `json:"cc"`
	Bcc           []Address `json:"bcc"`
	Date          string    `json:"date,omitempty"`
	Subject       string    `json:"subject"`
	Size          int64     `json:"size"`
	Flags         []string  `json:"flags"`
	Mailbox       string    `json:"mailbox"`
	Direction     string    `json:"direction"`
	Counterpart   string    `json:"counterpart,omitempty"`
	Body          *string   `json:"body,omitempty"`
	BodyTruncated bool      `json:"body_truncated,omitempty"`
	UID           uint32    `json:"uid,omitempty"`
	UIDValidity   uint32    `json:"uid_validity,omitempty"`
	File          string    `json:"file,omitempty"`
	Offset        *int64    `json:"offset,omitempty"`
}

// Address is one parsed mailbox of an address list.
type Address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// rawMessage is what both the IMAP and the mbox reader hand to parse.
type rawMessage struct {
	header   []byte    // the header section, up to and including the blank line
	text     []byte    // the body, possibly cut; nil unless bodies are wanted
	textCut  bool      // text is a prefix of the body
	size     int64     // the whole message's size
	fallback time.Time // INTERNALDATE or the From line's date, for a missing Date
	flags    []string
	mailbox  string
}

var wordDecoder = mime.WordDecoder{CharsetReader: gomessage.CharsetReader}

// parse turns a raw message into a record (without ID and location).
// An error means the header section is unreadable; the caller rejects
// the message. Fields that are malformed on their own are kept as far as
// they can be read, never dropped with the rest of the message.
func parse(cfg *Config, m rawMessage, sent bool) (*Record, error) {
	th, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(m.header)))
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("header: %w", err)
	}
	h := mail.Header{Header: gomessage.Header{Header: th}}
	r := &Record{
		From:    addressList(h, "From"),
		To:      addressList(h, "To"),
		Cc:      addressList(h, "Cc"),
		Bcc:     addressList(h, "Bcc"),
		Subject: text(h, "Subject"),
		Size:    m.size,
		Flags:   m.flags,
		Mailbox: m.mailbox,
	}
	if r.Flags == nil {
		r.Flags = []string{}
	}
	r.MessageID = firstMsgID(field(h, "Message-Id"))
	r.InReplyTo = firstMsgID(field(h, "In-Reply-To"))
	r.References = msgIDs(field(h, "References"))
	switch {
	case len(r.References) > 0:
		r.ThreadID = r.References[0]
	case r.InReplyTo != "":
		r.ThreadID = r.InReplyTo
	default:
		r.ThreadID = r.MessageID
	}
	if d, err := netmail.ParseDate(field(h, "Date")); err == nil {
		r.Date = d.Format(time.RFC3339)
	} else if !m.fallback.IsZero() {
		r.Date = m.fallback.Format(time.RFC3339)
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

// counterpart is the customer's side: the sender of inbound mail, the
// first recipient of outbound mail that is not one of our own.
func counterpart(cfg *Config, r *Record) string {
	lists := [][]Address{r.From}
	if r.Direction == "out" {
		lists = [][]Address{r.To, r.Cc, r.Bcc}
	}
	for _, l := range lists {
		for _, a := range l {
			if a.Address != "" && !cfg.ownAddress(a.Address) {
				return a.Address
			}
		}
	}
	return ""
}

// field returns a header field's raw value as valid UTF-8. Raw 8-bit
// bytes that are not UTF-8 are taken as Latin-1, by far their most
// common source in old mail.
func field(h mail.Header, key string) string {
	return toUTF8(h.Get(key))
}

func toUTF8(s string) string {
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
func text(h mail.Header, key string) string {
	v := field(h, key)
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// addressList parses an RFC 5322 address list. When the whole list does
// not parse (a stray comma, an unquoted special), each comma-separated
// piece is tried alone, and a piece that still fails but holds an @ is
// kept as a bare address, so a sloppy header loses no recipient.
func addressList(h mail.Header, key string) []Address {
	v := field(h, key)
	out := []Address{}
	if strings.TrimSpace(v) == "" {
		return out
	}
	if l, err := mail.ParseAddressList(v); err == nil {
		for _, a := range l {
			out = append(out, Address{Name: strings.ToValidUTF8(a.Name, "\uFFFD"), Address: a.Address})
		}
		return out
	}
	for _, piece := range strings.Split(v, ",") {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		if a, err := mail.ParseAddress(piece); err == nil {
			out = append(out, Address{Name: strings.ToValidUTF8(a.Name, "\uFFFD"), Address: a.Address})
		} else if addr := bareAddress(piece); addr != "" {
			out = append(out, Address{Address: addr})
		}
	}
	return out
}

// bareAddress finds an address in "Name <a@b>" or "a@b" shaped text.
func bareAddress(s string) string {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = s[i+1 : i+j]
		}
	}
	for _, tok := range strings.Fields(s) {
		tok = strings.Trim(tok, "<>\"'();")
		if at := strings.IndexByte(tok, '@'); at > 0 && at < len(tok)-1 {
			return tok
		}
	}
	return ""
}

// msgIDs reads <id> tokens; text between them (comments, garbage) is
// skipped. A header without brackets yields its words, since some
// clients write bare ids.
func msgIDs(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(v[i+1 : i+j]); id != "" {
			ids = append(ids, id)
		}
		v = v[i+j+1:]
	}
	if ids == nil {
		for _, w := range strings.Fields(v) {
			if strings.Contains(w, "@") {
				ids = append(ids, w)
			}
		}
	}
	return ids
}

func firstMsgID(v string) string {
	if ids := msgIDs(v); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// plainText returns the first text/plain part that is not an attachment,
// decoded to UTF-8 and cut to max bytes on a character boundary.
func plainText(header, body []byte, max int) (string, bool) {
	e, err := gomessage.Read(io.MultiReader(bytes.NewReader(header), bytes.NewReader(body)))
	if e == nil {
		return "", false
	}
	if err != nil && !gomessage.IsUnknownCharset(err) {
		return "", false
	}
	var found []byte
	_ = e.Walk(func(_ []int, part *gomessage.Entity, err error) error {
		if err != nil && !gomessage.IsUnknownCharset(err) {
			return err // a cut multipart: stop with what was found
		}
		t, _, _ := part.Header.ContentType()
		if t == "" {
			t = "text/plain"
		}
		if disp, _, _ := part.Header.ContentDisposition(); t != "text/plain" || disp == "attachment" {
			return nil
		}
		b, rerr := io.ReadAll(io.LimitReader(part.Body, int64(max)+1))
		if len(b) == 0 && rerr != nil {
			return nil
		}
		found = b
		return errStopWalk
	})
	valid := []byte(strings.ToValidUTF8(string(found), "\uFFFD"))
	return string(cutUTF8(valid, max)), len(found) > max || len(valid) > max
}

var errStopWalk = errors.New("stop walking")

// cutUTF8 cuts b to at most n bytes without splitting a character.
func cutUTF8(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return b
}
