// Package sdktest is the conformance kit for desilo connectors: one call
// checks that a connector keeps the contract of package connector.
//
// A connector author adds a test to the connector's package:
//
//	func TestConformance(t *testing.T) {
//		sdktest.Run(t, mysource.New(), sdktest.Options{
//			// A config that works against the test's fixture (files in
//			// t.TempDir(), an httptest server, a local database) and
//			// reads at least one record.
//			Config: json.RawMessage(`{"path": "testdata/ok"}`),
//			// Configs the connector must refuse, through its config
//			// schema or through Check.
//			BadConfigs: []json.RawMessage{
//				json.RawMessage(`{}`),
//				json.RawMessage(`{"path": "testdata/missing"}`),
//			},
//		})
//	}
//
// Run works on any connector.Connector, also on one that runs in another
// process behind the host's client. It runs these subtests, each reported
// on its own:
//
//   - spec: name and version are set, the protocol version is
//     connector.ProtocolVersion, the config schema compiles (draft 2020-12)
//     and Options.Config validates against it.
//   - check: Check accepts Options.Config; every bad config is refused by
//     the config schema or by Check with a message.
//   - discover: at least one stream, unique names, compiling record
//     schemas, a primary key on each stream, valid default mappings.
//   - read: a first Read (no state) succeeds and emits records of
//     discovered streams whose data validates against the stream schema,
//     and at least one checkpoint, each valid JSON.
//   - mapping: every default mapping compiles against the unified model
//     (core/mapping) and maps every record of the first read without a
//     reject.
//   - reread: a Read from the last checkpoint does not emit again a record
//     of an incremental stream (one with a cursor field) that was already
//     delivered unchanged. Full-refresh streams are exempt.
//   - streams: a Read asked for one stream (ReadRequest.Streams), the
//     first that the first read emitted records of, emits records of that
//     stream and nothing of any other, as the host asks only for the
//     streams it maps. It needs two discovered streams.
//   - cancel: a Read whose emitter cancels the context at the first record
//     returns an error, promptly.
//
// Schemas must be self-contained: the kit, like the host, loads no $ref
// from files or the network.
package sdktest

//lint:file-ignore ST1005 error strings start with the contract method they report on (Read, Check, Discover)

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/desilo/desilo/plugins/connector"
)

// Options configures Run.
type Options struct {
	// Config is a valid config under which Read emits at least one record.
	Config json.RawMessage
	// BadConfigs must each be refused, by the config schema or by Check.
	BadConfigs []json.RawMessage
}

const (
	// callTimeout bounds every call into the connector, so a connector
	// that hangs fails the test instead of stalling it.
	callTimeout = 2 * time.Minute
	// cancelTimeout bounds how long Read may take to return once its
	// context is cancelled.
	cancelTimeout = 10 * time.Second
	// maxProblems caps how many problems of one kind a check lists.
	maxProblems = 10
)

// Run runs the conformance checks on c as subtests of t.
func Run(t *testing.T, c connector.Connector, opts Options) {
	t.Helper()
	s := newSuite(c, opts)
	for _, check := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"spec", s.spec},
		{"check", s.check},
		{"discover", s.discover},
		{"read", s.read},
		{"mapping", s.mapping},
		{"reread", s.reread},
		{"streams", s.selection},
		{"cancel", s.cancel},
	} {
		t.Run(check.name, func(t *testing.T) {
			if err := check.fn(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
}

// suite holds what one check learns for the next: the discovered streams
// and the first read. Each check returns an error instead of failing a
// testing.T, so the kit's own tests can assert that a broken connector
// is caught.
type suite struct {
	c             connector.Connector
	opts          Options
	callTimeout   time.Duration
	cancelTimeout time.Duration

	streams     map[string]stream // by name; nil until discovered
	discoverErr error
	first       *Collector // nil until read
	readErr     error
}

// stream is a discovered stream with its compiled record schema.
type stream struct {
	connector.Stream
	schema *jsonschema.Schema
}

func newSuite(c connector.Connector, opts Options) *suite {
	return &suite{c: c, opts: opts, callTimeout: callTimeout, cancelTimeout: cancelTimeout}
}

func (s *suite) spec(ctx context.Context) error {
	var sp connector.Spec
	if err := s.call(ctx, "Spec", func(context.Context) error { sp = s.c.Spec(); return nil }); err != nil {
		return err
	}
	var errs []error
	if sp.Name == "" {
		errs = append(errs, errors.New("Spec().Name is empty"))
	}
	if sp.Version == "" {
		errs = append(errs, errors.New("Spec().Version is empty"))
	}
	if sp.ProtocolVersion != connector.ProtocolVersion {
		errs = append(errs, fmt.Errorf("Spec().ProtocolVersion is %d, want %d", sp.ProtocolVersion, connector.ProtocolVersion))
	}
	cs, err := compileSchema("config", sp.ConfigSchema)
	if err != nil {
		errs = append(errs, fmt.Errorf("config schema: %w", err))
	} else if err := validateJSON(cs, s.opts.Config); err != nil {
		errs = append(errs, fmt.Errorf("Options.Config does not validate against the config schema: %w", err))
	}
	return errors.Join(errs...)
}

func (s *suite) check(ctx context.Context) error {
	var errs []error
	if err := s.call(ctx, "Check", func(ctx context.Context) error { return s.c.Check(ctx, s.opts.Config) }); err != nil {
		errs = append(errs, fmt.Errorf("Check refused Options.Config: %w", err))
	}
	var cs *jsonschema.Schema
	if err := s.call(ctx, "Spec", func(context.Context) error {
		var err error
		cs, err = compileSchema("config", s.c.Spec().ConfigSchema)
		return err
	}); err != nil {
		cs = nil // the spec check reports it; rely on Check alone
	}
	for i, bad := range s.opts.BadConfigs {
		if cs != nil && validateJSON(cs, bad) != nil {
			continue // refused by the schema, as the host would
		}
		err := s.call(ctx, "Check", func(ctx context.Context) error { return s.c.Check(ctx, bad) })
		switch {
		case err == nil:
			errs = append(errs, fmt.Errorf("BadConfigs[%d] %s: neither the config schema nor Check refused it", i, bad))
		case strings.TrimSpace(err.Error()) == "":
			errs = append(errs, fmt.Errorf("BadConfigs[%d] %s: Check refused it with an empty message", i, bad))
		}
	}
	return errors.Join(errs...)
}

func (s *suite) discover(ctx context.Context) error {
	_, err := s.discovered(ctx)
	return err
}

// discovered calls Discover once and checks its answer.
func (s *suite) discovered(ctx context.Context) (map[string]stream, error) {
	if s.streams != nil || s.discoverErr != nil {
		return s.streams, s.discoverErr
	}
	s.streams, s.discoverErr = s.discoverOnce(ctx)
	return s.streams, s.discoverErr
}

var entities = []string{"customer", "order", "ticket", "message", "event"}

func (s *suite) discoverOnce(ctx context.Context) (map[string]stream, error) {
	var list []connector.Stream
	if err := s.call(ctx, "Discover", func(ctx context.Context) error {
		var err error
		list, err = s.c.Discover(ctx, s.opts.Config)
		return err
	}); err != nil {
		return nil, fmt.Errorf("Discover: %w", err)
	}
	if len(list) == 0 {
		return nil, errors.New("Discover returned no stream")
	}
	var errs []error
	streams := make(map[string]stream, len(list))
	for i, st := range list {
		if st.Name == "" {
			errs = append(errs, fmt.Errorf("stream %d has no name", i))
			continue
		}
		if _, dup := streams[st.Name]; dup {
			errs = append(errs, fmt.Errorf("stream %q is listed twice", st.Name))
			continue
		}
		sch, err := compileSchema("stream-"+st.Name, st.Schema)
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %q: schema: %w", st.Name, err))
		}
		if len(st.PrimaryKey) == 0 || slices.Contains(st.PrimaryKey, "") {
			errs = append(errs, fmt.Errorf("stream %q: primary key %q is empty or names an empty field", st.Name, st.PrimaryKey))
		}
		if m := st.Mapping; m != nil {
			if !slices.Contains(entities, m.Entity) {
				errs = append(errs, fmt.Errorf("stream %q: default mapping entity %q is not one of %v", st.Name, m.Entity, entities))
			}
			if len(m.Fields) == 0 {
				errs = append(errs, fmt.Errorf("stream %q: default mapping has no fields", st.Name))
			}
		}
		streams[st.Name] = stream{Stream: st, schema: sch}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return streams, nil
}

func (s *suite) read(ctx context.Context) error {
	_, err := s.firstRead(ctx)
	return err
}

// firstRead reads once without state and checks what was emitted.
func (s *suite) firstRead(ctx context.Context) (*Collector, error) {
	if s.first != nil || s.readErr != nil {
		return s.first, s.readErr
	}
	s.first, s.readErr = s.firstReadOnce(ctx)
	return s.first, s.readErr
}

func (s *suite) firstReadOnce(ctx context.Context) (*Collector, error) {
	streams, err := s.discovered(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot check records without a valid Discover: %w", err)
	}
	col := &Collector{}
	if err := s.call(ctx, "Read", func(ctx context.Context) error {
		return s.c.Read(ctx, connector.ReadRequest{Config: s.opts.Config}, col)
	}); err != nil {
		return nil, fmt.Errorf("Read without state: %w", err)
	}
	var errs []error
	if len(col.Records) == 0 {
		errs = append(errs, errors.New("Read emitted no record; Options.Config must read at least one"))
	}
	if len(col.Checkpoints) == 0 {
		errs = append(errs, errors.New("Read emitted no checkpoint, so nothing it emitted can be considered delivered"))
	}
	for i, cp := range col.Checkpoints {
		if !json.Valid(cp) {
			errs = append(errs, fmt.Errorf("checkpoint %d is not valid JSON: %.200q", i, cp))
		}
	}
	errs = append(errs, checkEmitted(streams, col)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return col, nil
}

// checkEmitted checks every record and reject of col against streams.
func checkEmitted(streams map[string]stream, col *Collector) []error {
	var errs []error
	add := func(err error) {
		if len(errs) == maxProblems {
			errs = append(errs, errors.New("(further problems not listed)"))
		}
		if len(errs) < maxProblems {
			errs = append(errs, err)
		}
	}
	for i, r := range col.Records {
		st, ok := streams[r.Stream]
		if !ok {
			add(fmt.Errorf("record %d names stream %q, which Discover did not list", i, r.Stream))
			continue
		}
		if r.Deleted {
			// A deleted record needs to carry only its primary key.
			if _, err := primaryKey(st.PrimaryKey, r.Data); err != nil {
				add(fmt.Errorf("record %d of stream %q (deleted): %w", i, r.Stream, err))
			}
			continue
		}
		if err := validateJSON(st.schema, r.Data); err != nil {
			add(fmt.Errorf("record %d of stream %q does not validate against the stream schema: %w; data: %.300s", i, r.Stream, err, r.Data))
			continue
		}
		if _, err := primaryKey(st.PrimaryKey, r.Data); err != nil {
			add(fmt.Errorf("record %d of stream %q: %w", i, r.Stream, err))
		}
	}
	for i, r := range col.Rejects {
		if _, ok := streams[r.Stream]; !ok {
			add(fmt.Errorf("reject %d names stream %q, which Discover did not list", i, r.Stream))
		}
		if r.Location == "" || r.Reason == "" {
			add(fmt.Errorf("reject %d of stream %q lacks a location or a reason: %+v", i, r.Stream, r))
		}
	}
	return errs
}

func (s *suite) reread(ctx context.Context) error {
	streams, err := s.discovered(ctx)
	if err != nil {
		return fmt.Errorf("cannot reread without a valid Discover: %w", err)
	}
	first, err := s.firstRead(ctx)
	if err != nil {
		return fmt.Errorf("cannot reread without a valid first read: %w", err)
	}
	delivered := map[string]json.RawMessage{} // key -> canonical data
	for _, r := range first.Delivered() {
		st := streams[r.Stream]
		if st.CursorField == "" || r.Deleted {
			continue
		}
		k, err := recordKey(st, r.Data)
		if err != nil {
			return err // the read check reports it
		}
		delivered[k] = canonical(r.Data)
	}
	second := &Collector{}
	if err := s.call(ctx, "Read", func(ctx context.Context) error {
		return s.c.Read(ctx, connector.ReadRequest{Config: s.opts.Config, State: first.State()}, second)
	}); err != nil {
		return fmt.Errorf("Read from the last checkpoint: %w", err)
	}
	errs := checkEmitted(streams, second)
	var dups []string
	for _, r := range second.Records {
		st, ok := streams[r.Stream]
		if !ok || st.CursorField == "" || r.Deleted {
			continue
		}
		k, err := recordKey(st, r.Data)
		if err != nil {
			continue // reported by checkEmitted
		}
		if prev, ok := delivered[k]; ok && bytes.Equal(prev, canonical(r.Data)) {
			dups = append(dups, k)
		}
	}
	if len(dups) > 0 {
		if len(dups) > maxProblems {
			dups = append(dups[:maxProblems], "...")
		}
		errs = append(errs, fmt.Errorf("Read from the last checkpoint emitted again %d record(s) already delivered unchanged (stream and primary key): %s",
			len(dups), strings.Join(dups, ", ")))
	}
	return errors.Join(errs...)
}

// selection reads one stream alone, as the host does when a source maps
// or lists only some of its connector's streams: a record of another
// stream fails the source there.
func (s *suite) selection(ctx context.Context) error {
	streams, err := s.discovered(ctx)
	if err != nil {
		return fmt.Errorf("cannot check stream selection without a valid Discover: %w", err)
	}
	first, err := s.firstRead(ctx)
	if err != nil {
		return fmt.Errorf("cannot check stream selection without a valid first read: %w", err)
	}
	if len(streams) < 2 {
		return nil // no stream to leave out
	}
	var emitted []string
	for _, r := range first.Records {
		emitted = append(emitted, r.Stream)
	}
	want := slices.Min(emitted)
	col := &Collector{}
	if err := s.call(ctx, "Read", func(ctx context.Context) error {
		return s.c.Read(ctx, connector.ReadRequest{Config: s.opts.Config, Streams: []string{want}}, col)
	}); err != nil {
		return fmt.Errorf("Read of stream %q alone: %w", want, err)
	}
	errs := checkEmitted(streams, col)
	others := map[string]int{}
	for _, r := range col.Records {
		if r.Stream != want {
			others[r.Stream]++
		}
	}
	for _, r := range col.Rejects {
		if r.Stream != want {
			others[r.Stream]++
		}
	}
	for _, name := range slices.Sorted(maps.Keys(others)) {
		errs = append(errs, fmt.Errorf("Read asked for stream %q alone emitted %d record(s) or reject(s) of stream %q; the host fails a source on a stream it did not ask for (ReadRequest.Streams)", want, others[name], name))
	}
	if len(col.Stream(want)) == 0 {
		errs = append(errs, fmt.Errorf("Read asked for stream %q alone emitted none of its records, though the read of every stream did", want))
	}
	return errors.Join(errs...)
}

func (s *suite) cancel(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cancelled := make(chan struct{})
	col := &Collector{OnEmit: func(connector.Record) error {
		select {
		case <-cancelled:
		default:
			close(cancelled)
			cancel()
		}
		return ctx.Err()
	}}
	done := make(chan error, 1)
	go func() { done <- s.c.Read(ctx, connector.ReadRequest{Config: s.opts.Config}, col) }()

	var err error
	select {
	case err = <-done:
	case <-cancelled:
		select {
		case err = <-done:
		case <-time.After(s.cancelTimeout):
			return fmt.Errorf("Read did not return within %s after its context was cancelled and Emit failed with %v", s.cancelTimeout, context.Canceled)
		}
	case <-time.After(s.callTimeout):
		return fmt.Errorf("Read emitted no record within %s", s.callTimeout)
	}
	select {
	case <-cancelled:
	default:
		return fmt.Errorf("Read returned (error: %v) without emitting a record, so cancellation could not be tested", err)
	}
	if err == nil {
		return errors.New("Read returned nil after Emit failed with context.Canceled; it must return an error")
	}
	return nil
}

// call runs fn with a deadline and fails if fn does not return in time,
// even when fn ignores its context.
func (s *suite) call(ctx context.Context, what string, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.callTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(s.callTimeout + s.cancelTimeout):
		return fmt.Errorf("%s did not return within %s (it ignores its context?)", what, s.callTimeout+s.cancelTimeout)
	}
}

// compileSchema compiles a draft 2020-12 schema that must not load any
// other resource.
func compileSchema(name string, raw json.RawMessage) (*jsonschema.Schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("schema is empty")
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema refers to %s; schemas must be self-contained", u)
	}
	u := "mem:///" + url.PathEscape(name) + ".json"
	if err := c.AddResource(u, bytes.NewReader(raw)); err != nil {
		return nil, err
	}
	return c.Compile(u)
}

// validateJSON validates one JSON document against sch.
func validateJSON(sch *jsonschema.Schema, data json.RawMessage) error {
	v, err := decode(data)
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// decode decodes exactly one JSON value, keeping numbers exact.
func decode(data json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the value")
	}
	return v, nil
}

// primaryKey returns the primary key values of a record as one JSON array.
func primaryKey(pk []string, data json.RawMessage) (string, error) {
	v, err := decode(data)
	if err != nil {
		return "", err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("data is not a JSON object: %.100s", data)
	}
	vals := make([]any, len(pk))
	for i, f := range pk {
		val, ok := obj[f]
		if !ok || val == nil {
			return "", fmt.Errorf("primary key field %q is missing or null", f)
		}
		vals[i] = val
	}
	b, err := json.Marshal(vals)
	return string(b), err
}

func recordKey(st stream, data json.RawMessage) (string, error) {
	k, err := primaryKey(st.PrimaryKey, data)
	if err != nil {
		return "", fmt.Errorf("stream %q: %w", st.Name, err)
	}
	return st.Name + " " + k, nil
}

// canonical re-encodes JSON so that key order and spacing do not matter.
func canonical(data json.RawMessage) json.RawMessage {
	v, err := decode(data)
	if err != nil {
		return data
	}
	b, err := json.Marshal(v) // maps encode with sorted keys
	if err != nil {
		return data
	}
	return b
}
