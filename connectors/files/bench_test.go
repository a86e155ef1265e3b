package files

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// counter is an Emitter that only counts, so a benchmark measures the
// connector.
type counter struct{ records, rejects int }

func (c *counter) Emit(context.Context, connector.Record) error    { c.records++; return nil }
func (c *counter) Reject(context.Context, connector.Reject) error  { c.rejects++; return nil }
func (*counter) Checkpoint(context.Context, json.RawMessage) error { return nil }

// BenchmarkRead reads a file of b.N rows of about 190 bytes; one op is one
// row. Run with a fixed count, e.g. -benchtime 200000x.
func BenchmarkRead(b *testing.B) {
	pad := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 6)[:120]
	benchmarks := []struct {
		name   string
		file   string
		header string
		row    func(i int) string
		cursor string
	}{
		{name: "jsonl", file: "a.jsonl", row: func(i int) string {
			return `{"id":` + strconv.Itoa(i) + `,"email":"user` + strconv.Itoa(i) + `@example.com","total":12.5,"pad":"` + pad + `"}`
		}},
		{name: "jsonl-spaced-cursor", file: "a.jsonl", cursor: "updated", row: func(i int) string {
			return `{"id": ` + strconv.Itoa(i) + `, "updated": "` + stamp(i) + `", "tags": ["a", "b"], "pad": "` + pad[:90] + `"}`
		}},
		{name: "csv", file: "a.csv", header: "id,name,email,city,updated,pad", row: func(i int) string {
			return strconv.Itoa(i) + ",Anna Müller,user" + strconv.Itoa(i) + "@example.com,Berlin,2024-01-01," + pad
		}},
		{name: "csv-cursor", file: "a.csv", cursor: "updated", header: "id,name,email,city,updated,pad", row: func(i int) string {
			return strconv.Itoa(i) + ",Anna Müller,user" + strconv.Itoa(i) + "@example.com,Berlin," + stamp(i) + "," + pad
		}},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), bm.file)
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(f)
			if bm.header != "" {
				w.WriteString(bm.header + "\n")
			}
			size := 0
			for i := 0; i < b.N; i++ {
				row := bm.row(i)
				size += len(row) + 1
				w.WriteString(row + "\n")
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			s := map[string]any{"name": "s", "paths": []string{path}, "primary_key": []string{"id"}}
			if bm.cursor != "" {
				s["cursor_field"] = bm.cursor
			}
			cfg, _ := json.Marshal(map[string]any{"streams": []any{s}})
			out := &counter{}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := New().Read(connector.WithLogger(context.Background(), slog.New(slog.DiscardHandler)), connector.ReadRequest{Config: cfg}, out); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if out.records != b.N || out.rejects != 0 {
				b.Fatalf("%d records, %d rejects; want %d, 0", out.records, out.rejects, b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
			b.ReportMetric(float64(size)/float64(b.N), "bytes/row")
		})
	}
}

// stamp is an ISO 8601 time that rises with i, every two rows.
func stamp(i int) string {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i/2) * time.Second).Format(time.RFC3339)
}
