package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/internal/proto"
)

// server runs in the plugin process and calls the author's connector.
type server struct {
	proto.UnimplementedConnectorServer
	impl connector.Connector
}

func (s *server) Spec(context.Context, *proto.SpecRequest) (*proto.SpecResponse, error) {
	sp := s.impl.Spec()
	return &proto.SpecResponse{
		Name:            sp.Name,
		Version:         sp.Version,
		ProtocolVersion: int32(sp.ProtocolVersion),
		Description:     sp.Description,
		ConfigSchema:    sp.ConfigSchema,
	}, nil
}

func (s *server) Check(ctx context.Context, req *proto.CheckRequest) (*proto.CheckResponse, error) {
	if err := s.impl.Check(ctx, req.Config); err != nil {
		return nil, toStatus(err)
	}
	return &proto.CheckResponse{}, nil
}

func (s *server) Discover(ctx context.Context, req *proto.DiscoverRequest) (*proto.DiscoverResponse, error) {
	streams, err := s.impl.Discover(ctx, req.Config)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &proto.DiscoverResponse{Streams: make([]*proto.Stream, len(streams))}
	for i, st := range streams {
		var m []byte
		if st.Mapping != nil {
			if m, err = json.Marshal(st.Mapping); err != nil {
				return nil, toStatus(fmt.Errorf("stream %s: encoding its default mapping: %w", st.Name, err))
			}
		}
		out.Streams[i] = &proto.Stream{
			Name:        st.Name,
			Description: st.Description,
			Schema:      st.Schema,
			PrimaryKey:  st.PrimaryKey,
			CursorField: st.CursorField,
			Mapping:     m,
		}
	}
	return out, nil
}

func (s *server) Read(req *proto.ReadRequest, stream proto.Connector_ReadServer) error {
	ctx := stream.Context()
	b := &batcher{send: stream.Send}
	err := s.impl.Read(ctx, connector.ReadRequest{
		Config:  req.Config,
		Streams: req.Streams,
		State:   req.State,
	}, b)
	// Send what was emitted even when Read failed: its rejects are worth
	// reporting, and its records are harmless without a checkpoint.
	if ferr := b.flush(); err == nil && ferr != nil {
		err = ferr
	}
	if err != nil {
		return toStatus(err)
	}
	return nil
}

// batcher is the plugin-side emitter: it packs records into batches and
// sends one when it is full or a checkpoint closes it. Send blocks under
// flow control, which is what slows a connector down to the host's pace.
type batcher struct {
	send  func(*proto.ReadBatch) error
	cur   proto.ReadBatch
	bytes int
	arena []byte // record data of the current batch, copied in one buffer
}

func (b *batcher) Emit(ctx context.Context, r connector.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.arena)+len(r.Data) > cap(b.arena) {
		size := max(BatchBytes, len(r.Data))
		b.arena = make([]byte, 0, size)
	}
	start := len(b.arena)
	b.arena = append(b.arena, r.Data...)
	b.cur.Records = append(b.cur.Records, &proto.Record{
		Stream:  r.Stream,
		Data:    b.arena[start:len(b.arena):len(b.arena)],
		Deleted: r.Deleted,
	})
	b.bytes += len(r.Data) + len(r.Stream)
	if len(b.cur.Records) >= BatchRecords || b.bytes >= BatchBytes {
		return b.flush()
	}
	return nil
}

func (b *batcher) Reject(ctx context.Context, r connector.Reject) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.cur.Rejects = append(b.cur.Rejects, &proto.Reject{
		Stream:   r.Stream,
		Location: r.Location,
		Reason:   r.Reason,
		Raw:      append([]byte(nil), r.Raw...),
	})
	b.bytes += len(r.Raw) + len(r.Reason) + len(r.Location)
	if b.bytes >= BatchBytes {
		return b.flush()
	}
	return nil
}

func (b *batcher) Checkpoint(ctx context.Context, state json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !json.Valid(state) {
		return errors.New("checkpoint state is not valid JSON")
	}
	b.cur.HasCheckpoint = true
	b.cur.Checkpoint = append([]byte(nil), state...)
	return b.flush()
}

func (b *batcher) flush() error {
	if len(b.cur.Records) == 0 && len(b.cur.Rejects) == 0 && !b.cur.HasCheckpoint {
		return nil
	}
	msg := &proto.ReadBatch{
		Records:       b.cur.Records,
		Rejects:       b.cur.Rejects,
		HasCheckpoint: b.cur.HasCheckpoint,
		Checkpoint:    b.cur.Checkpoint,
	}
	// The sent message may be read lazily by gRPC: start fresh buffers.
	b.cur = proto.ReadBatch{Records: make([]*proto.Record, 0, BatchRecords)}
	b.bytes = 0
	b.arena = nil
	return b.send(msg)
}

// toStatus carries a connector error across the boundary. Error identity
// does not survive the hop, so cancellation gets its gRPC code and
// everything else its message.
func toStatus(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}
