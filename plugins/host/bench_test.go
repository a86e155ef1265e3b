package host_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/desilo/desilo/connectors/files"
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

// BenchmarkBoundary reads 200-byte records in-process and through a plugin
// process, to show what the process boundary costs. One op is one record.
//
//   - fake: a connector that does no work of its own (a checkpoint every
//     10,000 records), so the figure is the boundary's cost alone;
//
//   - files: the files connector reading the same records from a JSON
//     Lines file, a real connector's work on one side of the boundary.
//
//     go test -run '^$' -bench Boundary -benchtime 2000000x ./plugins/host
func BenchmarkBoundary(b *testing.B) {
	b.Run("fake", benchmarkFake)
	b.Run("files", benchmarkFiles)
}

func benchmarkFake(b *testing.B) {
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

func benchmarkFiles(b *testing.B) {
	// One file of 1M records, written once and read b.N records at a time
	// would skew nothing but setup; so the file has exactly b.N records.
	path := filepath.Join(b.TempDir(), "items.jsonl")
	write := func(n int) {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		rec := fakeRecord(165)
		for i := 0; i < n; i++ {
			w.Write(rec(i))
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	config := json.RawMessage(`{"streams":[{"name":"items","paths":["` + path + `"],"primary_key":["id"]}]}`)
	run := func(b *testing.B, c connector.Connector) {
		write(b.N)
		out := &counter{}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if err := c.Read(context.Background(), connector.ReadRequest{Config: config}, out); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if out.records != b.N {
			b.Fatalf("got %d records, want %d", out.records, b.N)
		}
		b.ReportMetric(float64(out.records)/time.Since(start).Seconds(), "records/s")
		b.ReportMetric(float64(out.bytes)/float64(out.records), "bytes/record")
	}
	b.Run("in-process", func(b *testing.B) { run(b, files.New()) })
	b.Run("plugin", func(b *testing.B) {
		b.Setenv(fakePluginEnv, "files")
		h := host.New(host.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		b.Cleanup(h.Close)
		p, err := h.Launch(context.Background(), host.Target{Source: "src", Connector: "files", Path: os.Args[0]})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p)
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
