package imap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decodes non-UTF-8 charsets in headers and bodies
	"github.com/emersion/go-message/mail"
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
	fallback time.Time // INTERNALDATE, for a missing Date
	fromLine string    // an mbox message's "From " line, whose date is the fallback
	flags    []string
	mailbox  string
}

var wordDecoder = mime.WordDecoder{CharsetReader: gomessage.CharsetReader}

// parser turns raw messages into records. It remembers parsed address
// lists: the same few senders and recipients (our own addresses, the two
// sides of a thread) recur message after message, and parsing them is the
// costliest part of a header.
//
// So it does subjects: replies repeat their thread's subject, and
// decoding encoded words costs more than looking one up.
type parser struct {
	cfg      *Config
	addrs    map[string][]Address
	subjects map[string]string
	own      []string // cfg.OwnAddresses as ownAddress compares them
	rec      Record   // the record parse returns, reused
}

// maxCachedLists bounds the address cache, maxCachedSubjects the subject
// cache; each is emptied when full.
const (
	maxCachedLists    = 4096
	maxCachedSubjects = 1024
)

func newParser(cfg *Config) *parser {
	p := &parser{cfg: cfg, addrs: make(map[string][]Address), subjects: make(map[string]string)}
	for _, o := range cfg.OwnAddresses {
		p.own = append(p.own, strings.ToLower(strings.TrimSpace(o)))
	}
	return p
}

// ownAddress is cfg.ownAddress without lowering the configured addresses
// on every call.
func (p *parser) ownAddress(addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return false
	}
	for _, o := range p.own {
		if o == addr || (strings.HasPrefix(o, "@") && strings.HasSuffix(addr, o)) {
			return true
		}
	}
	return false
}

// counterpart is the package's counterpart through p.ownAddress.
func (p *parser) counterpart(r *Record) string {
	if r.Direction != "out" {
		return p.firstOther(r.From)
	}
	for _, l := range [...][]Address{r.To, r.Cc, r.Bcc} {
		if a := p.firstOther(l); a != "" {
			return a
		}
	}
	return ""
}

func (p *parser) firstOther(l []Address) string {
	for _, a := range l {
		if a.Address != "" && !p.ownAddress(a.Address) {
			return a.Address
		}
	}
	return ""
}

// parse turns a raw message into a record (without ID and location),
// valid until the next call: the caller encodes it before that.
// An error means the header section is unreadable; the caller rejects
// the message. Fields that are malformed on their own are kept as far as
// they can be read, never dropped with the rest of the message.
func (p *parser) parse(m rawMessage, sent bool) (*Record, error) {
	h, err := readHeader(m.header)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	cfg := p.cfg
	r := &p.rec
	*r = Record{
		From:    p.addressList(h.from),
		To:      p.addressList(h.to),
		Cc:      p.addressList(h.cc),
		Bcc:     p.addressList(h.bcc),
		Subject: p.subject(h.subject),
		Size:    m.size,
		Flags:   m.flags,
		Mailbox: m.mailbox,
	}
	if r.Flags == nil {
		r.Flags = []string{}
	}
	r.MessageID = firstMsgID(toUTF8(h.messageID))
	r.InReplyTo = firstMsgID(toUTF8(h.inReplyTo))
	r.References = msgIDs(toUTF8(h.references))
	switch {
	case len(r.References) > 0:
		r.ThreadID = r.References[0]
	case r.InReplyTo != "":
		r.ThreadID = r.InReplyTo
	default:
		r.ThreadID = r.MessageID
	}
	if d, ok := fastDateRFC3339(h.date); ok {
		r.Date = d
	} else if d, err := parseDate(toUTF8(h.date)); err == nil {
		r.Date = d.Format(time.RFC3339)
	} else if fallback := m.fallbackDate(); !fallback.IsZero() {
		r.Date = fallback.Format(time.RFC3339)
	}

	r.Direction = "in"
	if sent || (len(r.From) > 0 && p.ownAddress(r.From[0].Address)) {
		r.Direction = "out"
	}
	r.Counterpart = p.counterpart(r)

	if cfg.Bodies {
		body, cut := plainText(m.header, m.text, cfg.BodyMaxBytes)
		r.Body = &body
		r.BodyTruncated = cut || (m.textCut && body == "")
	}
	return r, nil
}

// fallbackDate is the date for a message without a readable Date field.
// The From line's date is parsed only then, which is rarely.
func (m rawMessage) fallbackDate() time.Time {
	if m.fallback.IsZero() && m.fromLine != "" {
		return fromLineDate(m.fromLine)
	}
	return m.fallback
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

// toUTF8 makes a raw header value valid UTF-8. Raw 8-bit bytes that are
// not UTF-8 are taken as Latin-1, by far their most common source in old
// mail.
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
func text(raw string) string {
	v := toUTF8(raw)
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// addressList parses a raw address list header value through the cache.
// The cached lists are shared between records, which never change them.
func (p *parser) addressList(raw string) []Address {
	if raw == "" {
		return noAddresses // what parseAddressList gives, without a look-up
	}
	if l, ok := p.addrs[raw]; ok {
		return l
	}
	// A clone, so the key does not pin the whole header section; parsed
	// from the clone, so neither do the substrings the fast path returns.
	key := strings.Clone(raw)
	l, ok := fastAddressList(key)
	if !ok {
		l = parseAddressList(toUTF8(key))
	}
	if len(p.addrs) >= maxCachedLists {
		clear(p.addrs)
	}
	p.addrs[key] = l
	return l
}

// subject is text(raw) through the subject cache.
func (p *parser) subject(raw string) string {
	if s, ok := p.subjects[raw]; ok {
		return s
	}
	if !strings.Contains(raw, "=?") && utf8.ValidString(raw) {
		return raw // what text returns, as cheaply as a look-up
	}
	s := text(raw)
	if len(p.subjects) >= maxCachedSubjects {
		clear(p.subjects)
	}
	p.subjects[strings.Clone(raw)] = s
	return s
}

// noAddresses is the empty list; like every cached list, records share it
// and never change it.
var noAddresses = []Address{}

// parseAddressList parses an RFC 5322 address list. When the whole list
// does not parse (a stray comma, an unquoted special, addresses separated
// by ";" or spaces, as some clients write them), each piece between
// commas and semicolons is tried alone, and a piece that still fails
// keeps every address it holds as a bare one, so a sloppy header loses
// no recipient.
func parseAddressList(v string) []Address {
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
	for _, piece := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		if a, err := mail.ParseAddress(piece); err == nil {
			out = append(out, Address{Name: strings.ToValidUTF8(a.Name, "\uFFFD"), Address: a.Address})
			continue
		}
		if addr := bareAddress(piece); strings.Contains(piece, "<") && addr != "" {
			out = append(out, Address{Address: addr})
			continue
		}
		for _, tok := range strings.Fields(piece) {
			if addr := bareAddress(tok); addr != "" {
				out = append(out, Address{Address: addr})
			}
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
func msgIDs(v string) []string { return slices.Collect(msgIDSeq(v)) }

// firstMsgID is msgIDs(v)[0] (or "" when there is none) without building
// the list.
func firstMsgID(v string) string {
	for id := range msgIDSeq(v) {
		return id
	}
	return ""
}

// msgIDSeq yields the ids msgIDs lists, one at a time.
func msgIDSeq(v string) iter.Seq[string] {
	return func(yield func(string) bool) {
		found := false
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
				found = true
				if !yield(id) {
					return
				}
			}
			v = v[i+j+1:]
		}
		if found {
			return
		}
		for w := range strings.FieldsSeq(v) {
			if strings.Contains(w, "@") && !yield(w) {
				return
			}
		}
	}
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
