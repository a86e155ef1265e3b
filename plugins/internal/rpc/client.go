package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/internal/proto"
)

// Client is the host-side connector.Connector that talks to a plugin.
type Client struct {
	rpc proto.ConnectorClient
	// spec is fetched once; Spec() of the contract cannot fail, so the
	// host calls FetchSpec right after the handshake.
	spec connector.Spec
}

var _ connector.Connector = (*Client)(nil)

// FetchSpec asks the plugin for its spec and keeps it for Spec().
func (c *Client) FetchSpec(ctx context.Context) (connector.Spec, error) {
	r, err := c.rpc.Spec(ctx, &proto.SpecRequest{})
	if err != nil {
		return connector.Spec{}, FromStatus(err)
	}
	c.spec = connector.Spec{
		Name:            r.Name,
		Version:         r.Version,
		ProtocolVersion: int(r.ProtocolVersion),
		Description:     r.Description,
		ConfigSchema:    r.ConfigSchema,
	}
	return c.spec, nil
}

func (c *Client) Spec() connector.Spec { return c.spec }

func (c *Client) Check(ctx context.Context, config json.RawMessage) error {
	_, err := c.rpc.Check(ctx, &proto.CheckRequest{Config: config})
	return FromStatus(err)
}

func (c *Client) Discover(ctx context.Context, config json.RawMessage) ([]connector.Stream, error) {
	r, err := c.rpc.Discover(ctx, &proto.DiscoverRequest{Config: config})
	if err != nil {
		return nil, FromStatus(err)
	}
	out := make([]connector.Stream, len(r.Streams))
	for i, s := range r.Streams {
		out[i] = connector.Stream{
			Name:        s.Name,
			Description: s.Description,
			Schema:      s.Schema,
			PrimaryKey:  s.PrimaryKey,
			CursorField: s.CursorField,
		}
		if len(s.Mapping) > 0 {
			var m connector.Mapping
			if err := json.Unmarshal(s.Mapping, &m); err != nil {
				return nil, fmt.Errorf("%w: stream %s: default mapping: %v", ErrProtocol, s.Name, err)
			}
			out[i].Mapping = &m
		}
	}
	return out, nil
}

func (c *Client) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream on an early return
	codec := &batchCodec{}
	defer codec.release()
	stream, err := c.rpc.Read(ctx, &proto.ReadRequest{
		Config:  req.Config,
		Streams: req.Streams,
		State:   req.State,
	}, grpc.ForceCodecV2(codec))
	if err != nil {
		return FromStatus(err)
	}
	b := &proto.ReadBatch{}
	for {
		// Received into the same message each time: its Data points into
		// the codec's buffer, valid until the next batch.
		err := stream.RecvMsg(b)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return FromStatus(err)
		}
		if err := emitRecords(ctx, b, out); err != nil {
			return err
		}
		for _, r := range b.Rejects {
			if err := out.Reject(ctx, connector.Reject{Stream: r.Stream, Location: r.Location, Reason: r.Reason, Raw: r.Raw}); err != nil {
				return err
			}
		}
		if b.HasCheckpoint {
			if !json.Valid(b.Checkpoint) {
				return fmt.Errorf("%w: checkpoint is not valid JSON", ErrProtocol)
			}
			if err := out.Checkpoint(ctx, b.Checkpoint); err != nil {
				return err
			}
		}
	}
}

// emitRecords unpacks a batch's records. Their Data share the batch's
// buffer, so a record is valid until the next batch arrives; an Emitter
// that keeps a record must copy it.
func emitRecords(ctx context.Context, b *proto.ReadBatch, out connector.Emitter) error {
	n := len(b.Sizes)
	if len(b.StreamIndex) != n {
		return fmt.Errorf("%w: a batch has %d record sizes and %d stream indexes", ErrProtocol, n, len(b.StreamIndex))
	}
	deleted := b.Deleted
	off := 0
	for i, size := range b.Sizes {
		end := off + int(size)
		si := b.StreamIndex[i]
		if end > len(b.Data) || int(si) >= len(b.Streams) {
			return fmt.Errorf("%w: record %d of a batch is out of bounds", ErrProtocol, i)
		}
		r := connector.Record{Stream: b.Streams[si], Data: b.Data[off:end:end]}
		if len(deleted) > 0 && deleted[0] == uint32(i) {
			r.Deleted = true
			deleted = deleted[1:]
		}
		if err := out.Emit(ctx, r); err != nil {
			return err
		}
		off = end
	}
	if off != len(b.Data) || len(deleted) > 0 {
		return fmt.Errorf("%w: a batch's record sizes do not add up", ErrProtocol)
	}
	return nil
}

// ErrProtocol marks a plugin that broke the protocol.
var ErrProtocol = errors.New("connector broke the protocol")

// RemoteError is an error the connector returned, or the transport's
// failure, with the gRPC code kept so the host can explain it.
type RemoteError struct {
	Code codes.Code
	Msg  string
}

func (e *RemoteError) Error() string { return e.Msg }

// Is lets errors.Is see a cancellation that crossed the boundary.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case context.Canceled:
		return e.Code == codes.Canceled
	case context.DeadlineExceeded:
		return e.Code == codes.DeadlineExceeded
	}
	return false
}

// FromStatus turns a gRPC error into a RemoteError whose text is the
// connector's own message, not "rpc error: code = ... desc = ...".
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &RemoteError{Code: st.Code(), Msg: st.Message()}
}
