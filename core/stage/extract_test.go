package stage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWriteCheckpointFinishScan(t *testing.T) {
	dir := t.TempDir()
	s, l := open(t, dir, Options{})
	x := begin(t, s, BeginOptions{})
	if x.StartState() != nil {
		t.Errorf("start state of a new source = %s, want nil", x.StartState())
	}
	write(t, x, rec("1", "a@x.de"), rec("2", "b@x.de"))
	checkpoint(t, x, `{"cursor":2}`)
	write(t, x, rec("3", "c@x.de"))
	checkpoint(t, x, `{"cursor":3}`)
	finish(t, x)

	if got, want := emails(t, s), []string{"1=a@x.de", "2=b@x.de", "3=c@x.de"}; !slices.Equal(got, want) {
		t.Errorf("scan = %v, want %v", got, want)
	}
	if got := state(t, s); got != `{"cursor":3}` {
		t.Errorf("state = %s, want the last checkpoint", got)
	}
	want := []StreamRef{{Source: "crm", Stream: "contacts", Table: "customer_record", Segments: 1, Rows: 3, Sessions: 1}}
	if got := s.Streams(); !slices.Equal(got, want) {
		t.Errorf("Streams() = %+v, want %+v", got, want)
	}
	if got := s.Sources(); !slices.Equal(got, []string{"crm"}) {
		t.Errorf("Sources() = %v", got)
	}
	// The store reads the same after a restart.
	s, _ = reopen(t, dir, l, Options{})
	if got := emails(t, s); len(got) != 3 || state(t, s) != `{"cursor":3}` || !slices.Equal(s.Streams(), want) {
		t.Errorf("after a restart: scan %v, state %s, streams %+v", got, state(t, s), s.Streams())
	}
}

func TestLatestVersionWins(t *testing.T) {
	tests := []struct {
		name string
		// sessions of writes; "k=v" writes key k with email v, "-k" a tombstone
		sessions [][]string
		want     []string
	}{
		{"within a segment the later row wins",
			[][]string{{"1=old", "2=b", "1=new"}}, []string{"1=new", "2=b"}},
		{"a newer segment wins",
			[][]string{{"1=old", "2=b"}, {"1=new"}}, []string{"1=new", "2=b"}},
		{"a newer segment wins over several older",
			[][]string{{"1=v1"}, {"1=v2"}, {"1=v3", "3=c"}, {"2=b"}}, []string{"1=v3", "2=b", "3=c"}},
		{"a tombstone hides the record",
			[][]string{{"1=a", "2=b"}, {"-1"}}, []string{"2=b"}},
		{"a tombstone in the same segment hides it",
			[][]string{{"1=a", "-1", "2=b"}}, []string{"2=b"}},
		{"a record written after its tombstone is back",
			[][]string{{"1=a"}, {"-1", "1=again"}}, []string{"1=again"}},
		{"an older tombstone does not hide a newer version",
			[][]string{{"-1"}, {"1=new"}}, []string{"1=new"}},
		{"a tombstone of an unknown key hides nothing",
			[][]string{{"1=a"}, {"-9"}}, []string{"1=a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := open(t, t.TempDir(), Options{})
			for _, ops := range tt.sessions {
				x := begin(t, s, BeginOptions{})
				for _, op := range ops {
					if k, ok := strings.CutPrefix(op, "-"); ok {
						tombstone(t, x, k)
						continue
					}
					k, v, _ := strings.Cut(op, "=")
					write(t, x, rec(k, v))
				}
				finish(t, x)
			}
			if got := emails(t, s); !slices.Equal(got, tt.want) {
				t.Errorf("scan = %v, want %v", got, tt.want)
			}
			// LiveRows counts what Scan yields, from the keys alone.
			if n, err := s.LiveRows(context.Background(), "crm", "contacts"); err != nil || n != int64(len(tt.want)) {
				t.Errorf("LiveRows = %d, %v; want %d", n, err, len(tt.want))
			}
		})
	}
}

// A checkpoint that arrives while the open segments are small is pending;
// a crash then loses nothing and adds nothing.
func TestCheckpointNotSavedBeforeRowsDurable(t *testing.T) {
	dir := t.TempDir()
	s, l := open(t, dir, Options{SegmentRows: 1000, CommitAge: time.Hour})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"))
	checkpoint(t, x, `"s1"`)
	finish(t, x)

	x = begin(t, s, BeginOptions{})
	if got := string(x.StartState()); got != `"s1"` {
		t.Fatalf("start state = %s, want the saved one", got)
	}
	write(t, x, rec("1", "changed"), rec("2", "b"))
	checkpoint(t, x, `"s2"`)
	if got := state(t, s); got != `"s1"` {
		t.Errorf("state after a pending checkpoint = %s, want s1", got)
	}
	if len(temps(files(t, dir))) == 0 {
		t.Fatal("no open segment on disk: the test would not show the cleanup")
	}

	// Crash: the session is dropped without Finish or Abort.
	s, _ = reopen(t, dir, l, Options{})
	if got := state(t, s); got != `"s1"` {
		t.Errorf("state after the crash = %s, want s1", got)
	}
	if got, want := emails(t, s), []string{"1=a"}; !slices.Equal(got, want) {
		t.Errorf("scan after the crash = %v, want %v", got, want)
	}
	if tmp := temps(files(t, dir)); len(tmp) != 0 {
		t.Errorf("temporary files left after reopening: %v", tmp)
	}
}

// A commit forced by the size threshold saves the checkpoint with its rows;
// a crash after it keeps both.
func TestCrashAfterDurableCommit(t *testing.T) {
	dir := t.TempDir()
	s, l := open(t, dir, Options{SegmentRows: 4, CommitAge: time.Hour})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"), rec("2", "b"))
	checkpoint(t, x, `"s1"`)
	if got := state(t, s); got != "" {
		t.Fatalf("state = %s before the threshold, want none", got)
	}
	write(t, x, rec("3", "c"), rec("4", "d")) // the 4th row reaches SegmentRows
	if got := state(t, s); got != `"s1"` {
		t.Fatalf("state = %s after the threshold commit, want s1", got)
	}
	write(t, x, rec("5", "e"))
	checkpoint(t, x, `"s2"`)

	s, _ = reopen(t, dir, l, Options{})
	if got := state(t, s); got != `"s1"` {
		t.Errorf("state after the crash = %s, want s1", got)
	}
	// Rows 3 and 4 came after s1 but were made durable with it: kept, and
	// harmless when the connector emits them again.
	if got, want := emails(t, s), []string{"1=a", "2=b", "3=c", "4=d"}; !slices.Equal(got, want) {
		t.Errorf("scan after the crash = %v, want %v", got, want)
	}
	x = begin(t, s, BeginOptions{})
	write(t, x, rec("3", "c"), rec("4", "d"), rec("5", "e"))
	finish(t, x)
	if got, want := emails(t, s), []string{"1=a", "2=b", "3=c", "4=d", "5=e"}; !slices.Equal(got, want) {
		t.Errorf("scan after the rerun = %v, want %v", got, want)
	}
}

// A pending checkpoint older than CommitAge is committed on the next call.
func TestCommitByAge(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{SegmentRows: 1000, CommitAge: time.Nanosecond})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"))
	checkpoint(t, x, `"s1"`) // older than 1ns by the time it is looked at
	if got := state(t, s); got != `"s1"` {
		t.Errorf("state = %s, want s1 committed by age", got)
	}
	x.Abort()
	if got := emails(t, s); !slices.Equal(got, []string{"1=a"}) {
		t.Errorf("scan = %v, want the committed row", got)
	}
}

func TestAbort(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, Options{})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"))
	checkpoint(t, x, `"s1"`)
	finish(t, x)
	before := files(t, dir)

	x = begin(t, s, BeginOptions{})
	write(t, x, rec("1", "b"), rec("2", "c"))
	checkpoint(t, x, `"s2"`)
	x.Abort()
	x.Abort() // idempotent
	if err := x.Write("contacts", customerRecord, rec("3", "d"), false); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if got := state(t, s); got != `"s1"` {
		t.Errorf("state = %s, want s1", got)
	}
	if got := emails(t, s); !slices.Equal(got, []string{"1=a"}) {
		t.Errorf("scan = %v", got)
	}
	if got := files(t, dir); !slices.Equal(got, before) {
		t.Errorf("files after abort = %v, want %v", got, before)
	}
	// The source is free again.
	finish(t, begin(t, s, BeginOptions{}))
}

func TestFullRefresh(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentRows: 2, CommitAge: time.Hour}
	s, l := open(t, dir, opts)
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"), rec("2", "b"), rec("3", "c"))
	if err := x.Write("deals", customerRecord, recOf("crm", "deals", "d1", "x"), false); err != nil {
		t.Fatal(err)
	}
	checkpoint(t, x, `"old"`)
	finish(t, x)
	staged := []string{"1=a", "2=b", "3=c"}

	// Aborted: nothing changes, though segments were closed on the way.
	x = begin(t, s, BeginOptions{FullRefresh: true})
	if x.StartState() != nil {
		t.Errorf("full refresh starts from %s, want nil", x.StartState())
	}
	write(t, x, rec("1", "new"), rec("4", "d"), rec("5", "e"))
	checkpoint(t, x, `"new"`)
	x.Abort()
	if got := emails(t, s); !slices.Equal(got, staged) || state(t, s) != `"old"` {
		t.Errorf("after an aborted refresh: scan %v state %s, want %v and old", got, state(t, s), staged)
	}

	// Crashed: nothing changes either.
	x = begin(t, s, BeginOptions{FullRefresh: true})
	write(t, x, rec("1", "new"), rec("4", "d"), rec("5", "e"))
	checkpoint(t, x, `"new"`)
	s, _ = reopen(t, dir, l, opts)
	if got := emails(t, s); !slices.Equal(got, staged) || state(t, s) != `"old"` {
		t.Errorf("after a crashed refresh: scan %v state %s, want %v and old", got, state(t, s), staged)
	}

	// Finished: the refreshed data replaces all of it, deals included.
	x = begin(t, s, BeginOptions{FullRefresh: true})
	write(t, x, rec("1", "new"), rec("4", "d"), rec("5", "e"))
	checkpoint(t, x, `"new"`)
	finish(t, x)
	if got, want := emails(t, s), []string{"1=new", "4=d", "5=e"}; !slices.Equal(got, want) {
		t.Errorf("after the refresh: scan %v, want %v", got, want)
	}
	if got := state(t, s); got != `"new"` {
		t.Errorf("state = %s, want new", got)
	}
	if got := s.Streams(); len(got) != 1 || got[0].Stream != "contacts" {
		t.Errorf("streams after the refresh = %+v, want only contacts", got)
	}
	for _, f := range files(t, dir) {
		if strings.HasPrefix(f, "crm/deals/") {
			t.Errorf("segment %s of a replaced stream is left", f)
		}
	}
	// Three rows with SegmentRows 2: two segments, and the manifest.
	want := []string{"crm/_manifest.json", "crm/contacts/" + segmentName(x.next-2), "crm/contacts/" + segmentName(x.next-1)}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files after the refresh = %v, want %v", got, want)
	}
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentRows: 3, CommitAge: time.Hour}
	s, l := open(t, dir, opts)
	reject := func(x *Extract, reason string) {
		t.Helper()
		if err := x.Reject(rejectRow(reason)); err != nil {
			t.Fatal(err)
		}
	}

	x := begin(t, s, BeginOptions{})
	reject(x, "r1")
	reject(x, "r2")
	finish(t, x)
	if got := rejects(t, s); !slices.Equal(got, []string{"r1", "r2"}) {
		t.Errorf("rejects = %v, want r1 r2", got)
	}

	x = begin(t, s, BeginOptions{})
	reject(x, "r3")
	finish(t, x)
	if got := rejects(t, s); !slices.Equal(got, []string{"r3"}) {
		t.Errorf("rejects = %v, want only the last session's r3", got)
	}

	x = begin(t, s, BeginOptions{})
	reject(x, "r4")
	x.Abort()
	if got := rejects(t, s); !slices.Equal(got, []string{"r3"}) {
		t.Errorf("rejects after an abort = %v, want r3", got)
	}

	// A session commits a checkpoint past r5, then crashes: r5 will not be
	// read again, so the next finished session reports it.
	x = begin(t, s, BeginOptions{})
	reject(x, "r5")
	checkpoint(t, x, `"past r5"`)
	write(t, x, rec("1", "a"), rec("2", "b")) // reaches SegmentRows: commits
	if got := state(t, s); got != `"past r5"` {
		t.Fatalf("state = %s, want the committed checkpoint", got)
	}
	reject(x, "lost with the crash")
	s, _ = reopen(t, dir, l, opts)
	if got := rejects(t, s); !slices.Equal(got, []string{"r3"}) {
		t.Errorf("rejects after the crash = %v, want r3 until a session finishes", got)
	}
	x = begin(t, s, BeginOptions{})
	reject(x, "r6")
	finish(t, x)
	if got := rejects(t, s); !slices.Equal(got, []string{"r5", "r6"}) {
		t.Errorf("rejects = %v, want r5 r6", got)
	}
	for _, f := range files(t, dir) {
		if strings.HasPrefix(f, "crm/_rejects/") && len(temps([]string{f})) > 0 {
			t.Errorf("temporary reject file left: %s", f)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name  string
		write func(x *Extract) error
		want  string
	}{
		{"row of another source", func(x *Extract) error {
			return x.Write("contacts", customerRecord, recOf("shop", "contacts", "1", "a"), false)
		}, `row says source "shop"`},
		{"row of another stream", func(x *Extract) error {
			return x.Write("contacts", customerRecord, recOf("crm", "deals", "1", "a"), false)
		}, `row says stream "deals"`},
		{"no record key", func(x *Extract) error {
			return x.Write("contacts", customerRecord, rec("", "a"), false)
		}, "without a record_key"},
		{"short row", func(x *Extract) error {
			return x.Write("contacts", customerRecord, rec("1", "a")[:3], false)
		}, "3 values for"},
		{"wrong type", func(x *Extract) error {
			r := rec("1", "a")
			set(customerRecord, r, "consent_email", "yes")
			return x.Write("contacts", customerRecord, r, false)
		}, "consent_email"},
		{"invalid checkpoint", func(x *Extract) error {
			return x.Checkpoint([]byte(`{"cursor":`))
		}, "not valid JSON"},
		{"empty stream name", func(x *Extract) error {
			return x.Write("", customerRecord, rec("1", "a"), false)
		}, "empty stream name"},
		{"a stream changes table", func(x *Extract) error {
			if err := x.Write("contacts", customerRecord, rec("1", "a"), false); err != nil {
				return err
			}
			return x.Write("contacts", orderTable, orderRow("contacts", "o1"), false)
		}, "rows of table order after rows of table customer_record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := open(t, t.TempDir(), Options{})
			x := begin(t, s, BeginOptions{})
			err := tt.write(x)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if err := x.Finish(); err == nil {
				t.Error("Finish of a failed session succeeded")
			}
			if got := state(t, s); got != "" {
				t.Errorf("a failed session saved state %s", got)
			}
		})
	}
}

// A stream staged as one table cannot silently turn into another.
func TestStreamTableChangeNeedsFullRefresh(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"))
	finish(t, x)

	x = begin(t, s, BeginOptions{})
	err := x.Write("contacts", orderTable, orderRow("contacts", "o1"), false)
	if err == nil || !strings.Contains(err.Error(), "run a full refresh of source crm") {
		t.Fatalf("error = %v, want a hint to refresh", err)
	}
	x.Abort()

	x = begin(t, s, BeginOptions{FullRefresh: true})
	if err := x.Write("contacts", orderTable, orderRow("contacts", "o1"), false); err != nil {
		t.Fatal(err)
	}
	finish(t, x)
	if got := s.Streams(); len(got) != 1 || got[0].Table != "order" {
		t.Errorf("streams = %+v, want contacts as order", got)
	}
}

func TestOneSessionPerSource(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{})
	x := begin(t, s, BeginOptions{})
	if _, err := s.Begin(context.Background(), "crm", BeginOptions{}); err == nil {
		t.Error("a second session of the same source started")
	}
	y, err := s.Begin(context.Background(), "shop", BeginOptions{})
	if err != nil {
		t.Fatalf("a session of another source: %v", err)
	}
	y.Abort()
	if _, err := s.Compact(context.Background(), "crm", "contacts"); err == nil {
		t.Error("compaction ran during an extraction")
	}
	finish(t, x)
	if _, err := s.Begin(context.Background(), "Bad-Name", BeginOptions{}); err == nil {
		t.Error("a source name that is no directory name was accepted")
	}
}

func TestCancelledSessionCommitsNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	x, err := s.Begin(ctx, "crm", BeginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, x, rec("1", "a"))
	checkpoint(t, x, `"s1"`)
	cancel()
	if err := x.Finish(); !errors.Is(err, context.Canceled) {
		t.Errorf("Finish after cancel = %v, want context.Canceled", err)
	}
	if got := state(t, s); got != "" {
		t.Errorf("state = %s, want none", got)
	}
	if tmp := temps(files(t, dir)); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func TestReopenCleansStrayFiles(t *testing.T) {
	dir := t.TempDir()
	s, l := open(t, dir, Options{})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"))
	finish(t, x)
	want := files(t, dir)

	// What a crash mid-compaction or mid-session can leave behind, plus a
	// file that is not ours.
	for _, name := range []string{"crm/contacts/00000099.parquet", "crm/contacts/.00000100.parquet.123.tmp",
		"crm/._manifest.json.55.tmp", "crm/_rejects/00000007.parquet", "crm/gone/00000042.parquet", "crm/contacts/NOTES.txt"} {
		writeFile(t, dir, name)
	}
	want = append(want, "crm/contacts/NOTES.txt")
	slices.Sort(want)
	s, _ = reopen(t, dir, l, Options{})
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files after reopening = %v, want %v", got, want)
	}
	if got := emails(t, s); !slices.Equal(got, []string{"1=a"}) {
		t.Errorf("scan = %v", got)
	}
}

func TestDamagedManifest(t *testing.T) {
	dir := t.TempDir()
	s, l := open(t, dir, Options{})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"))
	finish(t, x)
	l.Close()
	writeFileContent(t, dir, "crm/_manifest.json", `{"version":1,"next_seq":`)
	l2, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	_, err = Open(l2, Options{})
	if err == nil || !strings.Contains(err.Error(), "run a full refresh of source crm") {
		t.Errorf("Open with a damaged manifest = %v, want an error with a remedy", err)
	}
	if got := files(t, dir); !slices.Contains(got, "crm/contacts/00000000.parquet") {
		t.Errorf("a damaged manifest made Open remove segments: %v", got)
	}
}

func TestStreamNames(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{})
	names := []string{"public.customers", "a/b", "..", "_manifest.json", "_rejects", "Kunden Übersicht", "contacts"}
	x := begin(t, s, BeginOptions{})
	for _, n := range names {
		if err := x.Write(n, customerRecord, recOf("crm", n, "k", n), false); err != nil {
			t.Fatalf("stream %q: %v", n, err)
		}
	}
	finish(t, x)
	for _, n := range names {
		var got []string
		err := s.Scan(context.Background(), "crm", n, func(row []any) error {
			got = append(got, get(customerRecord, row, "email").(string))
			return nil
		})
		if err != nil || !slices.Equal(got, []string{n}) {
			t.Errorf("stream %q scans as %v, %v", n, got, err)
		}
	}
	if err := s.Scan(context.Background(), "crm", "nope", func([]any) error { return nil }); err == nil {
		t.Error("scan of a stream never staged succeeded")
	}
	if err := s.Scan(context.Background(), "nope", "x", func([]any) error { return nil }); err == nil {
		t.Error("scan of a source never staged succeeded")
	}
}

func TestScanStopsOnError(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"), rec("2", "b"), rec("3", "c"))
	finish(t, x)
	stop := errors.New("stop")
	n := 0
	err := s.Scan(context.Background(), "crm", "contacts", func([]any) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("scan = %v after %d rows, want stop after 1", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Scan(ctx, "crm", "contacts", func([]any) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("scan with a cancelled ctx = %v", err)
	}
}

// Scans run alongside an extraction that commits and a compaction that
// removes files, and always see a committed, readable snapshot.
func TestScanDuringExtraction(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{SegmentRows: 5, CommitAge: time.Hour, CompactSegments: 2})
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		last := 0
		for {
			select {
			case <-done:
				return
			default:
			}
			n := 0
			err := s.Scan(context.Background(), "crm", "contacts", func([]any) error { n++; return nil })
			if err != nil && !strings.Contains(err.Error(), "nothing staged") {
				errs <- err
				return
			}
			if n < last {
				errs <- fmt.Errorf("scan saw %d records after %d", n, last)
				return
			}
			last = n
		}
	}()
	for session := range 4 {
		x := begin(t, s, BeginOptions{})
		for i := range 12 {
			write(t, x, rec(fmt.Sprint(session*12+i), "a"))
		}
		finish(t, x)
		if _, err := s.Compact(context.Background(), "crm", "contacts"); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if got := len(emails(t, s)); got != 48 {
		t.Errorf("%d records, want 48", got)
	}
}

// Streams says how many extraction sessions a stream's segments come from:
// one session's several segments are one, each session more, and a
// compaction makes them one again.
func TestStreamsCountsSessions(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{SegmentRows: 2, CompactSegments: 3})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a"), rec("2", "b"), rec("3", "c"), rec("4", "d"), rec("5", "e"))
	finish(t, x)
	if refs := s.Streams(); len(refs) != 1 || refs[0].Segments < 2 || refs[0].Sessions != 1 {
		t.Fatalf("one session: %+v, want several segments of one session", refs)
	}
	x = begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a2"))
	finish(t, x)
	if refs := s.Streams(); refs[0].Sessions != 2 {
		t.Fatalf("two sessions: %+v", refs)
	}
	if n, err := s.LiveRows(context.Background(), "crm", "contacts"); err != nil || n != 5 || s.Streams()[0].Rows != 6 {
		t.Fatalf("LiveRows = %d, %v; rows %d", n, err, s.Streams()[0].Rows)
	}
	if _, err := s.Compact(context.Background(), "crm", "contacts"); err != nil {
		t.Fatal(err)
	}
	if refs := s.Streams(); refs[0].Segments != 1 || refs[0].Sessions != 1 || refs[0].Rows != 5 {
		t.Fatalf("after compaction: %+v", refs)
	}
}

// A full refresh whose checkpoint is older than CommitAge keeps writing
// its segments to SegmentRows rows, not one segment a row.
func TestFullRefreshSegmentsAfterCommitAge(t *testing.T) {
	s, _ := open(t, t.TempDir(), Options{SegmentRows: 1000, CommitAge: 20 * time.Millisecond})
	x := begin(t, s, BeginOptions{FullRefresh: true})
	write(t, x, rec("0", "a"))
	checkpoint(t, x, `"c0"`)
	time.Sleep(30 * time.Millisecond)
	for i := 1; i <= 50; i++ {
		write(t, x, rec(fmt.Sprint(i), "e"))
	}
	finish(t, x)
	refs := s.Streams()
	if len(refs) != 1 || refs[0].Segments != 1 {
		t.Errorf("a full refresh of 51 rows (SegmentRows 1000) staged %+v, want one segment", refs)
	}
}

// A reject stands until its record is read again: a later session that
// does not read the record keeps reporting it; one that stages the
// record, or rejects it anew, ends it. A compaction is no new read.
func TestRejectStandsUntilItsRecordIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, Options{CommitAge: time.Hour, CompactSegments: 1})
	session := func(do func(x *Extract)) []string {
		t.Helper()
		x := begin(t, s, BeginOptions{})
		do(x)
		checkpoint(t, x, `{}`)
		finish(t, x)
		got := rejects(t, s)
		slices.Sort(got)
		return got
	}
	got := session(func(x *Extract) {
		write(t, x, rec("1", "a@x.de"))
		rejectKey(t, x, "2", "2: bad email")
		rejectKey(t, x, "3", "3: bad email")
		if err := x.Reject(rejectRow("line 9: not CSV")); err != nil { // no record_key
			t.Fatal(err)
		}
	})
	if !slices.Equal(got, []string{"2: bad email", "3: bad email", "line 9: not CSV"}) {
		t.Fatalf("first session's rejects: %v", got)
	}
	// Reads record 1 only: 2 and 3 stand; the keyless one is its
	// session's alone.
	if got = session(func(x *Extract) { write(t, x, rec("1", "a2@x.de")) }); !slices.Equal(got, []string{"2: bad email", "3: bad email"}) {
		t.Fatalf("rejects after a session that did not read 2 and 3: %v", got)
	}
	if _, err := s.Compact(context.Background(), "crm", "contacts"); err != nil {
		t.Fatal(err)
	}
	// Stages 2, rejects 3 anew.
	got = session(func(x *Extract) {
		write(t, x, rec("2", "b@x.de"))
		rejectKey(t, x, "3", "3: still bad")
	})
	if !slices.Equal(got, []string{"3: still bad"}) {
		t.Fatalf("rejects after 2 was staged and 3 rejected again: %v", got)
	}
	// A session that reads neither: 3 still stands.
	if got = session(func(x *Extract) {}); !slices.Equal(got, []string{"3: still bad"}) {
		t.Fatalf("rejects after an empty session: %v", got)
	}
	// A tombstone is a read too.
	if got = session(func(x *Extract) { tombstone(t, x, "3") }); len(got) != 0 {
		t.Fatalf("rejects after 3 was deleted at the source: %v", got)
	}
	// An update of a staged record is rejected; a compaction then holds
	// the record's old version in a segment newer than the reject, which
	// is no new read of it.
	if got = session(func(x *Extract) { rejectKey(t, x, "1", "1: bad update") }); !slices.Equal(got, []string{"1: bad update"}) {
		t.Fatalf("rejects after an update of 1 was rejected: %v", got)
	}
	if merged, err := s.Compact(context.Background(), "crm", "contacts"); err != nil || !merged {
		t.Fatalf("Compact = %v, %v", merged, err)
	}
	if got = session(func(x *Extract) {}); !slices.Equal(got, []string{"1: bad update"}) {
		t.Fatalf("rejects after a compaction and an empty session: %v, want 1's to stand", got)
	}
}

// A session that committed a reject and then failed leaves it pending; a
// later session that stages the record (fixed at the source) has read it
// again, and the reject goes, as an earlier finished session's would.
func TestPendingRejectGoesWhenALaterSessionStagesItsRecord(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, Options{CommitAge: time.Hour, SegmentRows: 1})
	x := begin(t, s, BeginOptions{})
	write(t, x, rec("1", "a@x.de"))
	checkpoint(t, x, `1`)
	rejectKey(t, x, "2", "2: bad email") // SegmentRows 1: committed at once
	x.Abort()
	x = begin(t, s, BeginOptions{})
	write(t, x, rec("2", "b@x.de"))
	checkpoint(t, x, `2`)
	finish(t, x)
	if got := rejects(t, s); len(got) != 0 {
		t.Fatalf("rejects after record 2 was staged by the session after the one that rejected it: %v", got)
	}
}

// A reject of a manifest before sessions were recorded (session 0) is
// the oldest of all: a record it names that a later session staged is
// read again, also when another reject stands since a later session.
func TestRejectOfSessionZeroGoesWhenItsRecordIsStaged(t *testing.T) {
	dir := t.TempDir()
	opts := Options{CommitAge: time.Hour, SegmentRows: 1}
	s, l := open(t, dir, opts)
	x := begin(t, s, BeginOptions{})
	rejectKey(t, x, "2", "2: bad email")
	checkpoint(t, x, `1`)
	finish(t, x)
	// As an older desilo wrote it: no sessions.
	path := filepath.Join(dir, "staging", "crm", "_manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for i := range m.Rejects {
		m.Rejects[i].Session = 0
	}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ = reopen(t, dir, l, opts)
	// Stages 2 and rejects 3, commits, and fails.
	x = begin(t, s, BeginOptions{})
	write(t, x, rec("2", "b@x.de"))
	rejectKey(t, x, "3", "3: bad email")
	checkpoint(t, x, `3`)
	write(t, x, rec("4", "d@x.de")) // commits the checkpoint
	x.Abort()
	x = begin(t, s, BeginOptions{})
	checkpoint(t, x, `3`)
	finish(t, x)
	if got := rejects(t, s); !slices.Equal(got, []string{"3: bad email"}) {
		t.Fatalf("rejects after record 2 was staged: %v, want 3's only", got)
	}
}
