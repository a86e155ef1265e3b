// Package imap is the desilo connector for mailboxes: IMAP4rev1/IMAP4rev2
// servers (implicit TLS, STARTTLS, or plain for tests) and .mbox files.
//
// It offers one stream, messages: the headers of each mail (addresses with
// display names, encoded words decoded), its size, flags and mailbox, the
// direction (in or out) and the customer's address, and optionally the
// text body.
//
// Keys and increments:
//   - IMAP: the record id is "<mailbox>;UIDVALIDITY=<n>;UID=<n>". Each
//     mailbox is read incrementally from the last UID seen (UID SEARCH
//     last+1:*, then UID FETCH in batches, a checkpoint after each batch).
//     UIDs up to the last one read that the search did not return (a
//     replicated server may show a higher UID before a lower one) are
//     looked for once more on the next run. A response without the
//     message's header (an unsolicited flag update in the middle of a
//     FETCH) is not taken for the message, which is fetched again. A
//     batch the server refuses (NO) is read a message at a time, and the
//     message it refuses is rejected.
//     When the server reports a new UIDVALIDITY, the old UIDs mean
//     nothing any more: the records read under the old one are deleted
//     (every UID up to the last one read or, after a run that stopped
//     mid-batch, up to that batch's end; at most 5 million; beyond that
//     a warning names the full refresh that removes them), and the
//     mailbox is read again from the start under new ids.
//   - mbox: the record id is "mbox:<file>:<Message-ID>", or
//     "mbox:<file>#<hash>" without a Message-ID (a hash of the message's
//     "From " line, size and content, so that removing an earlier message
//     does not change it; byte-identical copies share it), with <file>
//     the path as configured or matched by the glob. A file is read from the byte
//     offset after its last message read, if the bytes before that offset
//     are still those read (a fingerprint of the last 4 KiB); an unchanged
//     file (same size, modification time and fingerprint) is skipped; a
//     file that changed in any other way than by appending is read again
//     from the start, which re-emits its messages under the same
//     Message-ID keys. A file modified within the last minute that ends in
//     the middle of a line is being delivered to: its last message is read
//     on the next run.
//
// Not reported: messages expunged from a mailbox, moved to another or
// renamed with it (a moved message is read again under the new mailbox's
// id), and messages removed from an mbox file; a full refresh of the
// source (desilo sync --full-refresh --source NAME) replaces what is
// staged with what the mailboxes hold now.
package imap

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// StreamMessages is the connector's only stream.
const StreamMessages = "messages"

//go:embed config.schema.json
var configSchema []byte

//go:embed record.schema.json
var recordSchema []byte

// Source is the imap connector.
type Source struct{}

var _ connector.Connector = (*Source)(nil)

// New returns the connector.
func New() *Source { return &Source{} }

// Spec implements connector.Connector.
func (s *Source) Spec() connector.Spec {
	return connector.Spec{
		Name:            "imap",
		Version:         "0.1.0",
		ProtocolVersion: connector.ProtocolVersion,
		Description:     "Mail from IMAP servers and mbox files: senders, recipients, subjects, dates, direction.",
		ConfigSchema:    configSchema,
	}
}

// Check connects, logs in and selects every mailbox; every mbox path
// must match a readable mbox file.
func (s *Source) Check(ctx context.Context, config json.RawMessage) error {
	cfg, err := parseConfig(config)
	if err != nil {
		return err
	}
	if cfg.Host != "" {
		if err := checkServer(ctx, cfg); err != nil {
			return redact(err, cfg.Password)
		}
	}
	return checkMbox(cfg)
}

// Discover returns the messages stream; it needs no connection.
func (s *Source) Discover(ctx context.Context, config json.RawMessage) ([]connector.Stream, error) {
	if _, err := parseConfig(config); err != nil {
		return nil, err
	}
	return []connector.Stream{messagesStream()}, nil
}

func messagesStream() connector.Stream {
	date := connector.Expr{Path: "date", Type: "timestamp"}
	return connector.Stream{
		Name:        StreamMessages,
		Description: "One record per mail in the configured mailboxes and mbox files.",
		Schema:      recordSchema,
		PrimaryKey:  []string{"id"},
		// Progress is kept per mailbox (UIDVALIDITY and last UID) and per
		// mbox file (byte offset) in the state; uid is the nearest field.
		CursorField: "uid",
		Mapping: &connector.Mapping{
			Entity: "message",
			Fields: map[string]connector.Expr{
				"message_id":  connector.P("message_id"),
				"email":       connector.P("counterpart"),
				"direction":   connector.P("direction"),
				"from":        connector.P("from.0.address"),
				"to":          connector.P("to[].address"),
				"cc":          connector.P("cc[].address"),
				"subject":     connector.P("subject"),
				"sent_at":     date,
				"thread_id":   connector.P("thread_id"),
				"in_reply_to": connector.P("in_reply_to"),
				"size":        {Path: "size", Type: "integer"},
				"channel":     {Const: "email"},
				"created_at":  date,
			},
		},
	}
}

// Read implements connector.Connector.
func (s *Source) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return err
	}
	if len(req.Streams) > 0 {
		for _, name := range req.Streams {
			if name != StreamMessages {
				return fmt.Errorf("imap: unknown stream %q (the only stream is %q)", name, StreamMessages)
			}
		}
	}
	st, err := parseState(req.State)
	if err != nil {
		return err
	}
	w := &writer{out: out, state: st, parser: newParser(cfg)}
	if cfg.Host != "" {
		if err := readServer(ctx, cfg, w); err != nil {
			return redact(err, cfg.Password)
		}
	}
	if err := readMboxFiles(ctx, cfg, w); err != nil {
		return err
	}
	return w.checkpoint(ctx)
}

// state is the saved progress of every mailbox and mbox file.
type state struct {
	Mailboxes map[string]mailboxState `json:"mailboxes,omitempty"`
	Files     map[string]fileState    `json:"files,omitempty"`
}

type mailboxState struct {
	UIDValidity uint32 `json:"uid_validity"`
	LastUID     uint32 `json:"last_uid"`
	// Holes are the UIDs up to LastUID that the last read's search did not
	// return: expunged at once, or delivered but not yet visible, as a
	// replicated server may show a higher UID before a lower one. The next
	// read looks for them once.
	Holes []uint32 `json:"holes,omitempty"`
	// Ahead is the highest UID of the batch being read when this state
	// was saved. Staging may commit some of that batch's rows with the
	// state, so after a crash they can be staged past LastUID; a
	// UIDVALIDITY change deletes up to Ahead too.
	Ahead uint32 `json:"ahead,omitempty"`
}

type fileState struct {
	Offset  int64     `json:"offset"` // after the last message read
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	// Tail fingerprints the bytes just before Offset: a file rewritten
	// with a message boundary at Offset by chance is read again from the
	// start instead of from Offset.
	Tail string `json:"tail,omitempty"`
}

func parseState(raw json.RawMessage) (*state, error) {
	st := &state{Mailboxes: map[string]mailboxState{}, Files: map[string]fileState{}}
	if len(raw) == 0 || string(raw) == "null" {
		return st, nil
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("imap: saved state is unreadable (reset the source's state to read everything again): %w", err)
	}
	if st.Mailboxes == nil {
		st.Mailboxes = map[string]mailboxState{}
	}
	if st.Files == nil {
		st.Files = map[string]fileState{}
	}
	return st, nil
}

// writer parses messages, emits records and checkpoints the whole state.
type writer struct {
	out    connector.Emitter
	state  *state
	parser *parser
	buf    []byte // the record being emitted
}

// emit encodes into one buffer for all records: the Emitter copies what
// it keeps.
func (w *writer) emit(ctx context.Context, r *Record) error {
	w.buf = appendRecord(w.buf[:0], r)
	return w.out.Emit(ctx, connector.Record{Stream: StreamMessages, Data: w.buf})
}

func (w *writer) reject(ctx context.Context, location string, err error, raw []byte) error {
	return w.out.Reject(ctx, connector.Reject{
		Stream:   StreamMessages,
		Location: location,
		Reason:   err.Error(),
		Raw:      raw[:min(len(raw), 4096)],
	})
}

func (w *writer) checkpoint(ctx context.Context) error {
	b, err := json.Marshal(w.state)
	if err != nil {
		return fmt.Errorf("imap: encode state: %w", err)
	}
	return w.out.Checkpoint(ctx, b)
}

// redact removes the password from an error's text, in case a server or
// a library echoed it; errors.Is and errors.As still see the cause.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), secret, "[redacted]"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// ctxErr prefers the context's error: a cancelled read closes the
// connection, and the resulting I/O error would hide why.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}
