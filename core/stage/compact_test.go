package stage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// scanRows returns every row Scan yields for crm/contacts, sorted by key.
func scanRows(t *testing.T, s *Store) [][]any {
	t.Helper()
	var out [][]any
	err := s.Scan(context.Background(), "crm", "contacts", func(row []any) error {
		out = append(out, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool {
		return get(customerRecord, out[i], "record_key").(string) < get(customerRecord, out[j], "record_key").(string)
	})
	return out
}

func TestCompactEquivalence(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentRows: 7, CommitAge: time.Hour, CompactSegments: 3}
	s, l := open(t, dir, opts)
	// Ten sessions over 30 keys: updates, tombstones, re-creations, within
	// and across segments.
	for session := range 10 {
		x := begin(t, s, BeginOptions{})
		for i := range 12 {
			k := fmt.Sprint((session*7 + i*5) % 30)
			switch {
			case (session+i)%9 == 0:
				tombstone(t, x, k)
			default:
				r := rec(k, fmt.Sprintf("v%d.%d@x.de", session, i))
				set(customerRecord, r, "updated_at", time.Date(2026, 1, session+1, i, 0, 0, 0, time.UTC))
				set(customerRecord, r, "ids", []string{"crm_id=" + k})
				write(t, x, r)
			}
		}
		checkpoint(t, x, fmt.Sprintf(`{"session":%d}`, session))
		finish(t, x)
	}
	ref := s.Streams()[0]
	if ref.Segments <= opts.CompactSegments {
		t.Fatalf("only %d segments: the test would not compact", ref.Segments)
	}
	before := scanRows(t, s)
	if len(before) == 0 || len(before) == 30 {
		t.Fatalf("%d live records: the mix of tombstones and updates is not exercised", len(before))
	}

	merged, err := s.Compact(context.Background(), "crm", "contacts")
	if err != nil || !merged {
		t.Fatalf("Compact = %v, %v", merged, err)
	}
	if after := scanRows(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("scan after compaction differs:\n got %v\nwant %v", after, before)
	}
	got := s.Streams()[0]
	if got.Segments != 1 || got.Rows != int64(len(before)) {
		t.Errorf("after compaction: %d segments, %d rows; want 1 and %d (no superseded rows, no tombstones)",
			got.Segments, got.Rows, len(before))
	}
	var segs []string
	for _, f := range files(t, dir) {
		if strings.HasPrefix(f, "crm/contacts/") {
			segs = append(segs, f)
		}
	}
	if len(segs) != 1 {
		t.Errorf("segment files after compaction: %v, want one", segs)
	}
	if st := state(t, s); st != `{"session":9}` {
		t.Errorf("compaction changed the state to %s", st)
	}

	// Below the threshold it does nothing.
	if merged, err := s.Compact(context.Background(), "crm", "contacts"); err != nil || merged {
		t.Errorf("second Compact = %v, %v; want no merge", merged, err)
	}
	// Later sessions still win over the merged segment, and it survives
	// a restart.
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("0", "latest"))
	finish(t, x)
	s, _ = reopen(t, dir, l, opts)
	if e := emails(t, s); !slices.Contains(e, "0=latest") || len(e) != len(before)+boolInt(!hasKey(before, "0")) {
		t.Errorf("scan after a later session = %v", e)
	}
}

func hasKey(rows [][]any, key string) bool {
	for _, r := range rows {
		if get(customerRecord, r, "record_key") == key {
			return true
		}
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestCompactUnknownStream(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{})
	if _, err := s.Compact(context.Background(), "crm", "contacts"); err == nil {
		t.Error("Compact of nothing staged succeeded")
	}
}

// A compaction writes what it keeps for good, so it must not take two
// keys for one when their hashes collide. The first hash here sends
// every key to one value; the second, independent one keeps them apart.
func TestCompactSurvivesHashCollision(t *testing.T) {
	made := 0
	real := newKeyHash
	newKeyHash = func() func([]byte) uint64 {
		made++
		if made%2 == 1 {
			return func([]byte) uint64 { return 7 }
		}
		return real()
	}
	t.Cleanup(func() { newKeyHash = real })

	s, _ := open(t, t.TempDir(), Options{SegmentRows: 4, CommitAge: time.Hour, CompactSegments: 1})
	for session := range 3 {
		x := begin(t, s, BeginOptions{})
		for i := range 5 {
			k := fmt.Sprint(session*5 + i)
			write(t, x, rec(k, "p"+k+"@x.de"))
		}
		if session == 2 { // a newer version of a record staged before
			write(t, x, rec("3", "newer@x.de"))
		}
		checkpoint(t, x, fmt.Sprintf(`{"session":%d}`, session))
		finish(t, x)
	}
	made = 0
	merged, err := s.Compact(context.Background(), "crm", "contacts")
	if err != nil || !merged {
		t.Fatalf("Compact = %v, %v", merged, err)
	}
	if made != 2 {
		t.Fatalf("compaction made %d key hashes, want 2", made)
	}
	newKeyHash = real // the scan below reads with a sound hash
	rows := scanRows(t, s)
	if len(rows) != 15 {
		t.Fatalf("%d records after compaction with a colliding first hash, want 15", len(rows))
	}
	for _, r := range rows {
		if get(customerRecord, r, "record_key") == "3" && get(customerRecord, r, "email") != "newer@x.de" {
			t.Errorf("record 3 = %v after compaction, want its newer version", get(customerRecord, r, "email"))
		}
	}
}

// A staged segment cut short or removed fails every build the same way;
// the error names the file and the cure.
func TestDamagedSegmentNamesTheCure(t *testing.T) {
	for _, damage := range []string{"truncate", "remove"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := open(t, dir, Options{CommitAge: time.Hour})
			x := begin(t, s, BeginOptions{})
			for i := range 50 {
				write(t, x, rec(fmt.Sprint(i), fmt.Sprintf("p%d@x.de", i)))
			}
			checkpoint(t, x, `{}`)
			finish(t, x)
			var seg string
			for _, f := range files(t, dir) {
				if strings.HasPrefix(f, "crm/contacts/") && strings.HasSuffix(f, ".parquet") {
					seg = filepath.Join(dir, stagingDir, f)
				}
			}
			var err error
			if damage == "truncate" {
				err = os.Truncate(seg, 100)
			} else {
				err = os.Remove(seg)
			}
			if err != nil {
				t.Fatal(err)
			}
			err = s.Scan(context.Background(), "crm", "contacts", func([]any) error { return nil })
			if err == nil || !strings.Contains(err.Error(), "'desilo sync --full-refresh --source crm'") || !strings.Contains(err.Error(), filepath.Base(seg)) {
				t.Fatalf("Scan of a %sd segment: %v, want the file and the cure named", damage, err)
			}
		})
	}
}
