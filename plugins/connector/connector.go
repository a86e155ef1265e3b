// Package connector is the contract between desilo and a source connector,
// as plain Go types. Nothing here knows about processes or gRPC: the host
// and the SDK translate at the edge, so a connector can also be run
// in-process (tests, the conformance kit, benchmarks).
package connector

import (
	"context"
	"encoding/json"
	"errors"
)

// ErrConfig marks an error as the source's config being wrong in a way
// its schema cannot say: a path that matches no file, a table that does
// not exist. Wrap it (fmt.Errorf("paths: %q matches no file: %w", p,
// connector.ErrConfig)) from Check, Discover or Read, and desilo reports
// an invalid configuration (exit code 3) rather than a failed source (4).
// It survives the process boundary as a gRPC code.
var ErrConfig = errors.New("the source's config is wrong")

// ProtocolVersion is the version of the host–plugin protocol. The host
// refuses a plugin that speaks another one.
const ProtocolVersion = 1

// Connector is what a source connector implements.
type Connector interface {
	// Spec describes the connector and the JSON Schema of its config.
	Spec() Spec
	// Check tests the config (credentials, reachability, paths) and returns
	// an error a user can act on when it is not usable.
	Check(ctx context.Context, config json.RawMessage) error
	// Discover lists the streams the config gives access to.
	Discover(ctx context.Context, config json.RawMessage) ([]Stream, error)
	// Read emits the records of the selected streams that are new since
	// req.State, with checkpoints in between. It returns when every selected
	// stream is read to its end, or with an error; an error means the run
	// of this source failed, never "completed with data missing".
	Read(ctx context.Context, req ReadRequest, out Emitter) error
}

// Spec describes a connector.
type Spec struct {
	Name            string `json:"name"`
	Version         string `json:"version"`
	ProtocolVersion int    `json:"protocol_version"`
	Description     string `json:"description,omitempty"`
	// ConfigSchema is the JSON Schema (draft 2020-12) of the connector's
	// config. The host validates a source's config against it before
	// Check, Discover or Read, so a connector may rely on its shape.
	ConfigSchema json.RawMessage `json:"config_schema"`
}

// Stream is one kind of record a source offers.
type Stream struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Schema is the JSON Schema (draft 2020-12) of one record's Data.
	// When it lists the properties and sets "additionalProperties": false,
	// desilo refuses a mapping path whose first field is not one of them.
	Schema json.RawMessage `json:"schema"`
	// PrimaryKey names the top-level fields whose values identify a record
	// within the stream. Staging keeps the latest version per key.
	PrimaryKey []string `json:"primary_key"`
	// CursorField is the field incremental reads advance by; empty when
	// the stream is read in full every time.
	CursorField string `json:"cursor_field,omitempty"`
	// Mapping is the stream's default mapping to the unified model; nil
	// when there is none (the user's config must then give one, or the
	// stream is not extracted).
	Mapping *Mapping `json:"mapping,omitempty"`
}

// ReadRequest is the input of Read.
type ReadRequest struct {
	Config json.RawMessage `json:"config"`
	// Streams are the names of the streams to read; empty means all.
	Streams []string `json:"streams,omitempty"`
	// State is the last checkpoint the host saved for this source, or nil
	// for a first (or full-refresh) read. Its content is the connector's
	// own business.
	State json.RawMessage `json:"state,omitempty"`
}

// Record is one source record.
type Record struct {
	Stream string `json:"stream"`
	// Data is one JSON object that validates against the stream's Schema.
	Data json.RawMessage `json:"data"`
	// Deleted marks a record the source deleted or archived. Data needs to
	// carry only the primary key fields.
	Deleted bool `json:"deleted,omitempty"`
}

// Reject is a source row the connector could not turn into a record (a CSV
// row with the wrong column count, invalid JSON, invalid UTF-8). It is
// reported, staged into the reject table, and the stream goes on.
type Reject struct {
	Stream string `json:"stream"`
	// Location says where the row is: "exports/a.csv:17", "page 3, item 5".
	Location string `json:"location"`
	Reason   string `json:"reason"`
	// Raw is the row as read, possibly truncated.
	Raw []byte `json:"raw,omitempty"`
}

// Emitter receives what Read produces, in order. Calls block when the host
// is slower than the connector (flow control) and return ctx's error when
// the read is cancelled; a connector returns as soon as a call fails.
// A record's Data (and a reject's Raw) belong to the caller: an Emitter
// that keeps them past the call copies them, so a connector may reuse its
// buffers as soon as a call returns.
type Emitter interface {
	Emit(ctx context.Context, r Record) error
	Reject(ctx context.Context, r Reject) error
	// Checkpoint says: every record emitted before it may be considered
	// delivered, and a later Read given this state must not emit them
	// again. The host saves it only after those records are durable.
	Checkpoint(ctx context.Context, state json.RawMessage) error
}
