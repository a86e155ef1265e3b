package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/parquet"
	"github.com/desilo/desilo/core/stage"
	"github.com/desilo/desilo/plugins/connector"
)

// memSource is an in-process connector over a list of contacts; its state
// is the number of records delivered.
type memSource struct {
	records []connector.Record
	failAt  int  // fail Read after emitting this many records (0: never)
	orders  bool // also offer an orders stream (see purchase)
	hang    bool // after the records, wait for the context's end
	// noCheckpoint: never checkpoint, as a careless connector does
	noCheckpoint bool
}

func (m *memSource) Spec() connector.Spec {
	return connector.Spec{Name: "mem", Version: "1", ProtocolVersion: connector.ProtocolVersion, ConfigSchema: json.RawMessage(`{}`)}
}
func (m *memSource) Check(context.Context, json.RawMessage) error { return nil }
func (m *memSource) Discover(context.Context, json.RawMessage) ([]connector.Stream, error) {
	streams := []connector.Stream{{
		Name: "contacts", Schema: json.RawMessage(`{"type":"object"}`), PrimaryKey: []string{"id"}, CursorField: "seq",
		Mapping: &connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
			"email": connector.P("email"), "last_name": connector.P("name"), "updated_at": connector.P("at"),
		}},
	}}
	if m.orders {
		streams = append(streams, connector.Stream{
			Name: "orders", Schema: json.RawMessage(`{"type":"object"}`), PrimaryKey: []string{"id"},
			Mapping: &connector.Mapping{Entity: "order", Fields: map[string]connector.Expr{
				"email": connector.P("email"), "ordered_at": connector.P("at"), "status": connector.P("status"),
				"total": connector.Expr{Path: "total", Type: "number"}, "currency": connector.P("currency"),
			}},
		})
	}
	return streams, nil
}
func (m *memSource) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	start := 0
	if len(req.State) > 0 {
		if err := json.Unmarshal(req.State, &start); err != nil {
			return err
		}
	}
	for i := start; i < len(m.records); i++ {
		if m.failAt > 0 && i == m.failAt {
			return errors.New("upstream went away")
		}
		if err := out.Emit(ctx, m.records[i]); err != nil {
			return err
		}
		if m.noCheckpoint {
			continue
		}
		if err := out.Checkpoint(ctx, []byte(strconv.Itoa(i+1))); err != nil {
			return err
		}
	}
	if m.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

type memConn struct{ *memSource }

func (memConn) Close() {}

type memLauncher map[string]*memSource

func (l memLauncher) Launch(_ context.Context, src *config.Source) (Conn, error) {
	return memConn{l[src.Name]}, nil
}

func contact(id, email, name, at string) connector.Record {
	b, _ := json.Marshal(map[string]string{"id": id, "email": email, "name": name, "at": at})
	return connector.Record{Stream: "contacts", Data: b}
}

// purchase is an order of the orders stream (memSource.orders).
func purchase(id, email, at, status string, total float64, currency string) connector.Record {
	b, _ := json.Marshal(map[string]any{"id": id, "email": email, "at": at, "status": status, "total": total, "currency": currency})
	return connector.Record{Stream: "orders", Data: b}
}

type env struct {
	t     *testing.T
	cfg   *config.Config
	store *stage.Store
	now   time.Time
}

func newEnv(t *testing.T, sources ...string) *env {
	t.Helper()
	dir := t.TempDir()
	yaml := "version: 1\nidentity: {keys: [{name: email, normalize: email}]}\nsources:\n"
	for _, s := range sources {
		yaml += "  - {name: " + s + ", connector: mem}\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "desilo.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "desilo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := stage.Lock(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	store, err := stage.Open(lock, stage.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, cfg: cfg, store: store, now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *env) sync(l memLauncher, full bool) ([]SourceSummary, error) {
	e.t.Helper()
	e.now = e.now.Add(time.Hour)
	opts := Options{Config: e.cfg, Launcher: l, Logger: quiet(), FullRefresh: full, Now: func() time.Time { return e.now }}
	sums, err := Extract(context.Background(), e.store, opts)
	if err != nil && !errors.Is(err, ErrSourcesFailed) {
		return sums, err
	}
	if _, berr := Build(context.Background(), e.store, opts); berr != nil && !errors.Is(berr, ErrNothingStaged) {
		e.t.Fatal(berr)
	}
	return sums, err
}

// customers returns the current snapshot's customers as last_name → emails.
func (e *env) customers() map[string][]string {
	e.t.Helper()
	t := model.MustLoad("customer")
	ln, em := col(t, "last_name"), col(t, "emails")
	out := map[string][]string{}
	e.eachRow(t, func(row []any) {
		name, _ := row[ln].(string)
		out[name] = slices.Clone(row[em].([]string))
	})
	return out
}

// eachRow calls fn with each row of table t of the current snapshot.
func (e *env) eachRow(t *model.Table, fn func(row []any)) {
	e.t.Helper()
	dir, m, err := parquet.Current(e.cfg.Output.Parquet.Path)
	if err != nil {
		e.t.Fatal(err)
	}
	err = parquet.ReadTable(dir, m, t, func(row []any) error {
		fn(row)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestFailedSourceKeepsItsStateAndResumes(t *testing.T) {
	e := newEnv(t, "crm")
	src := &memSource{records: []connector.Record{
		contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z"),
		contact("2", "b@kundenpost.de", "Brandt", "2024-01-02T00:00:00Z"),
		contact("3", "c@kundenpost.de", "Claus", "2024-01-03T00:00:00Z"),
	}, failAt: 2}
	sums, err := e.sync(memLauncher{"crm": src}, false)
	if !errors.Is(err, ErrSourcesFailed) || sums[0].Error == "" {
		t.Fatalf("err = %v, summary %+v; want the source to fail", err, sums)
	}
	// The failed read's records are not published and its state did not move.
	if st, _ := e.store.LoadState("crm"); st != nil {
		t.Fatalf("state after a failed read = %s, want none", st)
	}
	src.failAt = 0
	if _, err := e.sync(memLauncher{"crm": src}, false); err != nil {
		t.Fatal(err)
	}
	if got := e.customers(); len(got) != 3 {
		t.Fatalf("customers after the resumed run: %v", got)
	}
	if st, _ := e.store.LoadState("crm"); string(st) != "3" {
		t.Fatalf("state = %s, want 3", st)
	}
}

func TestDeletesAndFullRefresh(t *testing.T) {
	e := newEnv(t, "crm")
	src := &memSource{records: []connector.Record{
		contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z"),
		contact("2", "b@kundenpost.de", "Brandt", "2024-01-02T00:00:00Z"),
	}}
	if _, err := e.sync(memLauncher{"crm": src}, false); err != nil {
		t.Fatal(err)
	}
	// The source deletes record 2: a tombstone removes it from the model.
	del := connector.Record{Stream: "contacts", Data: json.RawMessage(`{"id":"2"}`), Deleted: true}
	src.records = append(src.records, del)
	if _, err := e.sync(memLauncher{"crm": src}, false); err != nil {
		t.Fatal(err)
	}
	if got := e.customers(); len(got) != 1 || got["Albers"] == nil {
		t.Fatalf("customers after a delete: %v", got)
	}
	// A full refresh replaces what was staged: a record the source no
	// longer has (and never sent a delete for) disappears too.
	src.records = []connector.Record{contact("3", "c@kundenpost.de", "Claus", "2024-01-03T00:00:00Z")}
	if _, err := e.sync(memLauncher{"crm": src}, true); err != nil {
		t.Fatal(err)
	}
	if got := e.customers(); len(got) != 1 || got["Claus"] == nil {
		t.Fatalf("customers after a full refresh: %v", got)
	}
}

// Each sync that brings changes adds a segment per stream; a sync
// compacts a stream once it has more than stage.DefaultCompactSegments,
// and nothing is lost by it.
func TestSyncCompactsStaging(t *testing.T) {
	e := newEnv(t, "crm")
	src := &memSource{}
	for i := range 2*stage.DefaultCompactSegments + 3 {
		src.records = append(src.records, contact(strconv.Itoa(i), "p"+strconv.Itoa(i)+"@kundenpost.de", "N"+strconv.Itoa(i), "2024-01-01T00:00:00Z"))
		if _, err := e.sync(memLauncher{"crm": src}, false); err != nil {
			t.Fatal(err)
		}
		refs := e.store.Streams()
		if len(refs) != 1 || refs[0].Segments > stage.DefaultCompactSegments || refs[0].Rows != int64(i+1) {
			t.Fatalf("sync %d: staged %+v, want at most %d segments holding %d rows", i, refs, stage.DefaultCompactSegments, i+1)
		}
		if got := e.customers(); len(got) != i+1 {
			t.Fatalf("sync %d: %d customers, want %d", i, len(got), i+1)
		}
	}
}

// TestRecordsJoinAcrossSources splits records over two sources, both
// ways round, and expects one customer for the two spellings of an email.
func TestRecordsJoinAcrossSources(t *testing.T) {
	recs := []connector.Record{
		contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z"),
		contact("2", "A@Kundenpost.de", "Albers", "2024-02-01T00:00:00Z"),
		contact("3", "c@kundenpost.de", "Claus", "2024-01-03T00:00:00Z"),
	}
	run := func(order []string) map[string][]string {
		e := newEnv(t, order...)
		l := memLauncher{order[0]: {records: recs[:2]}, order[1]: {records: recs[2:]}}
		if _, err := e.sync(l, false); err != nil {
			t.Fatal(err)
		}
		return e.customers()
	}
	a, b := run([]string{"crm", "shop"}), run([]string{"shop", "crm"})
	if len(a) != 2 || len(a["Albers"]) != 1 {
		t.Fatalf("customers %v: the two Albers records should be one customer with one email", a)
	}
	if len(a) != len(b) {
		t.Fatalf("%v != %v", a, b)
	}
}

func TestBuildRefusesToPublishNothing(t *testing.T) {
	e := newEnv(t, "crm")
	_, err := Build(context.Background(), e.store, Options{Config: e.cfg, Logger: quiet()})
	if !errors.Is(err, ErrNothingStaged) {
		t.Fatalf("Build with nothing staged: %v, want ErrNothingStaged", err)
	}
	if _, _, err := parquet.Current(e.cfg.Output.Parquet.Path); err == nil {
		t.Fatal("an empty snapshot was published")
	}
}

// A source that fails on its reject ratio keeps the state it had while
// the ratio held, even when staging committed checkpoints during the read
// (every SegmentRows rows): the records it rejected are read again once
// the mapping is fixed.
func TestRejectRatioHoldsTheState(t *testing.T) {
	e := newEnv(t, "crm")
	lock, err := stage.Lock(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	store, err := stage.Open(lock, stage.Options{Logger: quiet(), SegmentRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	var recs []connector.Record
	for i := range 40 {
		id := fmt.Sprint(i)
		if i >= 20 && i%2 == 0 {
			id = "" // no primary key: rejected, from record 20 on
		}
		recs = append(recs, contact(id, fmt.Sprintf("p%d@kundenpost.de", i), "N", "2024-01-01T00:00:00Z"))
	}
	opts := Options{Config: e.cfg, Launcher: memLauncher{"crm": &memSource{records: recs}}, Logger: quiet()}
	sums, err := Extract(context.Background(), store, opts)
	if !errors.Is(err, ErrSourcesFailed) || !strings.Contains(sums[0].Error, "reject") {
		t.Fatalf("err %v, summary %+v", err, sums)
	}
	st, err := store.LoadState("crm")
	if err != nil {
		t.Fatal(err)
	}
	// The ratio (5%) holds through the checkpoint after record 21 (1 of 22
	// rejected) and breaks at the reject of record 22 (2 of 23).
	if string(st) != "22" {
		t.Errorf("saved state %s, want 22: the last checkpoint within the reject ratio", st)
	}
}

// TestRejectRatioErrorSaysWhy: a source failed on its rejects says why
// the first was rejected. A connector that emits invalid JSON has every
// record rejected, and its author learns it from the error: the rejects
// of a failed read are not staged, so the reject table may not hold them.
func TestRejectRatioErrorSaysWhy(t *testing.T) {
	recs := []connector.Record{
		{Stream: "contacts", Data: json.RawMessage(`{"id": "1", "email": `)},
		contact("2", "p2@kundenpost.de", "N", "2024-01-01T00:00:00Z"),
	}
	var logs bytes.Buffer
	sums, err := extractOnce(t, &memSource{records: recs}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if !errors.Is(err, ErrSourcesFailed) {
		t.Fatalf("err %v, want the source failed", err)
	}
	if want := "stream contacts rejected 1 of 2 records (50.0%, more than run.max_reject_ratio 5.0%), the first for "; !strings.Contains(sums[0].Error, want) ||
		!strings.Contains(sums[0].Error, "JSON") || !strings.Contains(sums[0].Error, "the next sync reads those records again") {
		t.Fatalf("error %q\ndoes not say %q, why (invalid JSON) and what happens next", sums[0].Error, want)
	}
	// Every reject is in the debug log, the reject table being written
	// only for a source that succeeds.
	if !strings.Contains(logs.String(), `msg="record rejected" source=crm stream=contacts`) {
		t.Errorf("no debug line for the reject:\n%s", logs.String())
	}
}

// TestRecordOfAStreamNotAskedFor: a connector that emits a stream it did
// not declare (or was not asked for) fails its source with a message that
// names the stream, the streams asked for, and the rule it broke.
func TestRecordOfAStreamNotAskedFor(t *testing.T) {
	recs := []connector.Record{{Stream: "people", Data: json.RawMessage(`{"id": "1"}`)}}
	sums, err := extractOnce(t, &memSource{records: recs}, quiet())
	if !errors.Is(err, ErrSourcesFailed) {
		t.Fatalf("err %v, want the source failed", err)
	}
	want := `source crm: the connector sent a record of stream "people", which was not asked for (asked for: `
	if !strings.HasPrefix(sums[0].Error, want) || !strings.Contains(sums[0].Error, "ReadRequest.Streams") {
		t.Fatalf("error %q\ndoes not start with %q and name ReadRequest.Streams", sums[0].Error, want)
	}
}

// extractOnce extracts source crm, read from src, into a fresh state dir.
func extractOnce(t *testing.T, src *memSource, log *slog.Logger) ([]SourceSummary, error) {
	t.Helper()
	e := newEnv(t, "crm")
	lock, err := stage.Lock(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	store, err := stage.Open(lock, stage.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return Extract(context.Background(), store, Options{Config: e.cfg, Launcher: memLauncher{"crm": src}, Logger: log})
}

// A connector that never checkpoints works, but every sync reads
// everything again: its author hears of it.
func TestNoCheckpointIsWarned(t *testing.T) {
	for _, checkpoints := range []bool{true, false} {
		var logs bytes.Buffer
		src := &memSource{records: []connector.Record{contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z")}, noCheckpoint: !checkpoints}
		if _, err := extractOnce(t, src, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
			t.Fatal(err)
		}
		if warned := strings.Contains(logs.String(), "the connector sent no checkpoint"); warned == checkpoints {
			t.Errorf("connector checkpoints: %v, warned: %v\n%s", checkpoints, warned, logs.String())
		}
	}
}

// A source removed from desilo.yaml is left out of the build: its staged
// records do not stay in every snapshot.
func TestRemovedSourceIsNotBuilt(t *testing.T) {
	e := newEnv(t, "crm", "shop")
	l := memLauncher{
		"crm":  &memSource{records: []connector.Record{contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z")}},
		"shop": &memSource{records: []connector.Record{contact("9", "z@kundenpost.de", "Zander", "2024-01-01T00:00:00Z")}},
	}
	if _, err := e.sync(l, false); err != nil {
		t.Fatal(err)
	}
	if got := e.customers(); len(got) != 2 {
		t.Fatalf("customers with both sources: %v", got)
	}
	e.cfg.Sources = e.cfg.Sources[:1] // shop removed
	if _, err := e.sync(l, false); err != nil {
		t.Fatal(err)
	}
	if got := e.customers(); len(got) != 1 {
		t.Errorf("customers after shop was removed: %v, want crm's only", got)
	}
}

// A read resumed from a checkpoint rejects again a record it rejected
// after that checkpoint, whose reject staging had committed already: the
// reject table still lists it once.
func TestRejectsOfAResumedReadAreNotRepeated(t *testing.T) {
	e := newEnv(t, "crm")
	e.cfg.Run.MaxRejectRatio = 1
	lock, err := stage.Lock(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	// Two rows close a segment: the reject of record 1 closes one, which
	// commits checkpoint 1 with that reject.
	store, err := stage.Open(lock, stage.Options{Logger: quiet(), SegmentRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	recs := []connector.Record{
		contact("0", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z"),
		contact("", "b@kundenpost.de", "Brandt", "2024-01-01T00:00:00Z"), // no key: rejected
		contact("2", "c@kundenpost.de", "Claus", "2024-01-01T00:00:00Z"),
	}
	src := &memSource{records: recs, failAt: 2}
	opts := Options{Config: e.cfg, Launcher: memLauncher{"crm": src}, Logger: quiet()}
	if _, err := Extract(context.Background(), store, opts); !errors.Is(err, ErrSourcesFailed) {
		t.Fatalf("first read: %v, want it to fail", err)
	}
	src.failAt = 0
	if _, err := Extract(context.Background(), store, opts); err != nil {
		t.Fatalf("resumed read: %v", err)
	}
	if _, err := Build(context.Background(), store, opts); err != nil {
		t.Fatal(err)
	}
	dir, m, err := parquet.Current(e.cfg.Output.Parquet.Path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := parquet.ReadTable(dir, m, model.MustLoad("reject"), func([]any) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d reject rows, want 1 (record 1, once)", n)
	}
}

// A stream no longer among its source's listed streams is left out of the
// build too.
func TestRemovedStreamIsNotBuilt(t *testing.T) {
	e := newEnv(t, "shop")
	src := &memSource{orders: true, records: []connector.Record{
		contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z"),
		purchase("o1", "z@kundenpost.de", "2024-01-02T00:00:00Z", "paid", 10, "EUR"),
	}}
	l := memLauncher{"shop": src}
	if _, err := e.sync(l, false); err != nil {
		t.Fatal(err)
	}
	if got := e.customers(); len(got) != 2 {
		t.Fatalf("customers with both streams: %v", got)
	}
	e.cfg.Sources[0].Streams = []string{"contacts"} // orders no longer read
	if _, err := e.sync(l, false); err != nil {
		t.Fatal(err)
	}
	if got := e.customers(); len(got) != 1 {
		t.Errorf("customers after orders left the streams: %v, want Albers only", got)
	}
}

// run.source_timeout stops a source that takes longer, with an error that
// names the setting; the other sources and the build go on.
func TestSourceTimeoutStopsASlowSource(t *testing.T) {
	e := newEnv(t, "slow", "fast")
	e.cfg.Run.SourceTimeout = 300 * time.Millisecond
	l := memLauncher{
		"slow": {records: []connector.Record{contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z")}, hang: true},
		"fast": {records: []connector.Record{contact("2", "b@kundenpost.de", "Brandt", "2024-01-01T00:00:00Z")}},
	}
	start := time.Now()
	sums, err := e.sync(l, false)
	if !errors.Is(err, ErrSourcesFailed) {
		t.Fatalf("sync: %v, want ErrSourcesFailed", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the sync took %v with a 300ms source_timeout", d)
	}
	for _, s := range sums {
		switch s.Name {
		case "slow":
			if !strings.Contains(s.Error, "run.source_timeout (300ms)") {
				t.Errorf("slow source's error %q, want it to name run.source_timeout (300ms)", s.Error)
			}
		case "fast":
			if s.Error != "" || s.Records != 1 {
				t.Errorf("fast source: error %q, %d records; want no error, 1 record", s.Error, s.Records)
			}
		}
	}
	if got := e.customers(); len(got["Brandt"]) != 1 {
		t.Errorf("customers %v: want the fast source's Brandt built", got)
	}
}

// Values that linked nothing are logged one line per key and reason, with
// counts; each value only at debug level.
func TestUnlinkedValuesLoggedByGroup(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	logUnlinked(log, []identity.ValueReport{
		{Key: "email", Value: "info@a.example", Reason: identity.ReasonBlocklisted, Records: 3},
		{Key: "phone", Value: "+4930123", Reason: identity.ReasonTooCommon, Records: 60},
		{Key: "email", Value: "team@b.example", Reason: identity.ReasonBlocklisted, Records: 2},
	})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		"msg=\"values linked nothing\" key=email reason=" + identity.ReasonBlocklisted + " values=2 records=5",
		"msg=\"values linked nothing\" key=phone reason=" + identity.ReasonTooCommon + " values=1 records=60",
	}
	if len(lines) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d: %s\nwant it to end with %s", i, lines[i], w)
		}
	}
}

// merges returns the current snapshot's merge rows as absorbed → surviving
// id, and each row's run id.
func (e *env) merges() (map[string]string, map[string]string) {
	e.t.Helper()
	to, run := map[string]string{}, map[string]string{}
	e.eachRow(mergeTable, func(row []any) {
		a := row[col(mergeTable, "absorbed_id")].(string)
		to[a], run[a] = row[col(mergeTable, "surviving_id")].(string), row[col(mergeTable, "run_id")].(string)
	})
	return to, run
}

// The merge table maps every id that gave way, not only this build's: an
// unchanged sync keeps the earlier merge row, and a row goes once its
// absorbed id is a customer again.
func TestMergeRowsCarryForward(t *testing.T) {
	e := newEnv(t, "crm")
	albers := contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z")
	src := &memSource{records: []connector.Record{albers, contact("2", "b@kundenpost.de", "Brandt", "2024-01-02T00:00:00Z")}}
	sync := func() (map[string]string, map[string]string) {
		t.Helper()
		if _, err := e.sync(memLauncher{"crm": src}, true); err != nil {
			t.Fatal(err)
		}
		return e.merges()
	}
	if to, _ := sync(); len(to) != 0 {
		t.Fatalf("merges of a first sync: %v", to)
	}
	// Brandt takes Albers's address: his customer gives way to the older.
	src.records[1] = contact("2", "a@kundenpost.de", "Brandt", "2024-01-02T00:00:00Z")
	to, run := sync()
	if len(to) != 1 {
		t.Fatalf("merges after a join: %v, want one", to)
	}
	var absorbed, runID string
	for a := range to {
		absorbed, runID = a, run[a]
	}
	again, againRun := sync()
	if again[absorbed] != to[absorbed] || againRun[absorbed] != runID || len(again) != 1 {
		t.Fatalf("an unchanged sync's merges: %v (runs %v), want %v of run %s kept", again, againRun, to, runID)
	}
	// Brandt's own address again: his old id is a customer again, and the
	// row that said it was gone goes.
	src.records[1] = contact("2", "b@kundenpost.de", "Brandt", "2024-01-02T00:00:00Z")
	if after, _ := sync(); len(after) != 0 {
		t.Fatalf("merges after the split: %v, want none (%s is a customer again)", after, absorbed)
	}
}

// linkTimes returns the current snapshot's linked_at by record key.
func (e *env) linkTimes() map[string]time.Time {
	e.t.Helper()
	out := map[string]time.Time{}
	e.eachRow(linkTable, func(row []any) {
		at, _ := row[col(linkTable, "linked_at")].(time.Time)
		out[row[col(linkTable, "record_key")].(string)] = at
	})
	return out
}

// linked_at is when a record first joined its customer: kept while it
// stays, the build's time when it moves to another customer.
func TestLinkedAtIsKeptWhileTheLinkStays(t *testing.T) {
	e := newEnv(t, "crm")
	src := &memSource{records: []connector.Record{
		contact("1", "a@kundenpost.de", "Albers", "2024-01-01T00:00:00Z"),
		contact("2", "b@kundenpost.de", "Brandt", "2024-01-02T00:00:00Z"),
	}}
	sync := func() (time.Time, map[string]time.Time) {
		t.Helper()
		if _, err := e.sync(memLauncher{"crm": src}, true); err != nil {
			t.Fatal(err)
		}
		return e.now, e.linkTimes()
	}
	first, at := sync()
	if !at["1"].Equal(first) || !at["2"].Equal(first) {
		t.Fatalf("linked_at after the first build: %v, want %v for both", at, first)
	}
	if _, at = sync(); !at["1"].Equal(first) || !at["2"].Equal(first) {
		t.Fatalf("linked_at after an unchanged build: %v, want the first build's %v kept", at, first)
	}
	src.records[1] = contact("2", "a@kundenpost.de", "Brandt", "2024-01-02T00:00:00Z")
	third, at := sync()
	if !at["1"].Equal(first) || !at["2"].Equal(third) {
		t.Fatalf("linked_at after record 2 joined record 1's customer: %v, want 1 at %v and 2 at %v", at, first, third)
	}
}

// A record rejected once stays in the reject table while no sync reads it
// again: a nightly run that does not touch it must not lose it.
func TestRejectStaysWhileItsRecordIsNotReadAgain(t *testing.T) {
	e := newEnv(t, "crm")
	var recs []connector.Record
	for i := range 20 {
		recs = append(recs, contact(fmt.Sprint(i), fmt.Sprintf("p%d@kundenpost.de", i), "N", "2024-01-01T00:00:00Z"))
	}
	recs[7] = contact("7", "p7@kundenpost.de", "N", "not a time")
	src := &memSource{records: recs}
	rejected := func() []string {
		var keys []string
		rt := model.MustLoad("reject")
		e.eachRow(rt, func(row []any) { keys = append(keys, row[col(rt, "record_key")].(string)) })
		return keys
	}
	if _, err := e.sync(memLauncher{"crm": src}, false); err != nil {
		t.Fatal(err)
	}
	if got := rejected(); !slices.Equal(got, []string{"7"}) {
		t.Fatalf("rejects of the first sync: %v, want record 7", got)
	}
	// The source resumes past everything: nothing is read again.
	if _, err := e.sync(memLauncher{"crm": src}, false); err != nil {
		t.Fatal(err)
	}
	if got := rejected(); !slices.Equal(got, []string{"7"}) {
		t.Fatalf("rejects of a sync that read nothing: %v, want record 7 still", got)
	}
	// Fixed at the source and read again: the reject is gone.
	src.records = append(src.records, contact("7", "p7@kundenpost.de", "N", "2024-02-01T00:00:00Z"))
	if _, err := e.sync(memLauncher{"crm": src}, false); err != nil {
		t.Fatal(err)
	}
	if got := rejected(); len(got) != 0 {
		t.Fatalf("rejects after record 7 was read again and staged: %v", got)
	}
}

// A stream removed from its source's streams is left out of the build:
// its rejects too, though staging keeps them (no sync reads it again).
func TestRemovedStreamsRejectsAreNotBuilt(t *testing.T) {
	e := newEnv(t, "shop")
	var recs []connector.Record
	for i := range 30 {
		recs = append(recs, contact(fmt.Sprint(i), fmt.Sprintf("p%d@kundenpost.de", i), "N", "2024-01-01T00:00:00Z"),
			purchase(fmt.Sprint("o", i), fmt.Sprintf("p%d@kundenpost.de", i), "2024-01-02T00:00:00Z", "paid", 10, "EUR"))
	}
	recs[1] = purchase("o0", "p0@kundenpost.de", "not a time", "paid", 10, "EUR")
	l := memLauncher{"shop": &memSource{orders: true, records: recs}}
	streams := func() []string {
		var out []string
		rt := model.MustLoad("reject")
		e.eachRow(rt, func(row []any) { out = append(out, row[col(rt, "stream")].(string)) })
		return out
	}
	if _, err := e.sync(l, false); err != nil {
		t.Fatal(err)
	}
	if got := streams(); !slices.Equal(got, []string{"orders"}) {
		t.Fatalf("rejects with both streams: %v, want the order's", got)
	}
	e.cfg.Sources[0].Streams = []string{"contacts"} // orders no longer read
	if _, err := e.sync(l, false); err != nil {
		t.Fatal(err)
	}
	if got := streams(); len(got) != 0 {
		t.Errorf("rejects after orders left the streams: %v, want none", got)
	}
}
