package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// fake is a small in-memory connector. Its zero-value knobs make a good
// connector; each test breaks one thing.
type fake struct {
	spec     connector.Spec
	streams  []connector.Stream
	records  []connector.Record
	checkErr error // returned by Check for any config but the good one

	// Broken behaviours.
	ignoreState      bool          // re-emits everything from the start
	noCheckpoint     bool          // never checkpoints
	badCheckpoint    bool          // checkpoints invalid JSON
	ignoreStreams    bool          // emits every stream whatever ReadRequest.Streams asks
	excludeStreams   bool          // emits the streams ReadRequest.Streams does not list
	swallowEmitError bool          // returns nil when Emit fails
	hangOnEmitError  chan struct{} // blocks until closed when Emit fails
	readErr          error
}

const goodConfig = `{"path":"ok"}`

func newFake() *fake {
	return &fake{
		spec: connector.Spec{
			Name: "fake", Version: "0.1.0", ProtocolVersion: connector.ProtocolVersion,
			ConfigSchema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"],"additionalProperties":false}`),
		},
		streams: []connector.Stream{{
			Name:        "contacts",
			Schema:      json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"},"email":{"type":"string"}},"required":["id"]}`),
			PrimaryKey:  []string{"id"},
			CursorField: "id",
			Mapping:     &connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{"email": connector.P("email")}},
		}},
		records: []connector.Record{
			{Stream: "contacts", Data: json.RawMessage(`{"id":1,"email":"a@example.com"}`)},
			{Stream: "contacts", Data: json.RawMessage(`{"id":2,"email":"b@example.com"}`)},
			{Stream: "contacts", Data: json.RawMessage(`{"id":3,"email":"c@example.com"}`)},
		},
		checkErr: errors.New("path: no such file"),
	}
}

func (f *fake) Spec() connector.Spec { return f.spec }

func (f *fake) Check(_ context.Context, config json.RawMessage) error {
	if string(config) == goodConfig {
		return nil
	}
	return f.checkErr
}

func (f *fake) Discover(context.Context, json.RawMessage) ([]connector.Stream, error) {
	return f.streams, nil
}

func (f *fake) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	if f.readErr != nil {
		return f.readErr
	}
	var st struct{ Next int }
	if req.State != nil && !f.ignoreState {
		if err := json.Unmarshal(req.State, &st); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	}
	for i := st.Next; i < len(f.records); i++ {
		if len(req.Streams) > 0 && !f.ignoreStreams && slices.Contains(req.Streams, f.records[i].Stream) == f.excludeStreams {
			continue
		}
		if err := out.Emit(ctx, f.records[i]); err != nil {
			switch {
			case f.hangOnEmitError != nil:
				<-f.hangOnEmitError
			case f.swallowEmitError:
				return nil
			}
			return err
		}
		if f.noCheckpoint {
			continue
		}
		cp := json.RawMessage(fmt.Sprintf(`{"Next":%d}`, i+1))
		if f.badCheckpoint {
			cp = json.RawMessage(`{"Next":`)
		}
		if err := out.Checkpoint(ctx, cp); err != nil {
			return err
		}
	}
	return nil
}

func goodOptions() Options {
	return Options{
		Config:     json.RawMessage(goodConfig),
		BadConfigs: []json.RawMessage{json.RawMessage(`{}`), json.RawMessage(`{"path":"missing"}`)},
	}
}

func TestRunPassesGoodConnector(t *testing.T) {
	Run(t, newFake(), goodOptions())
}

type emptyError struct{}

func (emptyError) Error() string { return "" }

func TestChecksCatchBrokenConnectors(t *testing.T) {
	type check func(*suite) func(context.Context) error
	spec := func(s *suite) func(context.Context) error { return s.spec }
	chk := func(s *suite) func(context.Context) error { return s.check }
	discover := func(s *suite) func(context.Context) error { return s.discover }
	read := func(s *suite) func(context.Context) error { return s.read }
	reread := func(s *suite) func(context.Context) error { return s.reread }
	mapping := func(s *suite) func(context.Context) error { return s.mapping }
	cancel := func(s *suite) func(context.Context) error { return s.cancel }
	selection := func(s *suite) func(context.Context) error { return s.selection }
	// A second stream, of notes, with a record after the contacts.
	notes := func(f *fake) {
		f.streams = append(f.streams, connector.Stream{
			Name:       "notes",
			Schema:     json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}`),
			PrimaryKey: []string{"id"},
		})
		f.records = append(f.records, connector.Record{Stream: "notes", Data: json.RawMessage(`{"id":9}`)})
	}

	tests := []struct {
		name    string
		breakIt func(*fake, *Options)
		check   check
		want    string // substring of the error; empty: the check passes
	}{
		{"good spec", func(*fake, *Options) {}, spec, ""},
		{"empty name", func(f *fake, _ *Options) { f.spec.Name = "" }, spec, "Name is empty"},
		{"empty version", func(f *fake, _ *Options) { f.spec.Version = "" }, spec, "Version is empty"},
		{"wrong protocol", func(f *fake, _ *Options) { f.spec.ProtocolVersion = 99 }, spec, "ProtocolVersion is 99"},
		{"config schema does not compile", func(f *fake, _ *Options) { f.spec.ConfigSchema = json.RawMessage(`{"type":5}`) }, spec, "config schema"},
		{"config schema refers elsewhere", func(f *fake, _ *Options) {
			f.spec.ConfigSchema = json.RawMessage(`{"$ref":"https://example.com/s.json"}`)
		}, spec, "self-contained"},
		{"config invalid against schema", func(_ *fake, o *Options) { o.Config = json.RawMessage(`{"path":1}`) }, spec, "does not validate"},

		{"good check", func(*fake, *Options) {}, chk, ""},
		{"good config refused", func(_ *fake, o *Options) { o.Config = json.RawMessage(`{"path":"other"}`) }, chk, "refused Options.Config"},
		{"bad config accepted", func(f *fake, _ *Options) { f.checkErr = nil }, chk, "BadConfigs[1]"},
		{"bad config refused without message", func(f *fake, _ *Options) { f.checkErr = emptyError{} }, chk, "empty message"},

		{"good discover", func(*fake, *Options) {}, discover, ""},
		{"no stream", func(f *fake, _ *Options) { f.streams = nil }, discover, "no stream"},
		{"duplicate stream", func(f *fake, _ *Options) { f.streams = append(f.streams, f.streams[0]) }, discover, "listed twice"},
		{"stream schema does not compile", func(f *fake, _ *Options) { f.streams[0].Schema = json.RawMessage(`{"type":"thing"}`) }, discover, "schema"},
		{"no primary key", func(f *fake, _ *Options) { f.streams[0].PrimaryKey = nil }, discover, "primary key"},
		{"unknown mapping entity", func(f *fake, _ *Options) { f.streams[0].Mapping.Entity = "person" }, discover, "entity \"person\""},
		{"mapping without fields", func(f *fake, _ *Options) { f.streams[0].Mapping.Fields = nil }, discover, "no fields"},

		{"good read", func(*fake, *Options) {}, read, ""},
		{"read fails", func(f *fake, _ *Options) { f.readErr = errors.New("boom") }, read, "boom"},
		{"no record", func(f *fake, _ *Options) { f.records = nil }, read, "no record"},
		{"record violates schema", func(f *fake, _ *Options) {
			f.records[1].Data = json.RawMessage(`{"id":"two"}`)
		}, read, "record 1 of stream \"contacts\" does not validate"},
		{"record of unknown stream", func(f *fake, _ *Options) { f.records[0].Stream = "nope" }, read, "which Discover did not list"},
		{"record without primary key", func(f *fake, _ *Options) {
			f.streams[0].Schema = json.RawMessage(`{"type":"object"}`)
			f.records[0].Data = json.RawMessage(`{"email":"x@example.com"}`)
		}, read, "primary key field \"id\""},
		{"no checkpoint", func(f *fake, _ *Options) { f.noCheckpoint = true }, read, "no checkpoint"},
		{"invalid checkpoint", func(f *fake, _ *Options) { f.badCheckpoint = true }, read, "not valid JSON"},

		{"good mapping", func(*fake, *Options) {}, mapping, ""},
		{"mapping to an unknown field", func(f *fake, _ *Options) {
			f.streams[0].Mapping.Fields["emial"] = connector.P("email")
		}, mapping, `unknown target field "emial"`},
		{"mapping rejects a record", func(f *fake, _ *Options) {
			f.streams[0].Mapping.Fields["updated_at"] = connector.Expr{Path: "email", Type: "timestamp"}
		}, mapping, "the default mapping rejects a record"},

		{"good reread", func(*fake, *Options) {}, reread, ""},
		{"state ignored", func(f *fake, _ *Options) { f.ignoreState = true }, reread, "emitted again 3 record(s)"},
		{"state ignored on a full-refresh stream", func(f *fake, _ *Options) {
			f.ignoreState = true
			f.streams[0].CursorField = ""
		}, reread, ""},
		{"reread after a failed first read", func(f *fake, _ *Options) { f.noCheckpoint = true }, reread, "without a valid first read"},

		{"good selection", func(f *fake, _ *Options) { notes(f) }, selection, ""},
		{"one stream only", func(*fake, *Options) {}, selection, ""},
		{"selection ignored", func(f *fake, _ *Options) {
			notes(f)
			f.ignoreStreams = true
		}, selection, `emitted 1 record(s) or reject(s) of stream "notes"`},
		{"selection taken for exclusion", func(f *fake, _ *Options) {
			notes(f)
			f.excludeStreams = true
		}, selection, `asked for stream "contacts" alone emitted none of its records`},

		{"good cancel", func(*fake, *Options) {}, cancel, ""},
		{"cancellation swallowed", func(f *fake, _ *Options) { f.swallowEmitError = true }, cancel, "returned nil"},
		{"nothing to cancel", func(f *fake, _ *Options) { f.records = nil }, cancel, "without emitting a record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, opts := newFake(), goodOptions()
			tt.breakIt(f, &opts)
			err := tt.check(newSuite(f, opts))(t.Context())
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("check failed on a good connector: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("check passed, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestCancelCatchesReadThatDoesNotReturn(t *testing.T) {
	f := newFake()
	f.hangOnEmitError = make(chan struct{})
	t.Cleanup(func() { close(f.hangOnEmitError) })
	s := newSuite(f, goodOptions())
	s.cancelTimeout = 10 * time.Millisecond // the fake blocks until cleanup, so any bound is exceeded
	err := s.cancel(t.Context())
	if err == nil || !strings.Contains(err.Error(), "did not return") {
		t.Fatalf("err = %v, want one saying Read did not return", err)
	}
}

func TestCollectorDelivered(t *testing.T) {
	ctx := t.Context()
	var c Collector
	rec := func(id string) connector.Record {
		return connector.Record{Stream: "s", Data: json.RawMessage(`{"id":"` + id + `"}`)}
	}
	for _, step := range []func() error{
		func() error { return c.Emit(ctx, rec("1")) },
		func() error { return c.Checkpoint(ctx, json.RawMessage(`1`)) },
		func() error { return c.Emit(ctx, rec("2")) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	got := c.Delivered()
	if len(got) != 1 || string(got[0].Data) != `{"id":"1"}` {
		t.Fatalf("Delivered() = %v, want only record 1", got)
	}
	if string(c.State()) != "1" {
		t.Fatalf("State() = %s, want 1", c.State())
	}
}
