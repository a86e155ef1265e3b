package rpc

import (
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	protobuf "google.golang.org/protobuf/proto"

	"github.com/desilo/desilo/plugins/internal/proto"
)

// decodeBoth decodes msg with the batch codec and with the proto package
// and fails the test unless both agree: the same error-ness, the same
// message, and a Data that points into msg.
func decodeBoth(t *testing.T, msg []byte) {
	t.Helper()
	var c batchCodec
	got := &proto.ReadBatch{Sizes: []uint32{9}, HasCheckpoint: true} // leftovers of a previous batch
	gerr := c.decode(msg, got)
	want := &proto.ReadBatch{}
	werr := protobuf.Unmarshal(msg, want)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("codec error %v, proto error %v, for % x", gerr, werr, msg)
	}
	if gerr != nil {
		return
	}
	// The codec drops unknown fields only if they are the data field's.
	if !protobuf.Equal(got, want) {
		t.Fatalf("codec decoded\n %v\nproto decoded\n %v", got, want)
	}
	if len(got.Data) > 0 && !inside(msg, got.Data) {
		t.Fatalf("Data was copied, not taken from the message")
	}
}

// inside reports whether part is a slice of msg's memory.
func inside(msg, part []byte) bool {
	for i := range msg {
		if &msg[i] == &part[0] {
			return true
		}
	}
	return false
}

func randomBatch(rng *rand.Rand) *proto.ReadBatch {
	b := &proto.ReadBatch{}
	n := rng.IntN(20)
	for i := range n {
		rec := make([]byte, rng.IntN(40))
		for j := range rec {
			rec[j] = byte(rng.IntN(256))
		}
		b.Data = append(b.Data, rec...)
		b.Sizes = append(b.Sizes, uint32(len(rec)))
		b.StreamIndex = append(b.StreamIndex, uint32(rng.IntN(3)))
		if rng.IntN(4) == 0 {
			b.Deleted = append(b.Deleted, uint32(i))
		}
	}
	if n > 0 {
		b.Streams = []string{"contacts", "orders", "tickets"}
	}
	if rng.IntN(3) == 0 {
		b.Rejects = append(b.Rejects, &proto.Reject{Stream: "orders", Location: "line 7", Reason: "bad", Raw: []byte("x,y")})
	}
	if rng.IntN(3) == 0 {
		b.HasCheckpoint, b.Checkpoint = true, []byte(`{"cursor":"2024-01-01"}`)
	}
	return b
}

// The codec decodes what the proto package decodes: batches as the plugin
// sends them, and wire forms the plugin never sends but proto allows (the
// data field twice, the last winning; unpacked repeated fields; unknown
// fields; a data field of the wrong wire type) and damaged ones.
func TestBatchCodecDecodesLikeProto(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 300 {
		msg, err := protobuf.Marshal(randomBatch(rng))
		if err != nil {
			t.Fatal(err)
		}
		decodeBoth(t, msg)
		if len(msg) > 1 {
			decodeBoth(t, msg[:rng.IntN(len(msg))]) // cut short
		}
	}
	var msg []byte
	msg = protowire.AppendTag(msg, 1, protowire.BytesType)
	msg = protowire.AppendBytes(msg, []byte("first"))
	msg = protowire.AppendTag(msg, 2, protowire.VarintType) // unpacked sizes
	msg = protowire.AppendVarint(msg, 3)
	msg = protowire.AppendTag(msg, 99, protowire.BytesType) // unknown
	msg = protowire.AppendBytes(msg, []byte("?"))
	msg = protowire.AppendTag(msg, 1, protowire.BytesType)
	msg = protowire.AppendBytes(msg, []byte("abc"))
	msg = protowire.AppendTag(msg, 2, protowire.VarintType)
	msg = protowire.AppendVarint(msg, 0)
	decodeBoth(t, msg)
	wrongType := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 5)
	decodeBoth(t, wrongType)
	badUTF8 := protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), []byte{0xff})
	decodeBoth(t, badUTF8)
	decodeBoth(t, nil)
}

func FuzzBatchCodec(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		msg, err := protobuf.Marshal(randomBatch(rng))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, msg []byte) { decodeBoth(t, msg) })
}

// Unmarshal keeps the message a batch was decoded from until the next
// batch or release, and frees it then; other messages pass to gRPC's
// proto codec.
func TestBatchCodecHoldsOneMessage(t *testing.T) {
	pool := &countingPool{BufferPool: mem.DefaultBufferPool()}
	c := &batchCodec{pool: pool}
	var b proto.ReadBatch
	for i, text := range []string{"one", "two", "six"} {
		// Larger than gRPC's threshold for pooling a buffer.
		text = strings.Repeat(text, 1000)
		msg, err := protobuf.Marshal(&proto.ReadBatch{Data: []byte(text), Sizes: []uint32{uint32(len(text))}, StreamIndex: []uint32{0}, Streams: []string{"s"}})
		if err != nil {
			t.Fatal(err)
		}
		// In one buffer, or in two that the codec joins.
		var data mem.BufferSlice
		if half := len(msg) / 2; i == 1 {
			data = mem.BufferSlice{mem.Copy(msg[:half], pool), mem.Copy(msg[half:], pool)}
		} else {
			data = mem.BufferSlice{mem.Copy(msg, pool)}
		}
		if err := c.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		data.Free() // as gRPC does once Unmarshal returns
		if string(b.Data) != text {
			t.Fatalf("batch %d: Data is not the batch's", i)
		}
		if pool.out != 1 {
			t.Fatalf("batch %d: %d buffers held, want the one Data points into", i, pool.out)
		}
	}
	c.release()
	if pool.out != 0 {
		t.Errorf("%d buffers not given back", pool.out)
	}
	var spec proto.SpecResponse
	msg, _ := protobuf.Marshal(&proto.SpecResponse{Name: "files"})
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(msg)}, &spec); err != nil || spec.Name != "files" {
		t.Errorf("another message: %v, %v", spec.Name, err)
	}
}

// countingPool counts the buffers taken from it and not yet put back.
type countingPool struct {
	mem.BufferPool
	out int
}

func (p *countingPool) Get(n int) *[]byte { p.out++; return p.BufferPool.Get(n) }
func (p *countingPool) Put(b *[]byte)     { p.out--; p.BufferPool.Put(b) }
