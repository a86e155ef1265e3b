package imap

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/desilo/desilo/core/gen"
	"github.com/desilo/desilo/plugins/connector"
)

// countingEmitter counts what Read produces and keeps nothing.
type countingEmitter struct{ records, rejects int }

func (c *countingEmitter) Emit(context.Context, connector.Record) error { c.records++; return nil }
func (c *countingEmitter) Reject(context.Context, connector.Reject) error {
	c.rejects++
	return nil
}
func (c *countingEmitter) Checkpoint(context.Context, json.RawMessage) error { return nil }

// generatedMbox writes the generator's service mailbox for people people
// into a temporary folder and returns its path.
func generatedMbox(tb testing.TB, people int) string {
	tb.Helper()
	dir := tb.TempDir()
	o := gen.DefaultOptions()
	o.People = people
	if _, err := gen.Generate(context.Background(), dir, o); err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(dir, gen.FileMbox)
}

// BenchmarkMbox reads the mbox of `desilo gen` (the same shape as the
// end-to-end benchmark's mail source) and reports messages per second
// and allocations per message.
func BenchmarkMbox(b *testing.B) {
	benchmarkMboxPath(b, generatedMbox(b, 5000))
}

func benchmarkMboxPath(b *testing.B, path string) {
	cfg, err := json.Marshal(map[string]any{"mbox": []string{path}, "own_addresses": []string{"@lindenblatt-kaffee.de"}})
	if err != nil {
		b.Fatal(err)
	}
	req := connector.ReadRequest{Config: cfg}
	var msgs int
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		c := &countingEmitter{}
		if err := New().Read(context.Background(), req, c); err != nil {
			b.Fatal(err)
		}
		if c.records == 0 || c.rejects != 0 {
			b.Fatalf("%d records, %d rejects", c.records, c.rejects)
		}
		msgs += c.records
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(msgs), "allocs/msg")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(msgs), "B/msg")
}

// BenchmarkMboxFile is BenchmarkMbox on the mbox file named by
// $DESILO_BENCH_MBOX (say the service mailbox of `desilo gen --people
// 20000`); skipped when it is not set.
func BenchmarkMboxFile(b *testing.B) {
	path := os.Getenv("DESILO_BENCH_MBOX")
	if path == "" {
		b.Skip("DESILO_BENCH_MBOX is not set")
	}
	benchmarkMboxPath(b, path)
}
