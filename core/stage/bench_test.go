package stage

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"strconv"
	"testing"
	"time"
)

const benchRecords = 1_000_000

// BenchmarkWriteScan stages 1M customer_record rows in one session (with
// checkpoints, default segment size), compacts the segments into one and
// scans them back, reporting rows/s of each phase and the bytes per
// record of Scan's dedup index.
// Run: go test -run '^$' -bench WriteScan -benchtime 1x ./core/stage
func BenchmarkWriteScan(b *testing.B) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// Rows vary in every column; the values are built cheaply so the
	// figures measure the store, not the generator.
	col := func(name string) int { i, _ := customerRecord.Index(name); return i }
	key, created, updated, email, phone := col("record_key"), col("created_at"), col("updated_at"), col("email"), col("phone")
	first, last, birth, city, postal, ids := col("first_name"), col("last_name"), col("birth_date"), col("city"), col("postal_code"), col("ids")
	row := rec("", "")
	set(customerRecord, row, "country", "DE")
	fill := func(i int) {
		n := strconv.Itoa(i)
		row[key] = n
		row[created] = base.Add(time.Duration(i) * time.Second)
		row[updated] = base.Add(time.Duration(i) * time.Minute)
		row[email] = "person" + n + "@example.com"
		row[phone] = "+49 30 " + n
		row[first] = "First" + strconv.Itoa(i%5000)
		row[last] = "Last" + strconv.Itoa(i%20000)
		row[birth] = base.AddDate(0, 0, -7000-i%20000)
		row[city] = "City" + strconv.Itoa(i%300)
		row[postal] = strconv.Itoa(10000 + i%89999)
		row[ids] = []string{"crm_id=" + n}
	}
	// The package's tests cut row groups of a few rows; measure the
	// store as it runs.
	defer func(n int) { SegmentRowGroup = n }(SegmentRowGroup)
	SegmentRowGroup = 1 << 16
	var writeTime, scanTime, compactTime time.Duration
	for b.Loop() {
		s, _ := open(b, b.TempDir(), Options{CommitAge: time.Hour, CompactSegments: 100})
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

		// Compaction merges the session's segments (200,000 rows each).
		s.opts.CompactSegments = 1
		start = time.Now()
		if merged, err := s.Compact(context.Background(), "crm", "contacts"); err != nil || !merged {
			b.Fatalf("Compact = %v, %v", merged, err)
		}
		compactTime += time.Since(start)

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
	b.ReportMetric(float64(b.N*benchRecords)/compactTime.Seconds(), "compact_rows/s")
	b.ReportMetric(indexBytesPerRecord(benchRecords), "index_B/record")
	b.ReportMetric(0, "ns/op") // the per-phase figures above say more
}

// indexBytesPerRecord measures the heap Scan's dedup index takes for n
// distinct records, built as Scan builds it.
func indexBytesPerRecord(n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	seen := newKeySet(int64(n))
	seed := maphash.MakeSeed()
	for i := range n {
		seen.add(maphash.String(seed, strconv.Itoa(i)))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(seen)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
