package parquet

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
)

// customerRows builds n distinct, realistic customer rows.
func customerRows(n int) [][]any {
	tb := model.MustLoad("customer")
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

// BenchmarkWriteCustomer writes b.N customer rows to one file; run it with
// -benchtime=1000000x for the 1M-row figure.
func BenchmarkWriteCustomer(b *testing.B) {
	tb := model.MustLoad("customer")
	rows := customerRows(4096)
	path := filepath.Join(b.TempDir(), "customer.parquet")
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
