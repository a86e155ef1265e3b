package stage

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"testing"
	"time"
)

const benchRecords = 1_000_000

// BenchmarkWriteScan stages 1M customer_record rows in one session (with
// checkpoints, default segment size) and scans them back, reporting rows/s
// of each phase and the bytes per record of Scan's dedup index.
// Run: go test -run '^$' -bench WriteScan -benchtime 1x ./core/stage
func BenchmarkWriteScan(b *testing.B) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	row := make([]any, len(customerRecord.Columns))
	fill := func(i int) {
		clear(row)
		set(customerRecord, row, "source", "crm")
		set(customerRecord, row, "stream", "contacts")
		set(customerRecord, row, "record_key", fmt.Sprint(i))
		set(customerRecord, row, "created_at", base.Add(time.Duration(i)*time.Second))
		set(customerRecord, row, "updated_at", base.Add(time.Duration(i)*time.Minute))
		set(customerRecord, row, "email", fmt.Sprintf("person%d@example.com", i))
		set(customerRecord, row, "phone", fmt.Sprintf("+49 30 %07d", i))
		set(customerRecord, row, "first_name", fmt.Sprintf("First%d", i%5000))
		set(customerRecord, row, "last_name", fmt.Sprintf("Last%d", i%20000))
		set(customerRecord, row, "birth_date", base.AddDate(-20-i%50, 0, -i%365))
		set(customerRecord, row, "city", fmt.Sprintf("City%d", i%300))
		set(customerRecord, row, "postal_code", fmt.Sprintf("%05d", i%99999))
		set(customerRecord, row, "country", "DE")
		set(customerRecord, row, "consent_email", i%3 == 0)
		set(customerRecord, row, "ids", []string{fmt.Sprintf("crm_id=%d", i)})
	}
	var writeTime, scanTime time.Duration
	for b.Loop() {
		s, _ := open(b, b.TempDir(), Options{CommitAge: time.Hour})
		start := time.Now()
		x := begin(b, s, BeginOptions{})
		for i := range benchRecords {
			fill(i)
			if err := x.Write("contacts", customerRecord, row, false); err != nil {
				b.Fatal(err)
			}
			if i%10_000 == 9_999 {
				checkpoint(b, x, fmt.Sprintf(`{"offset":%d}`, i+1))
			}
		}
		finish(b, x)
		writeTime += time.Since(start)

		start = time.Now()
		n := 0
		err := s.Scan(context.Background(), "crm", "contacts", func([]any) error { n++; return nil })
		if err != nil {
			b.Fatal(err)
		}
		scanTime += time.Since(start)
		if n != benchRecords {
			b.Fatalf("scanned %d rows, want %d", n, benchRecords)
		}
	}
	b.ReportMetric(float64(b.N*benchRecords)/writeTime.Seconds(), "write_rows/s")
	b.ReportMetric(float64(b.N*benchRecords)/scanTime.Seconds(), "scan_rows/s")
	b.ReportMetric(indexBytesPerRecord(benchRecords), "index_B/record")
	b.ReportMetric(0, "ns/op") // the per-phase figures above say more
}

// indexBytesPerRecord measures the heap Scan's dedup index takes for n
// distinct records, built as Scan builds it.
func indexBytesPerRecord(n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	seen := make(keySet, n)
	seed := maphash.MakeSeed()
	for i := range n {
		seen[maphash.String(seed, fmt.Sprint(i))] = struct{}{}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(seen)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
