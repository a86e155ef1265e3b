package host_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/host"
)

// counter is the cheapest possible emitter, so that the benchmark measures
// the connector and the boundary, not the host's work.
type counter struct{ records, bytes int }

func (c *counter) Emit(_ context.Context, r connector.Record) error {
	c.records++
	c.bytes += len(r.Data)
	return nil
}
func (c *counter) Reject(context.Context, connector.Reject) error    { return nil }
func (c *counter) Checkpoint(context.Context, json.RawMessage) error { return nil }

// BenchmarkBoundary reads 200-byte records from the fake connector, once
// in-process and once through a plugin process, to show what the process
// boundary costs. One op is one record; a checkpoint follows every 10,000
// records, as a SQL or files connector would send them.
//
//	go test -run '^$' -bench Boundary -benchtime 2000000x ./plugins/host
func BenchmarkBoundary(b *testing.B) {
	config := func(n int) json.RawMessage {
		return json.RawMessage(`{"mode":"ok","size":180,"every":10000,"count":` + itoa(n) + `}`)
	}
	run := func(b *testing.B, c connector.Connector) {
		out := &counter{}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if err := c.Read(context.Background(), connector.ReadRequest{Config: config(b.N)}, out); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if out.records != b.N {
			b.Fatalf("got %d records, want %d", out.records, b.N)
		}
		b.ReportMetric(float64(out.records)/time.Since(start).Seconds(), "records/s")
		b.ReportMetric(float64(out.bytes)/float64(out.records), "bytes/record")
	}
	b.Run("in-process", func(b *testing.B) { run(b, fake{}) })
	b.Run("plugin", func(b *testing.B) {
		p, _ := launchFake(b, host.Options{})
		run(b, p)
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
