package parquet

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
)

// benchRows builds n distinct, realistic rows of a table: strings of a few
// thousand distinct values, two-element lists, and every seventh value of
// an optional column null.
func benchRows(tb *model.Table, n int) [][]any {
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		row := make([]any, len(tb.Columns))
		for j, c := range tb.Columns {
			switch {
			case c.List:
				row[j] = []string{fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("q%d@example.org", i)}
			case c.Type == model.String:
				row[j] = fmt.Sprintf("%s-%d", c.Name, i%5000)
			case c.Type == model.Integer:
				row[j] = int64(i % 97)
			case c.Type == model.Number:
				row[j] = float64(i%1000) * 1.25
			case c.Type == model.Boolean:
				row[j] = i%3 == 0
			case c.Type == model.Timestamp:
				row[j] = base.Add(time.Duration(i) * time.Minute)
			case c.Type == model.Date:
				row[j] = base.AddDate(0, 0, -i%20000)
			}
			if !c.Required && (i+j)%7 == 0 {
				row[j] = nil
			}
		}
		rows[i] = row
	}
	return rows
}

// benchWrite writes b.N rows of a table to one file; run it with
// -benchtime=1000000x for the 1M-row figures.
func benchWrite(b *testing.B, table string) {
	tb := model.MustLoad(table)
	rows := benchRows(tb, 4096)
	path := filepath.Join(b.TempDir(), table+".parquet")
	b.ReportAllocs()
	b.ResetTimer()
	w, err := NewWriter(context.Background(), path, tb, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if err := w.Write(rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkWriteCustomer(b *testing.B)     { benchWrite(b, "customer") }
func BenchmarkWriteIdentityLink(b *testing.B) { benchWrite(b, "identity_link") }
func BenchmarkWriteEvent(b *testing.B)        { benchWrite(b, "event") }
