package main

import (
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
	"time"
)

func TestBuildLimit(t *testing.T) {
	for _, c := range []struct{ records, want int64 }{
		{0, buildMemoryFloor},
		{1000, buildMemoryFloor},
		{10_000_000, 10_000_000 * buildBytesPerRecord},
		{math.MaxInt64 / 2, math.MaxInt64},
	} {
		if got := buildLimit(c.records); got != c.want {
			t.Errorf("buildLimit(%d) = %d, want %d", c.records, got, c.want)
		}
	}
}

// The limit rises only while the collector is busy and memory is near
// the limit: a busy collector on a small heap is the runtime's own pace.
func TestWatchGCRaisesTheLimitOnlyWhileTheCollectorIsBusyAtTheLimit(t *testing.T) {
	ticks := []struct {
		share float64
		inUse uint64
	}{{0.1, 950}, {0.5, 950}, {0.9, 100}, {0.2, 1200}, {0.9, 1200}, {0.3, 1500}}
	calls := 0
	done := make(chan struct{})
	var set []int64
	share := func() float64 {
		s := ticks[calls].share
		if calls++; calls == len(ticks) {
			close(done)
		}
		return s
	}
	inUse := func() uint64 { return ticks[calls-1].inUse }
	watchGC(done, time.Millisecond, 1000, share, inUse, func(l int64) { set = append(set, l) })
	if len(set) != 2 || set[0] != 1250 || set[1] != 1562 {
		t.Errorf("limits set: %v, want [1250 1562] (raised by a quarter after each share above %v with memory near the limit)", set, gcShareMax)
	}
}

func TestMemoryInUse(t *testing.T) {
	if n := memoryInUse(); n < 1<<20 || n > 1<<40 {
		t.Errorf("memoryInUse() = %d bytes", n)
	}
}

func TestBudgetBuildMemorySetsAndRestoresTheLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	before := debug.SetMemoryLimit(-1)
	stop := budgetBuildMemory(10_000_000, log)
	if got := debug.SetMemoryLimit(-1); got != buildLimit(10_000_000) {
		t.Errorf("limit during the build: %d, want %d", got, buildLimit(10_000_000))
	}
	stop()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after the build: %d, want the one before, %d", got, before)
	}
}

func TestBudgetBuildMemoryLeavesAUsersGOMEMLIMIT(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	before := debug.SetMemoryLimit(-1)
	stop := budgetBuildMemory(10_000_000, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer stop()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT set the limit changed to %d (was %d)", got, before)
	}
}
