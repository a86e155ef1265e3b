package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/desilo/desilo/plugins/connector"
)

// Version is the connector's version.
const Version = "0.1.0"

// Source is the files connector.
type Source struct{}

var _ connector.Connector = (*Source)(nil)

// New returns the files connector.
func New() *Source { return &Source{} }

// Spec describes the connector and its config.
func (*Source) Spec() connector.Spec {
	return connector.Spec{
		Name:            "files",
		Version:         Version,
		ProtocolVersion: connector.ProtocolVersion,
		Description:     "Local CSV, JSON Lines and JSON files, plain or gzip-compressed.",
		ConfigSchema:    json.RawMessage(configSchemaJSON),
	}
}

// Check tests that every pattern matches a file, that the files can be
// opened, and that CSV headers hold the primary key and cursor columns.
// It reports every problem it finds, not only the first.
func (*Source) Check(ctx context.Context, config json.RawMessage) error {
	cfg, err := parseConfig(config)
	if err != nil {
		return err
	}
	var errs []error
	for i := range cfg.Streams {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := checkStream(&cfg.Streams[i]); err != nil {
			errs = append(errs, fmt.Errorf("files: stream %q: %w", cfg.Streams[i].Name, err))
		}
	}
	return errors.Join(errs...)
}

func checkStream(s *StreamConfig) error {
	var errs []error
	none, err := unmatched(s.Paths)
	if err != nil {
		return err
	}
	for _, p := range none {
		wd, _ := os.Getwd()
		errs = append(errs, fmt.Errorf("paths: %q matches no file (relative paths start at %s): %w", p, wd, connector.ErrConfig))
	}
	paths, err := expand(s.Paths)
	if err != nil {
		return err
	}
	for _, path := range paths {
		if err := checkFile(s, path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkFile opens a file and reads its first row, which for CSV checks
// the header.
func checkFile(s *StreamConfig, path string) error {
	ff, err := s.formatOf(path)
	if err != nil {
		return err
	}
	rows, closer, err := openRows(path, ff, requiredFields(s))
	if err != nil {
		return err
	}
	defer closer.Close()
	r, err := rows.next()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", path, err)
	}
	if c, ok := rows.(*csvRows); ok && c.header && len(c.cols) == 0 && r.reject != "" {
		return fmt.Errorf("%s:%d: %s", path, r.line, r.reject)
	}
	return nil
}

// Discover lists the configured streams with their record schemas.
func (*Source) Discover(ctx context.Context, config json.RawMessage) ([]connector.Stream, error) {
	cfg, err := parseConfig(config)
	if err != nil {
		return nil, err
	}
	out := make([]connector.Stream, 0, len(cfg.Streams))
	for i := range cfg.Streams {
		s := &cfg.Streams[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		schema, err := streamSchema(s)
		if err != nil {
			return nil, err
		}
		if len(s.Schema) == 0 {
			schema = closeCSV(s, schema)
		}
		out = append(out, connector.Stream{
			Name:        s.Name,
			Description: fmt.Sprintf("Records of the files matching %s.", strings.Join(s.Paths, ", ")),
			Schema:      schema,
			PrimaryKey:  s.PrimaryKey,
			CursorField: s.CursorField,
		})
	}
	return out, nil
}

// streamSchema is the configured record schema, or the inferred one.
func streamSchema(s *StreamConfig) (json.RawMessage, error) {
	if len(s.Schema) > 0 {
		return s.Schema, nil
	}
	paths, err := expand(s.Paths)
	if err != nil {
		return nil, fmt.Errorf("files: stream %q: %w", s.Name, err)
	}
	schema, err := inferSchema(s, paths)
	if err != nil {
		return nil, fmt.Errorf("files: stream %q: inferring the schema: %w", s.Name, err)
	}
	return schema, nil
}

// Read emits the rows of new and changed files; see the package doc.
func (*Source) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return err
	}
	st, err := parseState(req.State)
	if err != nil {
		return err
	}
	for _, name := range req.Streams {
		if !slices.ContainsFunc(cfg.Streams, func(s StreamConfig) bool { return s.Name == name }) {
			return fmt.Errorf("files: no stream %q in the config", name)
		}
	}
	for i := range cfg.Streams {
		s := &cfg.Streams[i]
		if len(req.Streams) > 0 && !slices.Contains(req.Streams, s.Name) {
			continue
		}
		r, err := newStreamReader(s, st, out)
		if err != nil {
			return err
		}
		if err := r.read(ctx); err != nil {
			return fmt.Errorf("files: stream %q: %w", s.Name, err)
		}
	}
	return nil
}

// streamReader reads one stream and keeps its state up to date.
type streamReader struct {
	cfg      *StreamConfig
	schema   *jsonschema.Schema
	fast     *fastCheck // nil: every row takes the slow path
	all      *state     // checkpointed whole, with the other streams' states
	st       *streamState
	baseline *mark // the cursor of the last completed read
	next     *mark // the cursor of this read
	filter   *mark // what the file being read filters by (see filterFor)
	fileMax  *mark // the highest cursor value of the file being read
	out      connector.Emitter

	records, rejects, skipped int
}

func newStreamReader(s *StreamConfig, all *state, out connector.Emitter) (*streamReader, error) {
	raw, err := streamSchema(s)
	if err != nil {
		return nil, err
	}
	schema, err := compileSchema(s.Name, raw)
	if err != nil {
		return nil, fmt.Errorf("files: stream %q: schema: %w", s.Name, err)
	}
	st := all.Streams[s.Name]
	if st == nil {
		st = &streamState{}
		all.Streams[s.Name] = st
	}
	if st.Files == nil {
		st.Files = map[string]fileStamp{}
	}
	if s.CursorField == "" {
		st.Cursor, st.Next = nil, nil
	}
	r := &streamReader{cfg: s, schema: schema, fast: newFastCheck(s, raw), all: all, st: st, out: out}
	if r.baseline, err = decodeMark(st.Cursor); err != nil {
		return nil, err
	}
	if r.next, err = decodeMark(st.Next); err != nil {
		return nil, err
	}
	if r.next == nil {
		r.next = r.baseline.clone()
	}
	return r, nil
}

func (r *streamReader) read(ctx context.Context) error {
	log := connector.Log(ctx).With("stream", r.cfg.Name)
	paths, err := expand(r.cfg.Paths)
	if err != nil {
		return err
	}
	// A pattern that matches nothing may be an empty drop folder, or a
	// wrong path a nightly run would otherwise read nothing from in
	// silence: say so.
	none, err := unmatched(r.cfg.Paths)
	if err != nil {
		return err
	}
	for _, p := range none {
		wd, _ := os.Getwd()
		log.Warn("a path pattern matches no file: nothing read from it", "pattern", p, "relative_to", wd)
	}
	read := 0
	for _, path := range paths {
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			log.Warn("a file went away between listing and reading: skipped", "path", path)
			continue
		}
		if err != nil {
			return err
		}
		// Stamp before reading: a file that grows while it is read is
		// read again next time.
		stamp := stampOf(fi)
		old, known := r.st.Files[path]
		if known && old.same(stamp) {
			log.Debug("file unchanged, skipped", "path", path)
			continue
		}
		if r.filter, err = r.filterFor(old, known); err != nil {
			return err
		}
		r.fileMax = nil
		log.Debug("reading file", "path", path)
		if err := r.readFile(ctx, path); errors.Is(err, fs.ErrNotExist) {
			log.Warn("a file went away between listing and reading: skipped", "path", path)
			continue
		} else if err != nil {
			return err
		}
		read++
		stamp.Cursor = r.fileMax.raw()
		r.st.Files[path] = stamp
		r.st.Next = r.next.encode()
		if err := r.checkpoint(ctx); err != nil {
			return err
		}
	}
	for path := range r.st.Files {
		if !slices.Contains(paths, path) {
			delete(r.st.Files, path)
		}
	}
	r.st.Cursor, r.st.Next = r.next.encode(), nil
	log.Info("stream read", "files", len(paths), "files_read", read,
		"records", r.records, "rejects", r.rejects, "skipped_below_cursor", r.skipped)
	return r.checkpoint(ctx)
}

// filterFor returns the cursor value below which a file's rows are not
// emitted. A file read before filters by the highest value read from it,
// so a late row in one file is not lost to a higher value in another. A
// file not read before filters by the stream's highest value: a drop
// folder of full exports then yields only what is new.
func (r *streamReader) filterFor(old fileStamp, known bool) (*mark, error) {
	if known && len(old.Cursor) > 0 {
		return decodeValueMark(old.Cursor)
	}
	return r.baseline, nil
}

func (r *streamReader) checkpoint(ctx context.Context) error {
	b, err := json.Marshal(r.all)
	if err != nil {
		return err
	}
	return r.out.Checkpoint(ctx, b)
}

func (r *streamReader) readFile(ctx context.Context, path string) error {
	ff, err := r.cfg.formatOf(path)
	if err != nil {
		return err
	}
	rows, closer, err := openRows(path, ff, requiredFields(r.cfg))
	if err != nil {
		return err
	}
	defer closer.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := rows.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := r.handle(ctx, path, row); err != nil {
			return err
		}
	}
}

// handle emits one row as a record or a reject, or skips it when the
// cursor says it was delivered before.
func (r *streamReader) handle(ctx context.Context, path string, row row) error {
	if row.reject != "" {
		return r.reject(ctx, path, row.line, row.reject, row.raw)
	}
	if r.fast != nil && row.fast {
		if done, err := r.handleFast(ctx, path, row); done {
			return err
		}
	}
	return r.handleSlow(ctx, path, row)
}

// handleSlow is handle on the decoded record, with the schema validated by
// the jsonschema library. It decides every row the fast path leaves.
func (r *streamReader) handleSlow(ctx context.Context, path string, row row) error {
	value, err := decodeObject(row.data)
	if err != nil {
		return fmt.Errorf("%s:%d: %w", path, row.line, err)
	}
	if _, err := primaryKey(r.cfg.PrimaryKey, value); err != nil {
		return r.reject(ctx, path, row.line, err.Error(), truncate(row.data))
	}
	var cursor any
	if f := r.cfg.CursorField; f != "" {
		if cursor = value[f]; cursor == nil {
			return r.reject(ctx, path, row.line, missingCursor(f), truncate(row.data))
		}
	}
	if err := r.schema.Validate(value); err != nil {
		return r.reject(ctx, path, row.line, "does not match the stream schema: "+err.Error(), truncate(row.data))
	}
	return r.emit(ctx, row.data, cursor)
}

// emit emits a valid record, unless its cursor says it was delivered.
func (r *streamReader) emit(ctx context.Context, data []byte, cursor any) error {
	if r.cfg.CursorField != "" {
		if r.filter.delivered(cursor) {
			r.skipped++
			return nil
		}
		r.next = r.next.observe(cursor)
		r.fileMax = r.fileMax.observe(cursor)
	}
	r.records++
	return r.out.Emit(ctx, connector.Record{Stream: r.cfg.Name, Data: data})
}

func (r *streamReader) reject(ctx context.Context, path string, line int, reason string, raw []byte) error {
	r.rejects++
	return r.out.Reject(ctx, connector.Reject{
		Stream: r.cfg.Name, Location: fmt.Sprintf("%s:%d", path, line), Reason: reason, Raw: raw,
	})
}

func missingKey(field string) string {
	return fmt.Sprintf("primary key field %q is missing or empty", field)
}

func missingCursor(field string) string {
	return fmt.Sprintf("cursor field %q is missing or empty", field)
}

// decodeObject decodes a record's data, which is one JSON object.
func decodeObject(data []byte) (map[string]any, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

// primaryKey returns a record's primary key values as one JSON array.
func primaryKey(fields []string, value map[string]any) (string, error) {
	vals := make([]any, len(fields))
	for i, f := range fields {
		v := value[f]
		if v == nil {
			return "", errors.New(missingKey(f))
		}
		vals[i] = v
	}
	b, err := json.Marshal(vals)
	return string(b), err
}
