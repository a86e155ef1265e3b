package main

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/desilo/desilo/core/stage"
)

// The build's memory budget: a soft limit (debug.SetMemoryLimit) of
// buildBytesPerRecord for each live staged record (see liveRecords), at
// least buildMemoryFloor.
// The limit, not GOGC, bounds the build's heap: the collector keeps its
// default pace until the heap nears the budget. Under a limit the runtime
// also returns freed pages to the OS as it goes; without one a build's RSS
// ran 50-70 MB above its heap, a fifth of its peak at 1 M records. The
// figure sits above the heap a build needs at its peak (identity, about
// 220 bytes a record on the benchmark data), so the collector seldom has
// to run back to back to hold it. Measured at 1 M records against the
// earlier GOGC=30 without a limit: peak RSS down from about 295 to 250
// bytes a record, and a third less CPU in the collector (BENCHMARKS.md).
// GOMEMLIMIT, when set, replaces the budget.
const (
	buildBytesPerRecord = 224
	buildMemoryFloor    = 128 << 20
)

// Data whose live heap outgrows the budget (many keys a record, say)
// would make the collector run back to back. The watchdog lifts the
// limit by a quarter whenever the collector took more than gcShareMax
// of the CPU over the last watchEvery while the process's memory was
// within nearLimit of the limit. A busy collector with memory well below
// the limit is the runtime's own pace on a small heap, as at a build's
// start, which a higher limit does not change: raising it then, as the
// watchdog did at first, let a 4.2 M-record build peak 25% higher
// (1.17 GB against 0.95) in about half the runs.
const (
	gcShareMax = 0.3
	watchEvery = 500 * time.Millisecond
	nearLimit  = 0.9
)

// liveRecords counts the records a build of the store will hold, for its
// memory budget. A stream staged by one extraction session holds about
// its rows. One staged by several may hold superseded versions until
// compaction (a files source re-read each night stages every record
// again), so its live records are counted from the segments' keys: the
// build reads those keys again, so only where it pays. Counted as staged
// rows, those versions let a 1 M-record build peak at 330-400 B/record.
// A stream whose keys cannot be read counts its rows, an upper bound.
func liveRecords(ctx context.Context, store *stage.Store) int64 {
	var n int64
	for _, ref := range store.Streams() {
		if ref.Sessions > 1 {
			if live, err := store.LiveRows(ctx, ref.Source, ref.Stream); err == nil {
				n += live
				continue
			}
		}
		n += ref.Rows
	}
	return n
}

// budgetBuildMemory sets the memory limit for a build of records live
// records and starts its watchdog. The returned func stops the watchdog
// and restores the previous limit.
func budgetBuildMemory(records int64, log *slog.Logger) (stop func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := buildLimit(records)
	prev := debug.SetMemoryLimit(limit)
	log.Debug("build memory budget", "records", records, "limit_bytes", limit)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		watchGC(done, watchEvery, limit, newGCShare(), memoryInUse, func(l int64) {
			debug.SetMemoryLimit(l)
			log.Debug("the collector was busy: build memory budget raised", "limit_bytes", l)
		})
	}()
	return func() {
		close(done)
		<-exited
		debug.SetMemoryLimit(prev)
	}
}

// buildLimit is the memory budget for a build of records live records.
func buildLimit(records int64) int64 {
	if records > math.MaxInt64/buildBytesPerRecord {
		return math.MaxInt64
	}
	return max(buildMemoryFloor, records*buildBytesPerRecord)
}

// watchGC samples the collector's share of the CPU every tick until
// done is closed, and raises limit by a quarter through set each time the
// share is above gcShareMax while inUse, the memory the process holds, is
// at least nearLimit of the limit.
func watchGC(done <-chan struct{}, every time.Duration, limit int64, share func() float64, inUse func() uint64, set func(int64)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			busy := share() > gcShareMax // sampled every tick: the share is since the last call
			if busy && float64(inUse()) >= nearLimit*float64(limit) && limit < math.MaxInt64/2 {
				limit += limit / 4
				set(limit)
			}
		}
	}
}

// memoryInUse is the memory the Go runtime holds from the OS, less what
// it has returned: what the memory limit counts.
func memoryInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// newGCShare returns a func that reports the collector's share, since
// its previous call, of the CPU time the process had (GOMAXPROCS times
// the wall time): the measure the runtime caps at half when it holds a
// memory limit.
func newGCShare() func() float64 {
	samples := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	read := func() (float64, float64) {
		metrics.Read(samples)
		return samples[0].Value.Float64(), samples[1].Value.Float64()
	}
	lastGC, lastAll := read()
	return func() float64 {
		gc, all := read()
		dGC, dAll := gc-lastGC, all-lastAll
		lastGC, lastAll = gc, all
		if dAll <= 0 {
			return 0
		}
		return dGC / dAll
	}
}
