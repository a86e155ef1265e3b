package files

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// setMtime gives a file a distinct modification time, so a test does not
// depend on the file system's timestamp resolution.
func setMtime(t *testing.T, path string, sec int64) {
	t.Helper()
	if err := os.Chtimes(path, time.Unix(sec, 0), time.Unix(sec, 0)); err != nil {
		t.Fatal(err)
	}
}

func TestIncremental(t *testing.T) {
	const (
		day1 = "id,updated\n1,2024-01-01\n2,2024-01-02\n3,2024-01-02\n"
		// day1 rewritten: 1 changed, 4 is a tie at the old maximum, 5 is new
		// but below it.
		day1Changed = "id,updated\n1,2024-01-03\n2,2024-01-02\n3,2024-01-02\n4,2024-01-02\n5,2024-01-01\n"
	)
	tests := []struct {
		name   string
		cursor string
		// change runs between the first and the second read.
		change func(t *testing.T, dir string)
		want   []string // ids emitted by the second read
	}{
		{"nothing changed", "updated", func(*testing.T, string) {}, nil},
		// A changed file's rows at the highest cursor value read from it
		// are emitted again: they may have changed without a new value.
		{"file touched", "updated", func(t *testing.T, dir string) {
			setMtime(t, filepath.Join(dir, "a.csv"), 2000)
		}, []string{"2", "3"}},
		{"file touched, no cursor", "", func(t *testing.T, dir string) {
			setMtime(t, filepath.Join(dir, "a.csv"), 2000)
		}, []string{"1", "2", "3"}},
		{"new file appended", "updated", func(t *testing.T, dir string) {
			p := writeFile(t, dir, "b.csv", []byte("id,updated\n6,2024-01-05\n7,2024-01-01\n"))
			setMtime(t, p, 2000)
		}, []string{"6"}},
		{"file changed, cursor ties", "updated", func(t *testing.T, dir string) {
			p := writeFile(t, dir, "a.csv", []byte(day1Changed))
			setMtime(t, p, 2000)
		}, []string{"1", "2", "3", "4"}},
		{"file changed, no cursor", "", func(t *testing.T, dir string) {
			p := writeFile(t, dir, "a.csv", []byte(day1Changed))
			setMtime(t, p, 2000)
		}, []string{"1", "2", "3", "4", "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			setMtime(t, writeFile(t, dir, "a.csv", []byte(day1)), 1000)
			extra := map[string]any{}
			if tt.cursor != "" {
				extra["cursor_field"] = tt.cursor
			}
			cfg := config(t, []string{filepath.Join(dir, "*.csv")}, []string{"id"}, extra)
			first := read(t, cfg, nil)
			if got := ids(t, first.Records); !slices.Equal(got, []string{"1", "2", "3"}) {
				t.Fatalf("first read: ids %q", got)
			}
			tt.change(t, dir)
			second := read(t, cfg, first.State())
			if got := ids(t, second.Records); !slices.Equal(got, tt.want) {
				t.Fatalf("second read: ids %q, want %q", got, tt.want)
			}
			// A third read after the second sees nothing new.
			if third := read(t, cfg, second.State()); len(third.Records) != 0 {
				t.Fatalf("third read: ids %q, want none", ids(t, third.Records))
			}
		})
	}
}

func TestIncrementalTieAcrossReads(t *testing.T) {
	// Two rows arrive at the same cursor value in different runs: both
	// are emitted by the second (the first may have changed without a new
	// value), a row below the value is not.
	dir := t.TempDir()
	p := writeFile(t, dir, "a.jsonl", []byte(`{"id":1,"ts":5}`+"\n"))
	setMtime(t, p, 1000)
	cfg := config(t, []string{p}, []string{"id"}, map[string]any{"cursor_field": "ts"})
	first := read(t, cfg, nil)

	setMtime(t, writeFile(t, dir, "a.jsonl", []byte(`{"id":1,"ts":5}`+"\n"+`{"id":2,"ts":5}`+"\n"+`{"id":3,"ts":4.5}`+"\n")), 2000)
	second := read(t, cfg, first.State())
	if got := ids(t, second.Records); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("second read: ids %q, want [1 2]", got)
	}
	var st state
	if err := json.Unmarshal(second.State(), &st); err != nil {
		t.Fatal(err)
	}
	if c := st.Streams["s"].Cursor; c == nil || string(c.Value) != "5" {
		t.Fatalf("saved cursor %+v, want value 5", c)
	}
}

func TestIncrementalResumeAfterInterruption(t *testing.T) {
	// A read stopped after its first file resumes from that checkpoint
	// with the filter of the read it interrupted: the second file's old
	// rows are still emitted.
	dir := t.TempDir()
	setMtime(t, writeFile(t, dir, "1.jsonl", []byte(`{"id":1,"ts":10}`)), 1000)
	setMtime(t, writeFile(t, dir, "2.jsonl", []byte(`{"id":2,"ts":3}`)), 1000)
	cfg := config(t, []string{filepath.Join(dir, "*.jsonl")}, []string{"id"}, map[string]any{"cursor_field": "ts"})

	stopped := &sdktest.Collector{}
	stopped.OnEmit = func(r connector.Record) error {
		if len(stopped.Records) == 1 {
			return errStop
		}
		return nil
	}
	if err := New().Read(quiet(t), connector.ReadRequest{Config: cfg}, stopped); err == nil {
		t.Fatal("Read succeeded although Emit failed")
	}
	if len(stopped.Checkpoints) != 1 {
		t.Fatalf("%d checkpoints before the failure, want 1 (after the first file)", len(stopped.Checkpoints))
	}
	resumed := read(t, cfg, stopped.State())
	if got := ids(t, resumed.Records); !slices.Equal(got, []string{"2"}) {
		t.Fatalf("resumed read: ids %q, want [2]", got)
	}
}

// TestRewriteKeepingSizeAndTime checks a corrected file copied in with its
// old size and modification time (cp -p, rsync -t): it is read again.
func TestRewriteKeepingSizeAndTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the inode and change time are compared on Linux only")
	}
	dir := t.TempDir()
	p := writeFile(t, dir, "a.csv", []byte("id,status\n1,open\n"))
	setMtime(t, p, 1000)
	cfg := config(t, []string{p}, []string{"id"}, nil)
	first := read(t, cfg, nil)
	tmp := writeFile(t, t.TempDir(), "a.csv", []byte("id,status\n1,shut\n"))
	setMtime(t, tmp, 1000)
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	second := read(t, cfg, first.State())
	if got := dataOf(second.Records); !slices.Equal(got, []string{`{"id":"1","status":"shut"}`}) {
		t.Fatalf("corrected row: got %q", got)
	}
	if third := read(t, cfg, second.State()); len(third.Records) != 0 {
		t.Errorf("third read: %q, want nothing", dataOf(third.Records))
	}
}

// TestLateRowInAKnownFile checks a cursor across files: a changed file's
// rows are filtered by the highest value read from that file, so a row
// below another file's highest value is not lost.
func TestLateRowInAKnownFile(t *testing.T) {
	dir := t.TempDir()
	setMtime(t, writeFile(t, dir, "store_a.csv", []byte("id,updated\na1,2024-01-05T23:59:00Z\n")), 1000)
	setMtime(t, writeFile(t, dir, "store_b.csv", []byte("id,updated\nb0,2024-01-05T23:00:00Z\nb1,2024-01-05T23:40:00Z\n")), 1000)
	cfg := config(t, []string{filepath.Join(dir, "*.csv")}, []string{"id"}, map[string]any{"cursor_field": "updated"})
	first := read(t, cfg, nil)
	setMtime(t, writeFile(t, dir, "store_b.csv", []byte("id,updated\nb0,2024-01-05T23:00:00Z\nb1,2024-01-05T23:40:00Z\nb2,2024-01-05T23:50:00Z\n")), 2000)
	second := read(t, cfg, first.State())
	if got := ids(t, second.Records); !slices.Equal(got, []string{"b1", "b2"}) {
		t.Fatalf("second read: ids %q, want [b1 b2] (b1 at store_b's highest value, b2 new)", got)
	}
}

// TestChangeKeepingTheCursorValue checks a row that changed without a new
// cursor value (a date cursor), and a last line that was cut short while
// its file was being written: the next read delivers the whole row.
func TestChangeKeepingTheCursorValue(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "a.csv", []byte("id,updated,status\n1,2024-01-05,open\n2,2024-01-06,1"))
	setMtime(t, p, 1000)
	cfg := config(t, []string{p}, []string{"id"}, map[string]any{"cursor_field": "updated"})
	first := read(t, cfg, nil)
	setMtime(t, writeFile(t, dir, "a.csv", []byte("id,updated,status\n1,2024-01-05,open\n2,2024-01-06,1500\n")), 2000)
	second := read(t, cfg, first.State())
	if got := dataOf(second.Records); !slices.Equal(got, []string{`{"id":"2","updated":"2024-01-06","status":"1500"}`}) {
		t.Fatalf("second read: %q, want row 2 whole", got)
	}
}

func TestCompareCursor(t *testing.T) {
	for _, tc := range []struct {
		a, b any
		want int
	}{
		{"2024-01-05T10:00:00.5Z", "2024-01-05T10:00:00Z", 1}, // a trimmed fraction
		{"2024-01-05T10:00:00.12Z", "2024-01-05T10:00:00.1Z", 1},
		{"2024-10-27T02:10:00+01:00", "2024-10-27T02:30:00+02:00", 1}, // after the clocks went back
		{json.Number("1704067200000000100"), json.Number("1704067200000000000"), 1},
		{json.Number("9"), json.Number("10"), -1},
		{"9", "10", -1}, // numeric strings compare as numbers
		{"2024-01-02T00:00:00Z", "2024-01-10T00:00:00Z", -1},
		{"-12", "-3", -1},
		{"007", "7", 0},
		{json.Number("2.50"), "2.5", 0},
		{"2024-01-05", "2024-01-06", -1},
		{"b", "a", 1},
	} {
		if got := compareCursor(tc.a, tc.b); got != tc.want {
			t.Errorf("compareCursor(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareCursor(tc.b, tc.a); got != -tc.want {
			t.Errorf("compareCursor(%v, %v) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

// TestFileGoneDuringRead checks a file moved away while the stream is
// read: it is skipped with a warning, and the read goes on.
func TestFileGoneDuringRead(t *testing.T) {
	dir := t.TempDir()
	setMtime(t, writeFile(t, dir, "1.jsonl", []byte(`{"id":1}`+"\n")), 1000)
	two := writeFile(t, dir, "2.jsonl", []byte(`{"id":2}`+"\n"))
	setMtime(t, writeFile(t, dir, "3.jsonl", []byte(`{"id":3}`+"\n")), 1000)
	cfg := config(t, []string{filepath.Join(dir, "*.jsonl")}, []string{"id"}, nil)
	c := &sdktest.Collector{}
	c.OnEmit = func(connector.Record) error { os.Remove(two); return nil }
	if err := New().Read(quiet(t), connector.ReadRequest{Config: cfg}, c); err != nil {
		t.Fatalf("Read failed because a file was moved away: %v", err)
	}
	if got := ids(t, c.Records); !slices.Equal(got, []string{"1", "3"}) {
		t.Errorf("ids %q, want [1 3]", got)
	}
}

var errStop = errors.New("host stopped")

// ids returns the "id" field of each record, as text.
func ids(t *testing.T, recs []connector.Record) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		var v map[string]any
		if err := json.Unmarshal(r.Data, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v["id"])
		var s string
		if json.Unmarshal(b, &s) != nil {
			s = string(b)
		}
		out = append(out, s)
	}
	return out
}

// FuzzMayBeFloat checks that the filter in front of strconv.ParseFloat
// lets through everything ParseFloat accepts.
func FuzzMayBeFloat(f *testing.F) {
	for _, s := range []string{"1", "-1.5e+3", "0x1p-2", "1_000", "Inf", "-infinity", "NaN", "2024-01-01", "2024-01-01T00:00:00Z", "1e", ".5", "+.5E-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := strconv.ParseFloat(s, 64); err == nil && !mayBeFloat(s) {
			t.Fatalf("mayBeFloat(%q) = false, but ParseFloat reads it", s)
		}
	})
}
