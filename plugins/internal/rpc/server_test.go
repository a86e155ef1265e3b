package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	protobuf "google.golang.org/protobuf/proto"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/internal/proto"
)

// event is one thing a connector hands its emitter, or the host receives.
type event struct {
	kind       string // record, reject, checkpoint
	stream     string
	data       string
	deleted    bool
	location   string
	checkpoint string
}

// collect is the host side: an Emitter that copies what it gets.
type collect struct{ events []event }

func (c *collect) Emit(_ context.Context, r connector.Record) error {
	c.events = append(c.events, event{kind: "record", stream: r.Stream, data: string(r.Data), deleted: r.Deleted})
	return nil
}

func (c *collect) Reject(_ context.Context, r connector.Reject) error {
	c.events = append(c.events, event{kind: "reject", stream: r.Stream, location: r.Location, data: string(r.Raw)})
	return nil
}

func (c *collect) Checkpoint(_ context.Context, s json.RawMessage) error {
	c.events = append(c.events, event{kind: "checkpoint", checkpoint: string(s)})
	return nil
}

// TestBatcherReusesBatches sends records, rejects and checkpoints through
// the batcher, whose batch message is reused from send to send, and checks
// that every sent batch, marshalled when it is sent as gRPC does, unpacks
// to exactly what was emitted: nothing of an earlier batch leaks into a
// later one.
func TestBatcherReusesBatches(t *testing.T) {
	ctx := context.Background()
	var wire [][]byte
	var sent []*proto.ReadBatch
	b := &batcher{send: func(m *proto.ReadBatch) error {
		raw, err := protobuf.Marshal(m)
		if err != nil {
			return err
		}
		wire = append(wire, raw)
		sent = append(sent, m)
		return nil
	}}
	var want []event
	// The connector reuses its record buffer, as the contract allows.
	buf := make([]byte, 0, 64)
	emit := func(stream string, data string, deleted bool) {
		buf = append(buf[:0], data...)
		if err := b.Emit(ctx, connector.Record{Stream: stream, Data: buf, Deleted: deleted}); err != nil {
			t.Fatal(err)
		}
		want = append(want, event{kind: "record", stream: stream, data: data, deleted: deleted})
	}
	huge := `{"pad":"` + strings.Repeat("x", BatchBytes+1000) + `"}`
	for i := range 3*BatchRecords + 17 {
		stream := []string{"a", "b", "c"}[i%3]
		if i > BatchRecords {
			stream = []string{"c", "d"}[i%2] // later batches name other streams
		}
		data := fmt.Sprintf(`{"id":%d,"pad":%q}`, i, strings.Repeat("y", i%300))
		switch {
		case i == 50:
			data = huge // a batch of its own, larger than a batch
		case i == 5000:
			data = huge[:BatchBytes/2] + `"}`
		}
		emit(stream, data, i%7 == 3)
		switch i {
		case 10, 4100, 9000:
			raw := []byte(fmt.Sprintf("bad row %d", i))
			if err := b.Reject(ctx, connector.Reject{Stream: stream, Location: fmt.Sprintf("f:%d", i), Reason: "bad", Raw: raw}); err != nil {
				t.Fatal(err)
			}
			clear(raw)
			want = append(want, event{kind: "reject", stream: stream, location: fmt.Sprintf("f:%d", i), data: fmt.Sprintf("bad row %d", i)})
		case 100, 4096 + 30, 4096*2 + 1:
			state := []byte(fmt.Sprintf(`{"at":%d}`, i))
			if err := b.Checkpoint(ctx, state); err != nil {
				t.Fatal(err)
			}
			clear(state)
			want = append(want, event{kind: "checkpoint", checkpoint: fmt.Sprintf(`{"at":%d}`, i)})
		}
	}
	if err := b.flush(); err != nil {
		t.Fatal(err)
	}
	if err := b.flush(); err != nil { // nothing left: sends nothing
		t.Fatal(err)
	}
	if len(wire) < 6 {
		t.Fatalf("%d batches sent, want at least 6", len(wire))
	}
	if sent[0] != sent[len(sent)-1] {
		t.Error("the batch message is not reused")
	}
	host := &collect{}
	for i, raw := range wire {
		var m proto.ReadBatch
		if err := protobuf.Unmarshal(raw, &m); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if len(m.Sizes) == 0 && len(m.Rejects) == 0 && !m.HasCheckpoint {
			t.Errorf("batch %d is empty", i)
		}
		if len(m.Streams) > 4 {
			t.Errorf("batch %d names %d streams", i, len(m.Streams))
		}
		if err := emitRecords(ctx, &m, host); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		for _, r := range m.Rejects {
			host.Reject(ctx, connector.Reject{Stream: r.Stream, Location: r.Location, Reason: r.Reason, Raw: r.Raw})
		}
		if m.HasCheckpoint {
			host.Checkpoint(ctx, m.Checkpoint)
		} else if len(m.Checkpoint) > 0 {
			t.Errorf("batch %d has checkpoint data and no checkpoint", i)
		}
	}
	// Within a batch the host sees records, then rejects, then the
	// checkpoint; compare each kind in order, and checkpoints' positions
	// by the records before them.
	for _, kind := range []string{"record", "reject", "checkpoint"} {
		g, w := only(host.events, kind), only(want, kind)
		if len(g) != len(w) {
			t.Fatalf("%d %ss received, %d emitted", len(g), kind, len(w))
		}
		for i := range g {
			if g[i] != w[i] {
				t.Fatalf("%s %d: received %+v, emitted %+v", kind, i, short(g[i]), short(w[i]))
			}
		}
	}
	if g, w := recordsBeforeCheckpoints(host.events), recordsBeforeCheckpoints(want); fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("checkpoints after %v records, emitted after %v", g, w)
	}
}

func only(events []event, kind string) []event {
	var out []event
	for _, e := range events {
		if e.kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func recordsBeforeCheckpoints(events []event) []int {
	var out []int
	n := 0
	for _, e := range events {
		switch e.kind {
		case "record":
			n++
		case "checkpoint":
			out = append(out, n)
		}
	}
	return out
}

func short(e event) event {
	if len(e.data) > 80 {
		e.data = e.data[:40] + "..." + e.data[len(e.data)-40:]
	}
	return e
}

// TestBatcherLetsGoOfHugeBuffers checks that a record far larger than a
// batch does not keep its buffer for the rest of the read.
func TestBatcherLetsGoOfHugeBuffers(t *testing.T) {
	b := &batcher{send: func(*proto.ReadBatch) error { return nil }}
	ctx := context.Background()
	if err := b.Emit(ctx, connector.Record{Stream: "s", Data: bytes.Repeat([]byte("x"), 5*batchDataBytes)}); err != nil {
		t.Fatal(err)
	}
	if b.open || cap(b.cur.Data) != batchDataBytes || len(b.cur.Data) != 0 {
		t.Fatalf("after a huge record: open %v, data %d of %d", b.open, len(b.cur.Data), cap(b.cur.Data))
	}
}

// TestBatcherSendsPartialBatchesLate checks that records do not wait for
// a full batch: a connector that emits one record and then blocks (on a
// rate-limited API, say) gets it sent after the batcher's delay, and one
// that emits slowly gets its records sent in order while the timer and
// its own calls take turns (run with -race). Nothing is sent once the
// batcher is closed.
func TestBatcherSendsPartialBatchesLate(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	closed := false
	sent := make(chan []string, 1000)
	b := &batcher{after: 5 * time.Millisecond, send: func(m *proto.ReadBatch) error {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			t.Error("a batch was sent after close")
		}
		var ids []string
		off := 0
		for _, n := range m.Sizes {
			ids = append(ids, string(m.Data[off:off+int(n)]))
			off += int(n)
		}
		if m.HasCheckpoint {
			ids = append(ids, "checkpoint "+string(m.Checkpoint))
		}
		sent <- ids
		return nil
	}}
	if err := b.Emit(ctx, connector.Record{Stream: "s", Data: []byte("0")}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sent:
		if fmt.Sprint(got) != "[0]" {
			t.Fatalf("first batch = %v, want [0]", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a record emitted before the connector blocked was not sent")
	}
	var want []string
	for i := 1; i <= 200; i++ {
		want = append(want, strconv.Itoa(i))
		if err := b.Emit(ctx, connector.Record{Stream: "s", Data: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			want = append(want, fmt.Sprintf("checkpoint %d", i))
			if err := b.Checkpoint(ctx, []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		if i%10 == 0 {
			time.Sleep(2 * time.Millisecond) // let the timer flush now and then
		}
	}
	want = append(want, "201")
	if err := b.Emit(ctx, connector.Record{Stream: "s", Data: []byte("201")}); err != nil {
		t.Fatal(err)
	}
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	closed = true
	mu.Unlock()
	time.Sleep(20 * time.Millisecond) // a late flush, were one still armed
	close(sent)
	var got []string
	batches := 0
	for ids := range sent {
		if len(ids) == 0 {
			t.Error("an empty batch was sent")
		}
		got = append(got, ids...)
		batches++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("received %v,\nemitted %v", got, want)
	}
	t.Logf("%d batches", batches)
}
