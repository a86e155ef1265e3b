package imap

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// mboxFiles expands the configured paths and globs. A path that does not
// exist or a glob that matches nothing is an error: a mistyped path would
// otherwise read nothing, night after night, without anyone noticing.
func mboxFiles(cfg *Config) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, p := range cfg.Mbox {
		matches := []string{p}
		if strings.ContainsAny(p, `*?[\`) {
			var err error
			if matches, err = filepath.Glob(p); err != nil {
				return nil, fmt.Errorf("mbox %q: %w", p, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("mbox %q: the pattern matches no file: %w", p, connector.ErrConfig)
			}
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
	}
	return files, nil
}

// checkMbox checks that every mbox file exists and starts like one.
func checkMbox(cfg *Config) error {
	files, err := mboxFiles(cfg)
	if err != nil {
		return err
	}
	for _, path := range files {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("mbox: %w (%w)", err, connector.ErrConfig)
		}
		if err != nil {
			return fmt.Errorf("mbox: %w", err)
		}
		head := make([]byte, 5)
		n, err := io.ReadFull(f, head)
		f.Close()
		switch {
		case n == 0 && (err == nil || errors.Is(err, io.EOF)):
			// An empty file is an empty mbox.
		case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("mbox %s: %w", path, err)
		case !isFromLine(head[:n]):
			return fmt.Errorf("mbox %s: %w", path, errNotMbox)
		}
	}
	return nil
}

func readMboxFiles(ctx context.Context, cfg *Config, w *writer) error {
	files, err := mboxFiles(cfg)
	if err != nil {
		return err
	}
	for _, path := range files {
		if err := readMboxFile(ctx, cfg, path, w); err != nil {
			return err
		}
	}
	return nil
}

// mboxMailbox names a file's mailbox: its base name without ".mbox".
func mboxMailbox(path string) string {
	base := filepath.Base(path)
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".mbox") {
		return strings.TrimSuffix(base, ext)
	}
	return base
}

// readMboxFile emits the messages after the saved offset, checkpointing
// every batch_size messages and at the end of the file.
func readMboxFile(ctx context.Context, cfg *Config, path string, w *writer) error {
	log := connector.Log(ctx).With("file", path)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mbox: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("mbox: %w", err)
	}
	if fi.IsDir() {
		return fmt.Errorf("mbox %s: is a directory, not an mbox file", path)
	}
	size := fi.Size()
	var start int64
	if prev, known := w.state.Files[path]; known {
		unchanged := size == prev.Size && fi.ModTime().Equal(prev.ModTime)
		sameTail := prev.Tail == "" || prev.Offset <= size && tail(f, prev.Offset) == prev.Tail
		switch {
		case unchanged && prev.Offset == size && sameTail:
			log.Debug("mbox file unchanged")
			return nil
		case prev.Offset < size && sameTail && messageStartsAt(f, prev.Offset):
			start = prev.Offset
		default:
			log.Info("mbox file changed other than by appending: reading it again from the start",
				"saved_offset", prev.Offset, "saved_size", prev.Size, "size", size)
		}
	}

	mailbox := mboxMailbox(path)
	sent := cfg.isSent(mailbox, nil)
	keep := 1 << 20 // the header section is all that is needed without bodies
	if cfg.Bodies {
		keep += int(cfg.rawLimit())
	}
	r := newMboxReader(io.NewSectionReader(f, start, size-start), start, keep)
	save := func(offset int64) error {
		w.state.Files[path] = fileState{Offset: offset, Size: size, ModTime: fi.ModTime(), Tail: tail(f, offset)}
		return w.checkpoint(ctx)
	}
	// A file written to just now that ends in the middle of a line is in
	// the middle of a delivery: its last message waits for the next run,
	// rather than be emitted cut short.
	writing := time.Since(fi.ModTime()) < time.Minute && !endsWithNewline(f, size)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("mbox %s: %w", path, err)
		}
		if writing && m.end == size {
			log.Info("the last message of an mbox file being written may be incomplete: it is read next run", "offset", m.offset)
			return save(m.offset)
		}
		if err := emitMbox(ctx, cfg, path, mailbox, sent, m, w); err != nil {
			return err
		}
		if n%cfg.BatchSize == 0 {
			if err := save(m.end); err != nil {
				return err
			}
		}
	}
	return save(size)
}

// tailBytes is how much of a file before a saved offset tail hashes.
const tailBytes = 4096

// tail fingerprints the tailBytes before off ("" when they cannot be read).
func tail(f *os.File, off int64) string {
	b := make([]byte, min(off, tailBytes))
	if _, err := f.ReadAt(b, off-int64(len(b))); err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// endsWithNewline reports whether the file of size ends with a line end,
// as a complete mbox file does.
func endsWithNewline(f *os.File, size int64) bool {
	b := make([]byte, 1)
	_, err := f.ReadAt(b, size-1)
	return err == nil && b[0] == '\n'
}

// messageStartsAt reports whether a message's "From " line starts at off.
func messageStartsAt(f *os.File, off int64) bool {
	b := make([]byte, 6)
	if off == 0 {
		_, err := f.ReadAt(b[1:], 0)
		return err == nil && isFromLine(b[1:])
	}
	_, err := f.ReadAt(b, off-1)
	return err == nil && b[0] == '\n' && isFromLine(b[1:])
}

func emitMbox(ctx context.Context, cfg *Config, path, mailbox string, sent bool, m *mboxMessage, w *writer) error {
	header, body := splitHeader(m.data)
	raw := rawMessage{
		header:   header,
		size:     m.size,
		fromLine: m.fromLine,
		mailbox:  mailbox,
	}
	if cfg.Bodies {
		raw.text = body
		raw.textCut = m.size > int64(len(m.data))
	}
	rec, err := w.parser.parse(raw, sent)
	if err != nil {
		return w.reject(ctx, fmt.Sprintf("%s, byte offset %d", path, m.offset), err, m.data)
	}
	rec.ID = mboxID(path, rec.MessageID, m)
	rec.File = path
	rec.Offset = &m.offset
	return w.emit(ctx, rec)
}

// mboxID is a message's record id: by its Message-ID, else by a hash of
// its content, which stays the same when an earlier message is removed
// from the file (an offset would not, and the message would be staged
// twice). Byte-identical copies without a Message-ID share the id.
func mboxID(path, messageID string, m *mboxMessage) string {
	if messageID != "" {
		return "mbox:" + path + ":" + messageID
	}
	h := sha256.New()
	h.Write([]byte(m.fromLine))
	var size [9]byte
	size[0] = '\n'
	binary.BigEndian.PutUint64(size[1:], uint64(m.size))
	h.Write(size[:])
	h.Write(m.data) // the first keep bytes; size tells longer messages apart
	return "mbox:" + path + "#" + hex.EncodeToString(h.Sum(nil)[:12])
}
