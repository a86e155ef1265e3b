package identity

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchRecords makes n records of about n/1.6 people: 60% of people have
// one record, 20% two, 20% three; a record carries an email in 80% and a
// phone in 50% of cases, written in varying formats.
func benchRecords(n int) []Record {
	rng := rand.New(rand.NewPCG(1, 2))
	sources := []string{"crm", "shop", "desk"}
	recs := make([]Record, 0, n)
	for p := 0; len(recs) < n; p++ {
		k := 1
		switch x := rng.IntN(10); {
		case x >= 8:
			k = 3
		case x >= 6:
			k = 2
		}
		email := fmt.Sprintf("first%d.last@domain%d.de", p, p%5000)
		sub := 1000000 + p%9000000
		pre := p / 9000000 % 10
		for r := 0; r < k && len(recs) < n; r++ {
			f := make(map[string][]string, 2)
			if rng.IntN(10) < 8 {
				if rng.IntN(2) == 0 {
					f["email"] = []string{email}
				} else {
					f["email"] = []string{fmt.Sprintf("First%d.Last@Domain%d.de", p, p%5000)}
				}
			}
			if rng.IntN(2) == 0 {
				switch rng.IntN(3) {
				case 0:
					f["phone"] = []string{fmt.Sprintf("017%d %07d", pre, sub)}
				case 1:
					f["phone"] = []string{fmt.Sprintf("+49 17%d %07d", pre, sub)}
				default:
					f["phone"] = []string{fmt.Sprintf("+4917%d%07d", pre, sub)}
				}
			}
			recs = append(recs, Record{
				Source: sources[r%len(sources)], Stream: "contacts", Key: fmt.Sprintf("%d-%d", p, r),
				Entity: "customer", Seen: day(rng.IntN(1000)), Fields: f,
			})
		}
	}
	return recs
}

// BenchmarkResolve resolves 1M records with email and phone keys and
// reports time and allocated bytes per record, and the bytes per record
// the result keeps alive. "all" is Resolve; "link" is Index.Resolve alone,
// everything after normalization (which phone parsing dominates).
func BenchmarkResolve(b *testing.B) {
	const n = 1_000_000
	recs := benchRecords(n)
	rules := Rules{
		Keys: []Key{
			{Name: "email", UseDefaultBlocklist: true, MaxRecordsPerValue: 50},
			{Name: "phone", UseDefaultBlocklist: true, MaxRecordsPerValue: 10},
		},
		DefaultRegion: "DE",
	}
	b.Run("all", func(b *testing.B) {
		measure(b, n, func() func() *Result {
			return func() *Result {
				res, err := Resolve(context.Background(), recs, rules, nil)
				if err != nil {
					b.Fatal(err)
				}
				return res
			}
		})
	})
	b.Run("link", func(b *testing.B) {
		measure(b, n, func() func() *Result {
			ix, err := NewIndex(rules)
			if err == nil {
				err = ix.AddBatch(context.Background(), recs)
			}
			if err != nil {
				b.Fatal(err)
			}
			return func() *Result {
				res, err := ix.Resolve(context.Background(), nil)
				if err != nil {
					b.Fatal(err)
				}
				return res
			}
		})
	})
	runtime.KeepAlive(recs)
}

// measure times b.N runs of what prepare returns (prepare itself is not
// timed) and reports per-record time, allocated bytes, the bytes the
// result keeps alive, and the records per customer.
func measure(b *testing.B, n int, prepare func() func() *Result) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var alloc uint64
	var res *Result
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res = nil
		run := prepare()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		b.StartTimer()
		res = run()
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		alloc += ms.TotalAlloc - before
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(float64(alloc)/float64(b.N*n), "B/record")
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(base))/float64(n), "live-B/record")
	b.ReportMetric(float64(n)/float64(res.Counts.Customers), "records/customer")
	runtime.KeepAlive(res)
}
