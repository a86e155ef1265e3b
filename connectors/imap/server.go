package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/desilo/desilo/connectors/internal/jsonenc"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// session is a logged-in IMAP connection whose blocking calls end when
// the context that opened it is cancelled.
type session struct {
	*imapclient.Client
	addr string
	stop func() bool
}

func (s *session) close() {
	_ = s.Logout().Wait()
	s.stop()
	_ = s.Client.Close()
}

// connect dials, secures the connection as configured and logs in.
func connect(ctx context.Context, cfg *Config) (*session, error) {
	addr := cfg.addr()
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("imap %s: connect: %w", addr, ctxErr(ctx, err))
	}
	// imapclient takes no context: closing the connection unblocks it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	fail := func(what string, err error) (*session, error) {
		stop()
		conn.Close()
		return nil, fmt.Errorf("imap %s: %s: %w", addr, what, ctxErr(ctx, err))
	}

	var c *imapclient.Client
	switch cfg.TLS {
	case tlsImplicit:
		tlsConn := tls.Client(conn, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake (for a server that starts in plain text, as on port 143, set tls: starttls)", err)
		}
		c = imapclient.New(tlsConn, nil)
	case tlsStartTLS:
		if c, err = imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: tc}); err != nil {
			return fail("STARTTLS", err)
		}
	default:
		c = imapclient.New(conn, nil)
	}
	if err := c.WaitGreeting(); err != nil {
		return fail("greeting", err)
	}
	if err := c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
		var ierr *imap.Error
		if errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeAuthenticationFailed {
			return fail(fmt.Sprintf("login as %q failed: the server rejected the username or password", cfg.Username), err)
		}
		return fail(fmt.Sprintf("login as %q", cfg.Username), err)
	}
	return &session{Client: c, addr: addr, stop: stop}, nil
}

// mailboxes resolves the configured mailboxes (LIST patterns expanded)
// and finds the server's \Sent mailboxes.
func (s *session) mailboxes(ctx context.Context, cfg *Config) (names []string, sent map[string]bool, err error) {
	opts := &imap.ListOptions{}
	caps := s.Caps()
	if caps.Has(imap.CapSpecialUse) && (caps.Has(imap.CapListExtended) || caps.Has(imap.CapIMAP4rev2)) {
		opts.ReturnSpecialUse = true
	}
	all, err := s.List("", "*", opts).Collect()
	if err != nil {
		return nil, nil, fmt.Errorf("imap %s: list mailboxes: %w", s.addr, ctxErr(ctx, err))
	}
	sent = map[string]bool{}
	for _, m := range all {
		if slices.Contains(m.Attrs, imap.MailboxAttrSent) {
			sent[m.Mailbox] = true
		}
	}
	for _, want := range cfg.Mailboxes {
		if !strings.ContainsAny(want, "*%") {
			names = appendNew(names, want)
			continue
		}
		matched, err := s.List("", want, nil).Collect()
		if err != nil {
			return nil, nil, fmt.Errorf("imap %s: list mailboxes %q: %w", s.addr, want, ctxErr(ctx, err))
		}
		n := len(names)
		for _, m := range matched {
			if !slices.Contains(m.Attrs, imap.MailboxAttrNoSelect) && !slices.Contains(m.Attrs, imap.MailboxAttrNonExistent) {
				names = appendNew(names, m.Mailbox)
			}
		}
		if len(names) == n {
			return nil, nil, fmt.Errorf("imap %s: mailboxes: pattern %q matches no selectable mailbox", s.addr, want)
		}
	}
	return names, sent, nil
}

// appendNew appends name unless it is there; INBOX is case-insensitive.
func appendNew(names []string, name string) []string {
	for _, n := range names {
		if n == name || (strings.EqualFold(n, "INBOX") && strings.EqualFold(name, "INBOX")) {
			return names
		}
	}
	return append(names, name)
}

func (s *session) examine(ctx context.Context, mailbox string) (*imap.SelectData, error) {
	sel, err := s.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("imap %s: select mailbox %q: %w", s.addr, mailbox, ctxErr(ctx, err))
	}
	return sel, nil
}

func checkServer(ctx context.Context, cfg *Config) error {
	s, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.close()
	names, _, err := s.mailboxes(ctx, cfg)
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := s.examine(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func readServer(ctx context.Context, cfg *Config, w *writer) error {
	s, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.close()
	names, sent, err := s.mailboxes(ctx, cfg)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := s.readMailbox(ctx, cfg, name, cfg.isSent(name, sent), w); err != nil {
			return err
		}
	}
	return nil
}

// readMailbox emits the messages with a UID above the saved one, a batch
// per round trip, and checkpoints after each batch.
func (s *session) readMailbox(ctx context.Context, cfg *Config, name string, sent bool, w *writer) error {
	log := connector.Log(ctx).With("mailbox", name)
	sel, err := s.examine(ctx, name)
	if err != nil {
		return err
	}
	prev, known := w.state.Mailboxes[name]
	last := imap.UID(prev.LastUID)
	if known && prev.UIDValidity != sel.UIDValidity {
		log.Warn("mailbox UIDVALIDITY changed, so its saved UIDs mean nothing any more: reading it again from the start",
			"old_uid_validity", prev.UIDValidity, "new_uid_validity", sel.UIDValidity)
		if err := w.retire(ctx, log, name, prev); err != nil {
			return err
		}
		last = 0
	}
	var holes []uint32
	if known && prev.UIDValidity == sel.UIDValidity {
		holes = prev.Holes
	}
	w.state.Mailboxes[name] = mailboxState{UIDValidity: sel.UIDValidity, LastUID: uint32(last), Holes: holes}
	if len(holes) > 0 && sel.NumMessages > 0 {
		if err := s.readHoles(ctx, cfg, name, sel.UIDValidity, sent, holes, w); err != nil {
			return err
		}
	}
	noneNew := func() error {
		log.Debug("no new messages")
		if len(holes) > 0 {
			w.state.Mailboxes[name] = mailboxState{UIDValidity: sel.UIDValidity, LastUID: uint32(last)}
			return w.checkpoint(ctx)
		}
		return nil
	}
	if sel.NumMessages == 0 || (sel.UIDNext != 0 && sel.UIDNext <= last+1) {
		return noneNew()
	}

	// "last+1:*" always matches the highest UID, even when it is not
	// above last: hence the filter.
	res, err := s.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{{Start: last + 1, Stop: 0}}}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("imap %s: search mailbox %q: %w", s.addr, name, ctxErr(ctx, err))
	}
	set, ok := res.All.(imap.UIDSet)
	var uids []imap.UID
	if ok {
		if uids, ok = set.Nums(); !ok {
			return fmt.Errorf("imap %s: search mailbox %q: the server answered with an open UID range", s.addr, name)
		}
	}
	uids = slices.DeleteFunc(uids, func(u imap.UID) bool { return u <= last })
	if len(uids) == 0 {
		return noneNew()
	}
	slices.Sort(uids)
	log.Info("reading mailbox", "new_messages", len(uids), "uid_validity", sel.UIDValidity)
	newHoles := gaps(last, uids)

	batches := slices.Collect(slices.Chunk(uids, cfg.BatchSize))
	// A checkpoint still pending from an earlier mailbox may be committed
	// with rows of the first batch: name that batch in the state first.
	w.state.Mailboxes[name] = mailboxState{UIDValidity: sel.UIDValidity, LastUID: uint32(last), Holes: holes,
		Ahead: uint32(batches[0][len(batches[0])-1])}
	if err := w.checkpoint(ctx); err != nil {
		return err
	}
	for i, batch := range batches {
		missing, err := s.fetch(ctx, cfg, name, sel.UIDValidity, sent, batch, w)
		if refused(err) && len(batch) > 1 {
			// One message the server cannot serve (NO) fails the whole
			// FETCH: read the batch a message at a time, rejecting that
			// one, rather than stop at this batch every night.
			log.Warn("the server refused a batch of messages: reading them one at a time", "error", err)
			missing, err = s.fetchEach(ctx, cfg, name, sel.UIDValidity, sent, batch, w)
		}
		if err == nil && len(missing) > 0 {
			// An unsolicited FETCH (a flag change by another client) can
			// stand in for a message's own response: ask once more.
			missing, err = s.fetch(ctx, cfg, name, sel.UIDValidity, sent, missing, w)
		}
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			log.Warn("the server sent no header for some messages, twice: expunged while the batch was read?", "uids", fmt.Sprint(missing))
		}
		top := batch[len(batch)-1]
		var upTo []uint32 // the new holes below this batch's last UID
		for _, h := range newHoles {
			if h < uint32(top) {
				upTo = append(upTo, h)
			}
		}
		st := mailboxState{UIDValidity: sel.UIDValidity, LastUID: uint32(top), Holes: upTo}
		if i+1 < len(batches) {
			next := batches[i+1]
			st.Ahead = uint32(next[len(next)-1])
		}
		w.state.Mailboxes[name] = st
		if err := w.checkpoint(ctx); err != nil {
			return err
		}
	}
	return nil
}

// refused says whether err is the server's NO to a command.
func refused(err error) bool {
	var e *imap.Error
	return errors.As(err, &e) && e.Type == imap.StatusResponseTypeNo
}

// fetchEach fetches uids one at a time; a message the server refuses is
// rejected, located by its UID.
func (s *session) fetchEach(ctx context.Context, cfg *Config, mailbox string, uidValidity uint32, sent bool, uids []imap.UID, w *writer) ([]imap.UID, error) {
	var missing []imap.UID
	for _, u := range uids {
		m, err := s.fetch(ctx, cfg, mailbox, uidValidity, sent, []imap.UID{u}, w)
		if refused(err) {
			loc := fmt.Sprintf("mailbox %s, UIDVALIDITY %d, UID %d", mailbox, uidValidity, u)
			if err := w.reject(ctx, loc, fmt.Errorf("the server refused to send the message: %w", err), nil); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		missing = append(missing, m...)
	}
	return missing, nil
}

// maxHoles bounds the UIDs a mailbox's state keeps to look for again.
const maxHoles = 10_000

// gaps returns the UIDs above last and below the highest of uids (sorted)
// that uids lacks, at most maxHoles of them, the highest.
func gaps(last imap.UID, uids []imap.UID) []uint32 {
	var out []uint32
	next := last + 1
	for _, u := range uids {
		for ; next < u; next++ {
			out = append(out, uint32(next))
		}
		next = u + 1
	}
	if len(out) > maxHoles {
		out = out[len(out)-maxHoles:]
	}
	return out
}

// readHoles emits the messages, if any, that now have the UIDs the last
// read did not find.
func (s *session) readHoles(ctx context.Context, cfg *Config, name string, uidValidity uint32, sent bool, holes []uint32, w *writer) error {
	var set imap.UIDSet
	for _, h := range holes {
		set.AddNum(imap.UID(h))
	}
	res, err := s.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("imap %s: search mailbox %q: %w", s.addr, name, ctxErr(ctx, err))
	}
	found, _ := res.All.(imap.UIDSet)
	uids, _ := found.Nums()
	uids = slices.DeleteFunc(uids, func(u imap.UID) bool { // holes are sorted
		_, ok := slices.BinarySearch(holes, uint32(u))
		return !ok
	})
	if len(uids) == 0 {
		return nil
	}
	slices.Sort(uids)
	connector.Log(ctx).Info("read messages whose UIDs the last read did not see", "mailbox", name, "messages", len(uids))
	for batch := range slices.Chunk(uids, cfg.BatchSize) {
		if _, err := s.fetch(ctx, cfg, name, uidValidity, sent, batch, w); err != nil {
			return err
		}
	}
	return nil
}

// messageID is the record id of a message read from a server.
func messageID(mailbox string, uidValidity, uid uint32) string {
	return fmt.Sprintf("%s;UIDVALIDITY=%d;UID=%d", mailbox, uidValidity, uid)
}

// maxRetired bounds the deletes a UIDVALIDITY change sends: one per UID
// up to the last one read, whether or not a message had it.
const maxRetired = 5_000_000

// retire deletes the records read from a mailbox under its previous
// UIDVALIDITY, prev: the mailbox is read again under new ids, and the old
// records would otherwise stay staged next to the new ones. The server
// no longer knows the old UIDs, so every UID up to the last one read is
// deleted, and on to the end of the batch then being read (Ahead), whose
// rows staging may hold after a crash. A UID no message had costs a
// tombstone that staging's compaction drops. The new state is saved only after these deletes, so
// a run that stops halfway sends them again.
func (w *writer) retire(ctx context.Context, log *slog.Logger, mailbox string, prev mailboxState) error {
	top := max(prev.LastUID, prev.Ahead)
	if top > maxRetired {
		log.Warn("too many UIDs to delete one by one: the records read under the old UIDVALIDITY stay staged next to the new ones until a full refresh of the source (desilo sync --full-refresh --source NAME)",
			"old_uid_validity", prev.UIDValidity, "last_uid", top)
		return nil
	}
	for uid := uint32(1); uid <= top; uid++ {
		w.buf = append(w.buf[:0], `{"id":`...)
		w.buf = jsonenc.AppendString(w.buf, messageID(mailbox, prev.UIDValidity, uid))
		w.buf = append(w.buf, '}')
		if err := w.out.Emit(ctx, connector.Record{Stream: StreamMessages, Data: w.buf, Deleted: true}); err != nil {
			return err
		}
	}
	log.Info("deleted the records read under the old UIDVALIDITY", "old_uid_validity", prev.UIDValidity, "uids", top)
	return nil
}

// fetch reads one batch in one UID FETCH: header, size, flags, internal
// date, and the start of the text when bodies are wanted. It returns the
// UIDs of the batch no response carried a header for.
func (s *session) fetch(ctx context.Context, cfg *Config, mailbox string, uidValidity uint32, sent bool, uids []imap.UID, w *writer) ([]imap.UID, error) {
	pending := make(map[imap.UID]bool, len(uids))
	for _, u := range uids {
		pending[u] = true
	}
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	opts := &imap.FetchOptions{
		UID: true, Flags: true, RFC822Size: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{header},
	}
	var text *imap.FetchItemBodySection
	if cfg.Bodies {
		text = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true,
			Partial: &imap.SectionPartial{Offset: 0, Size: cfg.rawLimit()}}
		opts.BodySection = append(opts.BodySection, text)
	}
	cmd := s.Fetch(imap.UIDSetNum(uids...), opts)
	defer cmd.Close()
	for {
		data := cmd.Next()
		if data == nil {
			break
		}
		msg, err := data.Collect()
		if err != nil {
			return nil, fmt.Errorf("imap %s: fetch from mailbox %q: %w", s.addr, mailbox, ctxErr(ctx, err))
		}
		head := msg.FindBodySection(header)
		if !pending[msg.UID] || head == nil {
			continue // not an answer to this FETCH: a flag update, say
		}
		delete(pending, msg.UID)
		raw := rawMessage{
			header:   head,
			size:     msg.RFC822Size,
			fallback: msg.InternalDate,
			flags:    make([]string, 0, len(msg.Flags)),
			mailbox:  mailbox,
		}
		for _, f := range msg.Flags {
			raw.flags = append(raw.flags, string(f))
		}
		if text != nil {
			raw.text = msg.FindBodySection(text)
			raw.textCut = msg.RFC822Size-int64(len(raw.header)) > cfg.rawLimit()
		}
		rec, err := w.parser.parse(raw, sent)
		if err != nil {
			loc := fmt.Sprintf("mailbox %s, UIDVALIDITY %d, UID %d", mailbox, uidValidity, msg.UID)
			if err := w.reject(ctx, loc, err, raw.header); err != nil {
				return nil, err
			}
			continue
		}
		rec.ID = messageID(mailbox, uidValidity, uint32(msg.UID))
		rec.UID, rec.UIDValidity = uint32(msg.UID), uidValidity
		if err := w.emit(ctx, rec); err != nil {
			return nil, err
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("imap %s: fetch from mailbox %q: %w", s.addr, mailbox, ctxErr(ctx, err))
	}
	var missing []imap.UID
	for _, u := range uids {
		if pending[u] {
			missing = append(missing, u)
		}
	}
	return missing, nil
}
