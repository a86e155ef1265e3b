package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

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
	b := &batcher{send: stream.Send, after: FlushAfter}
	err := s.impl.Read(ctx, connector.ReadRequest{
		Config:  req.Config,
		Streams: req.Streams,
		State:   req.State,
	}, b)
	// Send what was emitted even when Read failed: its rejects are worth
	// reporting, and its records are harmless without a checkpoint.
	if ferr := b.close(); err == nil && ferr != nil {
		err = ferr
	}
	if err != nil {
		return toStatus(err)
	}
	return nil
}

// batcher is the plugin-side emitter: it packs records into batches and
// sends one when it is full, when a checkpoint closes it, or when its first
// record has waited for after. Send blocks under flow control, which is
// what slows a connector down to the host's pace.
//
// The late flush runs on a timer armed once per batch, not on a clock read
// per record, so that it costs a fast connector nothing but an uncontended
// lock; it also delivers the records of a connector that emits and then
// blocks for minutes.
//
// One batch message is reused from send to send: gRPC marshals a message
// before SendMsg returns, and the plugin's server has neither tracing nor
// a stats handler, the only parts of gRPC that could look at a sent
// message later. Reusing it spares a megabyte of allocation (and the
// garbage collection it costs) per batch, and the growing of its buffers.
type batcher struct {
	send  func(*proto.ReadBatch) error
	after time.Duration // 0: no late flush

	mu      sync.Mutex        // the connector's calls and the timer's flush
	timer   *time.Timer       // the late flush of the open batch
	err     error             // the late flush's failed send, for the next call
	closed  bool              // Read has returned: no late flush may send
	cur     *proto.ReadBatch  // the batch being filled; nil: none yet
	open    bool              // cur holds something not yet sent
	streams map[string]uint32 // index of a stream name in cur.Streams
}

// batchDataBytes is a new batch's data capacity: a full batch and a
// record past its limit, so that a batch of small records never grows.
const batchDataBytes = BatchBytes + 64<<10

func (b *batcher) batch() *proto.ReadBatch {
	if b.open {
		return b.cur
	}
	if b.cur == nil {
		b.cur = &proto.ReadBatch{
			Data:        make([]byte, 0, batchDataBytes),
			Sizes:       make([]uint32, 0, BatchRecords),
			StreamIndex: make([]uint32, 0, BatchRecords),
		}
	}
	b.open = true
	clear(b.streams)
	if b.after > 0 {
		if b.timer == nil {
			b.timer = time.AfterFunc(b.after, b.flushLate)
		} else {
			b.timer.Reset(b.after)
		}
	}
	return b.cur
}

// flushLate sends a batch whose first record has waited long enough.
func (b *batcher) flushLate() {
	b.mu.Lock()
	defer b.mu.Unlock()
	// A timer stopped too late finds its batch sent, or (harmlessly) sends
	// a younger one early.
	if !b.closed && b.err == nil {
		b.err = b.flush()
	}
}

// reset empties the sent batch for reuse. A buffer that a huge record
// grew far past a batch is let go rather than kept for the whole read.
func (b *batcher) reset() {
	c := b.cur
	b.open = false
	if cap(c.Data) > 4*batchDataBytes {
		c.Data = make([]byte, 0, batchDataBytes)
	}
	c.Data = c.Data[:0]
	c.Sizes = c.Sizes[:0]
	c.StreamIndex = c.StreamIndex[:0]
	clear(c.Streams)
	c.Streams = c.Streams[:0]
	c.Deleted = c.Deleted[:0]
	clear(c.Rejects)
	c.Rejects = c.Rejects[:0]
	c.HasCheckpoint = false
	c.Checkpoint = c.Checkpoint[:0]
}

func (b *batcher) Emit(ctx context.Context, r connector.Record) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.ready(ctx); err != nil {
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
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.ready(ctx); err != nil {
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
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.ready(ctx); err != nil {
		return err
	}
	if !json.Valid(state) {
		return errors.New("checkpoint state is not valid JSON")
	}
	cur := b.batch()
	cur.HasCheckpoint = true
	cur.Checkpoint = append(cur.Checkpoint[:0], state...)
	return b.flush()
}

// ready returns why the connector's call cannot be taken; b.mu is held.
func (b *batcher) ready(ctx context.Context) error {
	if b.err != nil {
		return b.err
	}
	return ctx.Err()
}

// flush sends the open batch, if any; b.mu is held.
func (b *batcher) flush() error {
	if !b.open {
		return nil
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	err := b.send(b.cur)
	b.reset() // send has marshalled the batch: see batcher
	return err
}

// close sends what is left once Read has returned. After it, no late
// flush can send on the finished stream.
func (b *batcher) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.err != nil {
		return b.err
	}
	return b.flush()
}

// toStatus carries a connector error across the boundary. Error identity
// does not survive the hop, so cancellation and connector.ErrConfig get a
// gRPC code of their own and everything else its message.
func toStatus(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, connector.ErrConfig):
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}
