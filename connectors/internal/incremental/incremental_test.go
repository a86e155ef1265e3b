package incremental

import (
	"maps"
	"testing"
	"time"
)

func TestLookback(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, tc := range []struct {
		in   *string
		want time.Duration
		ok   bool
	}{
		{nil, DefaultLookback, true},
		{s("0s"), 0, true},
		{s("1h30m"), 90 * time.Minute, true},
		{s("ten minutes"), 0, false},
		{s("-5m"), 0, false},
	} {
		got, err := Lookback(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Lookback(%v) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestSeenPrune(t *testing.T) {
	old := MaxSeen
	MaxSeen = 3
	t.Cleanup(func() { MaxSeen = old })

	var s Seen
	for id, at := range map[string]int64{"a": 5, "b": 10, "c": 11, "d": 12, "e": 20, "f": 20} {
		s.Add(id, at)
	}
	if !s.Delivered("b", 10) || s.Delivered("b", 11) || s.Delivered("x", 10) {
		t.Fatal("Delivered does not match id and time")
	}
	// Before 10 goes; of the rest (b c d e f), the oldest go until three
	// remain, but never those at the newest time, 20.
	s.Prune(10, 20)
	if want := (Seen{"d": 12, "e": 20, "f": 20}); !maps.Equal(s, want) {
		t.Errorf("pruned to %v, want %v", s, want)
	}
	// Ties at the newest time stay even above the bound.
	s.Add("g", 20)
	s.Add("h", 20)
	s.Prune(10, 20)
	if want := (Seen{"e": 20, "f": 20, "g": 20, "h": 20}); !maps.Equal(s, want) {
		t.Errorf("pruned to %v, want %v", s, want)
	}
}
