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
	send    func(*proto.ReadBatch) error
	cur     *proto.ReadBatch
	streams map[string]uint32 // index of a stream name in cur.Streams
}

func (b *batcher) batch() *proto.ReadBatch {
	if b.cur == nil {
		b.cur = &proto.ReadBatch{
			Data:        make([]byte, 0, 256<<10),
			Sizes:       make([]uint32, 0, BatchRecords),
			StreamIndex: make([]uint32, 0, BatchRecords),
		}
		clear(b.streams)
	}
	return b.cur
}

func (b *batcher) Emit(ctx context.Context, r connector.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cur := b.batch()
	idx, ok := b.streams[r.Stream]
	if !ok {
		if b.streams == nil {
			b.streams = map[string]uint32{}
		}
		idx = uint32(len(cur.Streams))
		b.streams[r.Stream] = idx
		cur.Streams = append(cur.Streams, r.Stream)
	}
	if r.Deleted {
		cur.Deleted = append(cur.Deleted, uint32(len(cur.Sizes)))
	}
	cur.Data = append(cur.Data, r.Data...)
	cur.Sizes = append(cur.Sizes, uint32(len(r.Data)))
	cur.StreamIndex = append(cur.StreamIndex, idx)
	if len(cur.Sizes) >= BatchRecords || len(cur.Data) >= BatchBytes {
		return b.flush()
	}
	return nil
}

func (b *batcher) Reject(ctx context.Context, r connector.Reject) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cur := b.batch()
	cur.Rejects = append(cur.Rejects, &proto.Reject{
		Stream:   r.Stream,
		Location: r.Location,
		Reason:   r.Reason,
		Raw:      append([]byte(nil), r.Raw...),
	})
	if len(cur.Rejects) >= BatchRecords || len(cur.Data)+len(cur.Rejects)*len(r.Raw) >= BatchBytes {
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
	cur := b.batch()
	cur.HasCheckpoint = true
	cur.Checkpoint = append([]byte(nil), state...)
	return b.flush()
}

func (b *batcher) flush() error {
	if b.cur == nil {
		return nil
	}
	// gRPC may read the sent message lazily: the next batch starts fresh.
	msg := b.cur
	b.cur = nil
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
