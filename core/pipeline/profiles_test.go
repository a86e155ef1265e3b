package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/profile"
	"github.com/desilo/desilo/core/sink/parquet"
	"github.com/desilo/desilo/core/stage"
	"github.com/desilo/desilo/plugins/connector"
)

// Staged segments in these tests have row groups of a few rows, so that
// every build reads its streams in many chunks and spills many files.
func init() { stage.SegmentRowGroup = 64 }

// Profiles are built in chunks on all cores and taken in order, a group
// of chunks at a time: the snapshot's tables are byte for byte the same
// whatever the chunk and group sizes and the number of cores.
func TestProfileChunksGiveTheSameSnapshot(t *testing.T) {
	var crm, shop []connector.Record
	for i := range 300 {
		email := fmt.Sprintf("p%d@kundenpost.de", i%170) // many customers have several records
		at := fmt.Sprintf("2024-%02d-%02dT10:00:00Z", 1+i%12, 1+i%28)
		crm = append(crm, contact(fmt.Sprint(i), email, fmt.Sprintf("Name%d", i%170), at))
		if i%3 == 0 {
			shop = append(shop, contact(fmt.Sprint(i), email, fmt.Sprintf("Shop%d", i), at))
		}
		if i%2 == 0 { // RFM scores rank customers across chunks
			shop = append(shop, purchase(fmt.Sprint(i), email, at, []string{"paid", "cancelled"}[i%7/6], float64(i%13)*7.5, "EUR"))
		}
	}
	e := newEnv(t, "crm", "shop")
	if _, err := e.sync(memLauncher{"crm": {records: crm}, "shop": {records: shop, orders: true}}, false); err != nil {
		t.Fatal(err)
	}
	tables := func() map[string][]byte {
		dir, m, err := parquet.Current(e.cfg.Output.Parquet.Path)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for name, mt := range m.Tables {
			if name == "merge" { // holds the run id
				continue
			}
			for _, f := range mt.Files {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				out[name] = append(out[name], b...)
			}
		}
		return out
	}
	rebuild := func(chunk, group, procs int) map[string][]byte {
		defer func(c, g, p int) {
			profileChunk, groupRecords = c, g
			runtime.GOMAXPROCS(p)
		}(profileChunk, groupRecords, runtime.GOMAXPROCS(procs))
		profileChunk, groupRecords = chunk, group
		opts := Options{Config: e.cfg, Logger: quiet(), Now: func() time.Time { return e.now },
			RunID: fmt.Sprintf("chunk-%d-group-%d-cores-%d", chunk, group, procs)}
		if _, err := Build(context.Background(), e.store, opts); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(e.cfg.StateDir, "scratch")); !os.IsNotExist(err) {
			t.Fatalf("the build's scratch directory is left behind (%v)", err)
		}
		return tables()
	}
	want := rebuild(1<<14, 1<<17, 1) // one chunk, one group, one core
	for _, name := range []string{"customer", "event", "order"} {
		if len(want[name]) == 0 {
			t.Fatalf("tables %v: want a %s table", len(want), name)
		}
	}
	checkRFM(t, e)
	checkCustomerOrder(t, e, "order")
	for _, c := range []struct{ chunk, group, procs int }{{1, 1, 4}, {7, 20, 2}, {50, 60, 3}, {1, 1 << 17, 2}} {
		got := rebuild(c.chunk, c.group, c.procs)
		for name, w := range want {
			if !bytes.Equal(got[name], w) {
				t.Errorf("chunk %d, group %d, %d cores: table %s differs from the one-chunk build", c.chunk, c.group, c.procs, name)
			}
		}
	}
}

// cancelAt cancels a build when it reaches a stage.
type cancelAt struct {
	stage  string
	cancel context.CancelFunc
}

func (c cancelAt) SourceStarted(string)               {}
func (c cancelAt) SourceRecords(string, int64, int64) {}
func (c cancelAt) SourceDone(string, SourceSummary)   {}
func (c cancelAt) Stage(name string) {
	if name == c.stage {
		c.cancel()
	}
}

// A build cancelled in any stage, background writers and all, returns
// the cancellation, leaves the current snapshot in place and no partial
// one behind.
func TestCancelledBuildKeepsTheSnapshot(t *testing.T) {
	var recs []connector.Record
	for i := range 2000 {
		recs = append(recs, contact(fmt.Sprint(i), fmt.Sprintf("p%d@kundenpost.de", i%900), "N", "2024-01-01T00:00:00Z"))
	}
	e := newEnv(t, "crm")
	if _, err := e.sync(memLauncher{"crm": {records: recs}}, false); err != nil {
		t.Fatal(err)
	}
	before, _, err := parquet.Current(e.cfg.Output.Parquet.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer func(c, g int) { profileChunk, groupRecords = c, g }(profileChunk, groupRecords)
	profileChunk, groupRecords = 16, 100 // many jobs and groups in flight when the cancel comes
	for _, stage := range []string{"read staging", "identity", "profiles", "write snapshot"} {
		ctx, cancel := context.WithCancel(context.Background())
		opts := Options{Config: e.cfg, Logger: quiet(), Now: func() time.Time { return e.now },
			RunID: "cancelled-at-" + strings.ReplaceAll(stage, " ", "-"), Observer: cancelAt{stage, cancel}}
		_, err := Build(ctx, e.store, opts)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at %s: err = %v, want context.Canceled", stage, err)
		}
		after, _, err := parquet.Current(e.cfg.Output.Parquet.Path)
		if err != nil || after != before {
			t.Errorf("cancelled at %s: current is %s (%v), want %s", stage, after, err, before)
		}
		if _, err := os.Stat(filepath.Join(e.cfg.StateDir, "scratch")); !os.IsNotExist(err) {
			t.Errorf("cancelled at %s: the build's scratch directory is left behind (%v)", stage, err)
		}
		entries, _ := os.ReadDir(filepath.Join(e.cfg.Output.Parquet.Path, "snapshots"))
		for _, en := range entries {
			if en.Name() == opts.RunID {
				t.Errorf("cancelled at %s: the partial snapshot %s was left behind", stage, en.Name())
			}
		}
	}
}

// checkCustomerOrder checks that a table's rows come in customer id
// order and that their customer ids are the ones identity_link gives
// their records.
func checkCustomerOrder(t *testing.T, e *env, table string) {
	t.Helper()
	dir, m, err := parquet.Current(e.cfg.Output.Parquet.Path)
	if err != nil {
		t.Fatal(err)
	}
	links := map[[3]string]string{}
	lt := model.MustLoad("identity_link")
	ls, lst, lk, lc := col(lt, "source"), col(lt, "stream"), col(lt, "record_key"), col(lt, "customer_id")
	if err := parquet.ReadTable(dir, m, lt, func(row []any) error {
		links[[3]string{row[ls].(string), row[lst].(string), row[lk].(string)}] = row[lc].(string)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tb := model.MustLoad(table)
	s, st, k, c := col(tb, "source"), col(tb, "stream"), col(tb, "record_key"), col(tb, "customer_id")
	last, n := "", 0
	if err := parquet.ReadTable(dir, m, tb, func(row []any) error {
		id := row[c].(string)
		if id < last {
			return fmt.Errorf("%s row %d: customer %s after %s", table, n, id, last)
		}
		if want := links[[3]string{row[s].(string), row[st].(string), row[k].(string)}]; id != want {
			return fmt.Errorf("%s row %d (%v/%v/%v): customer %s, identity_link says %q", table, n, row[s], row[st], row[k], id, want)
		}
		last = id
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("table %s is empty", table)
	}
}

// checkRFM scores the current snapshot's customers again with
// profile.AssignRFM, which sees every row at once, and compares: the
// build scores each customer as it writes it, from inputs computed in a
// first pass.
func checkRFM(t *testing.T, e *env) {
	t.Helper()
	dir, m, err := parquet.Current(e.cfg.Output.Parquet.Path)
	if err != nil {
		t.Fatal(err)
	}
	tb := model.MustLoad("customer")
	var rows, again [][]any
	if err := parquet.ReadTable(dir, m, tb, func(row []any) error {
		rows, again = append(rows, slices.Clone(row)), append(again, slices.Clone(row))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := profile.AssignRFM(again); err != nil {
		t.Fatal(err)
	}
	score, _ := tb.Index("rfm_score")
	scored := map[any]int{}
	for i := range rows {
		if !reflect.DeepEqual(rows[i], again[i]) {
			t.Fatalf("customer %v: written %v, scored again %v", rows[i][0], rows[i], again[i])
		}
		scored[rows[i][score]]++
	}
	if len(scored) < 5 {
		t.Fatalf("scores %v: want customers with several different scores", scored)
	}
}

// output.parquet.row_group_size reaches every table the build writes.
func TestRowGroupSizeIsHonoured(t *testing.T) {
	var recs []connector.Record
	for i := range 300 {
		recs = append(recs, contact(fmt.Sprint(i), fmt.Sprintf("p%d@kundenpost.de", i%200), "N", "2024-01-01T00:00:00Z"))
	}
	e := newEnv(t, "crm")
	e.cfg.Output.Parquet.RowGroupSize = 64
	if _, err := e.sync(memLauncher{"crm": {records: recs}}, false); err != nil {
		t.Fatal(err)
	}
	dir, m, err := parquet.Current(e.cfg.Output.Parquet.Path)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for name, mt := range m.Tables {
		for _, f := range mt.Files {
			fh, pf, err := parquet.Open(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			groups := pf.RowGroups()
			for _, g := range groups {
				if g.NumRows() > 64 {
					t.Errorf("table %s: a row group of %d rows, want at most 64", name, g.NumRows())
				}
			}
			if want := (mt.Rows + 63) / 64; int64(len(groups)) != want && mt.Rows > 0 {
				t.Errorf("table %s: %d rows in %d row groups, want %d", name, mt.Rows, len(groups), want)
			}
			if mt.Rows > 64 {
				checked++
			}
			fh.Close()
		}
	}
	if checked < 2 {
		t.Fatalf("only %d tables had more than one row group's worth of rows", checked)
	}
}
