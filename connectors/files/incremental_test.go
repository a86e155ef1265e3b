package files

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
		// day1 rewritten: 1 changed, 4 is a tie at the old maximum, 5 is new.
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
		{"file touched", "updated", func(t *testing.T, dir string) {
			setMtime(t, filepath.Join(dir, "a.csv"), 2000)
		}, nil},
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
		}, []string{"1", "4"}},
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
	// Two rows arrive at the same cursor value in different runs: the
	// second is emitted once, the first never again.
	dir := t.TempDir()
	p := writeFile(t, dir, "a.jsonl", []byte(`{"id":1,"ts":5}`+"\n"))
	setMtime(t, p, 1000)
	cfg := config(t, []string{p}, []string{"id"}, map[string]any{"cursor_field": "ts"})
	first := read(t, cfg, nil)

	setMtime(t, writeFile(t, dir, "a.jsonl", []byte(`{"id":1,"ts":5}`+"\n"+`{"id":2,"ts":5}`+"\n"+`{"id":3,"ts":4.5}`+"\n")), 2000)
	second := read(t, cfg, first.State())
	if got := ids(t, second.Records); !slices.Equal(got, []string{"2"}) {
		t.Fatalf("second read: ids %q, want [2]", got)
	}
	var st state
	if err := json.Unmarshal(second.State(), &st); err != nil {
		t.Fatal(err)
	}
	c := st.Streams["s"].Cursor
	if c == nil || string(c.Value) != "5" || !slices.Equal(c.Keys, []string{"[1]", "[2]"}) {
		t.Fatalf("saved cursor %+v, want value 5 with keys [1] and [2]", c)
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
