package mapping

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/desilo/desilo/connectors/builtin"
	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/gen"
	"github.com/desilo/desilo/plugins/connector"
)

// The silo benchmarks map what a sync of `desilo gen`'s data maps: the
// generator writes the four silos and their desilo.yaml, the built-in
// connectors read them in-process, and each stream's plan comes from the
// config's mapping or the connector's default, as the pipeline resolves
// it. Nothing is copied here, so the benchmark follows the generator, the
// connectors and the config as they change.

// silo is one stream's plan and sample records.
type silo struct {
	name    string
	plan    *Plan
	records [][]byte
}

// siloRecords is how many records of each stream the benchmarks cycle
// through.
const siloRecords = 200

// loadSilos generates a small data set and reads siloRecords records of
// every mapped stream of its config.
func loadSilos(tb testing.TB) []silo {
	dir := tb.TempDir()
	o := gen.DefaultOptions()
	o.People = 300
	if _, err := gen.Generate(context.Background(), dir, o); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "desilo.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Chdir(dir) // connectors read paths relative to the config, as a plugin does
	var out []silo
	for _, src := range cfg.Sources {
		c, ok := builtin.Get(src.Connector)
		if !ok {
			tb.Fatalf("source %s: no built-in connector %q", src.Name, src.Connector)
		}
		ctx := connector.WithLogger(context.Background(), slog.New(slog.DiscardHandler))
		streams, err := c.Discover(ctx, src.Config)
		if err != nil {
			tb.Fatal(err)
		}
		rec := &firstRecords{per: map[string][][]byte{}}
		if err := c.Read(ctx, connector.ReadRequest{Config: src.Config, Streams: src.Streams}, rec); err != nil {
			tb.Fatal(err)
		}
		for _, s := range streams {
			var override *connector.Mapping
			if m, ok := src.Mapping[s.Name]; ok {
				override = &m
			}
			if override == nil && s.Mapping == nil || len(rec.per[s.Name]) == 0 {
				continue // not mapped, or not read: the pipeline skips it too
			}
			p, err := Default(s, override)
			if err != nil {
				tb.Fatalf("%s/%s: %v", src.Name, s.Name, err)
			}
			out = append(out, silo{name: src.Name + "/" + s.Name, plan: p, records: rec.per[s.Name]})
		}
	}
	if len(out) < 5 {
		tb.Fatalf("only %d mapped streams with records in the generated data", len(out))
	}
	return out
}

// firstRecords keeps the first siloRecords records of each stream.
type firstRecords struct{ per map[string][][]byte }

func (f *firstRecords) Emit(_ context.Context, r connector.Record) error {
	if len(f.per[r.Stream]) < siloRecords {
		f.per[r.Stream] = append(f.per[r.Stream], append([]byte(nil), r.Data...)) // connectors reuse Data
	}
	return nil
}
func (f *firstRecords) Reject(context.Context, connector.Reject) error    { return nil }
func (f *firstRecords) Checkpoint(context.Context, json.RawMessage) error { return nil }

// BenchmarkMapSilos maps each silo's sample records in turn; ns/op is per
// record. cpu-ns/op is the process's CPU time per record (GC included),
// steadier than ns/op on a shared machine.
func BenchmarkMapSilos(b *testing.B) {
	for _, s := range loadSilos(b) {
		b.Run(s.name, func(b *testing.B) {
			row := make([]any, len(s.plan.Table().Columns))
			var size int
			for _, r := range s.records {
				size += len(r)
			}
			b.SetBytes(int64(size / len(s.records)))
			b.ReportAllocs()
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				rec := connector.Record{Data: s.records[i%len(s.records)]}
				if err := s.plan.Map("src", rec, row); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if cpu := cpuTime() - cpu; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// TestSilos makes sure every benchmark record maps, so the benchmarks
// measure the successful path.
func TestSilos(t *testing.T) {
	for _, s := range loadSilos(t) {
		for i, r := range s.records {
			row := make([]any, len(s.plan.Table().Columns))
			if err := s.plan.Map("src", connector.Record{Data: r}, row); err != nil {
				t.Errorf("%s record %d: %v", s.name, i, err)
			}
		}
	}
}
