package imap

import (
	"strconv"

	"github.com/desilo/desilo/connectors/internal/jsonenc"
)

// appendRecord appends r encoded exactly as encoding/json encodes it
// (field order, omitempty, HTML-safe string escaping), without its
// reflection and allocations: encoding is a good part of a message's
// cost. TestAppendRecordMatchesJSON holds it to json.Marshal.
func appendRecord(b []byte, r *Record) []byte {
	b = append(b, `{"id":`...)
	b = jsonenc.AppendString(b, r.ID)
	b = appendOptString(b, `,"message_id":`, r.MessageID)
	b = appendOptString(b, `,"in_reply_to":`, r.InReplyTo)
	if len(r.References) > 0 {
		b = append(b, `,"references":[`...)
		for i, id := range r.References {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, id)
		}
		b = append(b, ']')
	}
	b = appendOptString(b, `,"thread_id":`, r.ThreadID)
	b = appendAddresses(append(b, `,"from":`...), r.From)
	b = appendAddresses(append(b, `,"to":`...), r.To)
	b = appendAddresses(append(b, `,"cc":`...), r.Cc)
	b = appendAddresses(append(b, `,"bcc":`...), r.Bcc)
	b = appendOptString(b, `,"date":`, r.Date)
	b = jsonenc.AppendString(append(b, `,"subject":`...), r.Subject)
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
			b = jsonenc.AppendString(b, f)
		}
		b = append(b, ']')
	}
	b = jsonenc.AppendString(append(b, `,"mailbox":`...), r.Mailbox)
	b = jsonenc.AppendString(append(b, `,"direction":`...), r.Direction)
	b = appendOptString(b, `,"counterpart":`, r.Counterpart)
	if r.Body != nil {
		b = jsonenc.AppendString(append(b, `,"body":`...), *r.Body)
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
	return jsonenc.AppendString(append(b, key...), s)
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
			b = jsonenc.AppendString(append(b, `"name":`...), a.Name)
			b = append(b, ',')
		}
		b = jsonenc.AppendString(append(b, `"address":`...), a.Address)
		b = append(b, '}')
	}
	return append(b, ']')
}
