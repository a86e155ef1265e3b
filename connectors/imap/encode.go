package imap

import (
	"strconv"
	"unicode/utf8"
)

// appendRecord appends r encoded exactly as encoding/json encodes it
// (field order, omitempty, HTML-safe string escaping), without its
// reflection and allocations: encoding is a good part of a message's
// cost. TestAppendRecordMatchesJSON holds it to json.Marshal.
func appendRecord(b []byte, r *Record) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, r.ID)
	b = appendOptString(b, `,"message_id":`, r.MessageID)
	b = appendOptString(b, `,"in_reply_to":`, r.InReplyTo)
	if len(r.References) > 0 {
		b = append(b, `,"references":[`...)
		for i, id := range r.References {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, id)
		}
		b = append(b, ']')
	}
	b = appendOptString(b, `,"thread_id":`, r.ThreadID)
	b = appendAddresses(append(b, `,"from":`...), r.From)
	b = appendAddresses(append(b, `,"to":`...), r.To)
	b = appendAddresses(append(b, `,"cc":`...), r.Cc)
	b = appendAddresses(append(b, `,"bcc":`...), r.Bcc)
	b = appendOptString(b, `,"date":`, r.Date)
	b = appendString(append(b, `,"subject":`...), r.Subject)
	b = strconv.AppendInt(append(b, `,"size":`...), r.Size, 10)
	b = append(b, `,"flags":`...)
	if r.Flags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, f := range r.Flags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f)
		}
		b = append(b, ']')
	}
	b = appendString(append(b, `,"mailbox":`...), r.Mailbox)
	b = appendString(append(b, `,"direction":`...), r.Direction)
	b = appendOptString(b, `,"counterpart":`, r.Counterpart)
	if r.Body != nil {
		b = appendString(append(b, `,"body":`...), *r.Body)
	}
	if r.BodyTruncated {
		b = append(b, `,"body_truncated":true`...)
	}
	if r.UID != 0 {
		b = strconv.AppendUint(append(b, `,"uid":`...), uint64(r.UID), 10)
	}
	if r.UIDValidity != 0 {
		b = strconv.AppendUint(append(b, `,"uid_validity":`...), uint64(r.UIDValidity), 10)
	}
	b = appendOptString(b, `,"file":`, r.File)
	if r.Offset != nil {
		b = strconv.AppendInt(append(b, `,"offset":`...), *r.Offset, 10)
	}
	return append(b, '}')
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

func appendAddresses(b []byte, l []Address) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, a := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if a.Name != "" {
			b = appendString(append(b, `"name":`...), a.Name)
			b = append(b, ',')
		}
		b = appendString(append(b, `"address":`...), a.Address)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendString quotes s as encoding/json does: ", \ and control
// characters escaped (\b \f \n \r \t short), <, > and & as \u00XX,
// invalid UTF-8 bytes as \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
