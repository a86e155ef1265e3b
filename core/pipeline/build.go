package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
	"github.com/desilo/desilo/core/sink/parquet"
	"github.com/desilo/desilo/core/stage"
)

// Build recomputes identity and profiles from everything staged for the
// sources desilo.yaml names, and publishes a new Parquet snapshot. It
// never reads a source: changing the matching rules needs only a new
// build.
func Build(ctx context.Context, store *stage.Store, opts Options) (*BuildSummary, error) {
	opts.defaults()
	refs := builtStreams(store, opts.Config, opts.Logger)
	if len(refs) == 0 {
		// An empty model published over a good one (a wrong state_dir, a
		// first sync whose sources all failed) would empty every table
		// downstream, BigQuery's included.
		return nil, fmt.Errorf("%w in %s: run 'desilo sync' first (or check state_dir)", ErrNothingStaged, opts.Config.StateDir)
	}
	b := &builder{opts: &opts, store: store, refs: refs, sum: &BuildSummary{Tables: map[string]int64{}}}
	defer b.abort()
	// The previous snapshot's links are needed only by identity, but
	// reading them is independent of staging: read them meanwhile, on
	// the core the staging scan leaves idle.
	prevCtx, cancelPrev := context.WithCancel(ctx)
	defer cancelPrev()
	b.previous = make(chan previousResult, 1)
	go func() {
		r := previousResult{}
		r.snap, r.err = readPrevious(opts.Config.Output.Parquet.Path)
		if r.err == nil {
			r.p, r.err = previousAssignments(prevCtx, r.snap)
		}
		if r.err == nil {
			r.merges, r.err = previousMerges(r.snap)
		}
		b.previous <- r
	}()
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"read staging", b.scan},
		{"identity", b.resolve},
		{"profiles", b.profiles},
		{"write snapshot", b.publish},
	}
	for _, st := range steps {
		opts.Observer.Stage(st.name)
		start := time.Now()
		if err := st.run(ctx); err != nil {
			return b.sum, fmt.Errorf("build, %s: %w", st.name, err)
		}
		b.sum.Stages = append(b.sum.Stages, StageTiming{st.name, Duration(time.Since(start))})
		opts.Logger.Info("build stage done", "stage", st.name, "duration", time.Since(start).Round(time.Millisecond).String())
	}
	return b.sum, nil
}

// ErrNothingStaged says a build found no staged records and published nothing.
var ErrNothingStaged = errors.New("nothing is staged")

// scanBatch is how many records go to identity at once.
const scanBatch = 1 << 14

// staged is one staged record: which set holds its row, and where its
// assignment is in the identity result. Eight bytes a record; the rows
// themselves are spilled (see spill.go).
type staged struct {
	set, assign int32
}

// stagedSet is one staged stream. Its rows are spilled; a group's are
// loaded into a rowset.Set when its customers are built.
type stagedSet struct {
	table      *model.Table
	entity     string
	customerID int // the customer_id column
	source     string
	stream     string
	key        int // the record_key column
}

type builder struct {
	opts  *Options
	store *stage.Store
	refs  []stage.StreamRef // the staged streams built (builtStreams)
	sum   *BuildSummary

	index   *identity.Index
	sets    []stagedSet
	records []staged
	spill   *spill
	rejects [][]any
	result  *identity.Result

	previous chan previousResult // the previous snapshot's links, read at the start
	// prevSnap is the snapshot current pointed at when the build began;
	// prevMerges its merge rows, carried forward
	prevSnap   previousSnapshot
	prevMerges [][]any

	open []*tableJob       // written by the profiles stage, closed by publish
	snap *parquet.Snapshot // open from the profiles stage until commit

	// The tables that need only identity's result are written by a
	// background goroutine while profiles are built.
	mu     sync.Mutex // guards sum.Tables
	bgStop context.CancelFunc
	bgDone chan error
}

// abort stops the background writers and removes a snapshot that was
// begun but not committed.
func (b *builder) abort() {
	if b.bgStop != nil {
		b.bgStop()
		<-b.bgDone
		b.bgStop = nil
	}
	for _, t := range b.open {
		t.w.Abort() // after a Close it does nothing
	}
	if b.spill != nil {
		b.spill.remove()
		b.spill = nil
	}
	if b.snap != nil {
		_ = b.snap.Abort()
		b.snap = nil
	}
}

// openTable opens one snapshot table's writer. The snapshot is not safe
// for concurrent use: tables are opened here, from one goroutine, and
// only then filled, possibly concurrently.
func (b *builder) openTable(name string) (*tableJob, error) {
	w, err := b.snap.Table(name)
	if err != nil {
		return nil, err
	}
	return &tableJob{name: name, w: w}, nil
}

// tableJob is an open table and, once filled, its row count.
type tableJob struct {
	name string
	w    *parquet.Writer
}

// fill writes the table's rows and closes it.
func (b *builder) fill(t *tableJob, write func(w *parquet.Writer) error) error {
	if err := write(t.w); err != nil {
		_ = t.w.Close()
		return fmt.Errorf("table %s: %w", t.name, err)
	}
	if err := t.w.Close(); err != nil {
		return fmt.Errorf("table %s: %w", t.name, err)
	}
	b.mu.Lock()
	b.sum.Tables[t.name] = t.w.Rows()
	b.mu.Unlock()
	return nil
}

// checkEvery is how many rows a table writer goes between looks at its
// context.
const checkEvery = 4096

// entityOf maps a mapped table back to its entity.
func entityOf(table string) string {
	for e, t := range model.Mapped {
		if t == table {
			return e
		}
	}
	return table
}

// scan reads every staged stream, keeps the rows, and feeds identity the
// fields its keys read.
func (b *builder) scan(ctx context.Context) error {
	rules := Rules(b.opts.Config)
	ix, err := identity.NewIndex(rules)
	if err != nil {
		return err
	}
	b.index = ix
	dir, err := b.store.Scratch()
	if err != nil {
		return err
	}
	b.spill = &spill{dir: dir}
	fields := ix.Fields()
	// Records go to identity in batches, which it normalizes on all cores
	// (phone parsing is the expensive part).
	batch := make([]identity.Record, 0, scanBatch)
	flush := func() error {
		err := ix.AddBatch(ctx, batch)
		batch = batch[:0]
		return err
	}
	refs := b.refs
	// Room for the records up front spares growing two large arrays as
	// they fill: the live records when the caller counted them, else the
	// staged rows, which bound them (versions awaiting compaction count
	// there too).
	rows := int(b.opts.LiveRecords)
	if rows <= 0 {
		for _, ref := range refs {
			rows += int(ref.Rows)
		}
	}
	rows = min(rows, math.MaxInt32)
	b.records = make([]staged, 0, rows)
	ix.Expect(rows)
	// Streams are read a chunk (a row group) ahead of identity: reading
	// is serial, identity's normalization runs on all cores, and
	// overlapping them keeps both cores busy. The reader also spills each
	// chunk, which is dropped once identity has its records.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	read := make(chan scanned, 1)
	go b.readSets(ctx, refs, fields, read)
	defer func() {
		cancel()
		for range read { // let the reader finish
		}
	}()
	// The batch's records and their field values are reused batch to
	// batch.
	fieldVals := make([][][]string, scanBatch)
	for sc := range read {
		if sc.err != nil {
			return sc.err
		}
		if sc.set != nil { // a stream begins
			b.sets = append(b.sets, *sc.set)
			continue
		}
		setIdx := int32(len(b.sets) - 1)
		set, rows, get := &b.sets[setIdx], sc.rows, sc.get
		if rows.Len() > math.MaxInt32-1 || len(b.records)+rows.Len() > math.MaxInt32-1 {
			return fmt.Errorf("more than %d records", math.MaxInt32)
		}
		for n := range rows.Len() {
			rec := identity.Record{
				Source: set.source, Stream: set.stream, Key: rows.String(n, get.key), Entity: set.entity,
				Seen: seen(rows, n, get.created),
			}
			if get.ref >= 0 {
				rec.Ref = rows.String(n, get.ref)
			}
			vals := fieldVals[len(batch)]
			if vals == nil {
				vals = make([][]string, len(fields))
				fieldVals[len(batch)] = vals
			}
			get.fill(rows, n, vals)
			rec.Values = vals
			b.records = append(b.records, staged{set: setIdx})
			if batch = append(batch, rec); len(batch) == scanBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	b.sum.Records = int64(len(b.records))
	rejectTable := model.MustLoad("reject")
	same := rejectIdentity(rejectTable)
	seen := map[string]bool{}
	iStream := col(rejectTable, "stream")
	for _, source := range b.store.Sources() {
		src, ok := b.opts.Config.Source(source)
		if !ok {
			continue // not built, see builtStreams
		}
		err := b.store.ScanRejects(ctx, source, func(row []any) error {
			// A stream no longer read is not built (see builtStreams),
			// and staging keeps its rejects while no sync reads it.
			if stream, _ := row[iStream].(string); stream != "" && len(src.Streams) > 0 && !slices.Contains(src.Streams, stream) {
				return nil
			}
			// A read resumed from a checkpoint rejects again what it
			// rejected after that checkpoint, which staging may have
			// committed already: one row per rejected record.
			k := same(row)
			if seen[k] {
				return nil
			}
			seen[k] = true
			b.rejects = append(b.rejects, slices.Clone(row))
			return nil
		})
		if err != nil {
			return fmt.Errorf("staged rejects of %s: %w", source, err)
		}
	}
	return nil
}

// previousResult is what the previous snapshot holds for the build:
// its identity links and its merge rows.
type previousResult struct {
	snap   previousSnapshot
	p      identity.Previous
	merges [][]any
	err    error
}

// scanned is a staged stream's beginning (set), a chunk of its rows, or
// the error reading it.
type scanned struct {
	set  *stagedSet
	rows *rowset.Set
	get  *fieldReader
	err  error
}

// readSets reads the staged streams, in order, a row group at a time
// (see stage.Store.ScanChunks), sends each chunk to out and spills it,
// and closes out.
func (b *builder) readSets(ctx context.Context, refs []stage.StreamRef, fields []string, out chan<- scanned) {
	defer close(out)
	send := func(sc scanned) bool {
		select {
		case out <- sc:
			return true
		case <-ctx.Done():
			return false
		}
	}
	records := 0
	for _, ref := range refs {
		err := func() error {
			t, err := model.Load(ref.Table)
			if err != nil {
				return err
			}
			get := newFieldReader(t, fields)
			set := &stagedSet{table: t, entity: entityOf(t.Name), customerID: col(t, "customer_id"),
				source: ref.Source, stream: ref.Stream, key: get.key}
			if set.customerID < 0 || set.key < 0 {
				return fmt.Errorf("table %s has no customer_id or record_key", t.Name)
			}
			if !send(scanned{set: set}) {
				return ctx.Err()
			}
			return b.store.ScanChunks(ctx, ref.Source, ref.Stream, t, func(rows *rowset.Set) error {
				if !send(scanned{rows: rows, get: get}) {
					return ctx.Err()
				}
				if err := b.spill.write(rows, records); err != nil {
					return err
				}
				records += rows.Len()
				return nil
			})
		}()
		if err != nil {
			send(scanned{err: fmt.Errorf("staged %s/%s: %w", ref.Source, ref.Stream, err)})
			return
		}
	}
}

func (b *builder) resolve(ctx context.Context) error {
	var prev previousResult
	select {
	case prev = <-b.previous:
	case <-ctx.Done():
		return ctx.Err()
	}
	if prev.err != nil {
		return prev.err
	}
	// The scan's chunks are garbage now: return their pages to the OS
	// before identity allocates its own (a collection alone leaves them
	// mapped, and the stage's RSS ran 100 MB above its heap).
	debug.FreeOSMemory()
	res, err := b.index.Resolve(ctx, prev.p)
	if p, ok := prev.p.(*streamed); ok {
		_ = p.Close()
		if err == nil && p.Err() != nil {
			err = fmt.Errorf("previous identity links: %w", p.Err())
		}
	}
	if err != nil {
		return err
	}
	b.result = res
	b.prevSnap, b.prevMerges = prev.snap, prev.merges
	b.index = nil // the index is the largest thing in memory; let it go
	// With the index gone the live heap shrinks, but the collector's goal
	// stays where the identity stage left it, and the profiles stage would
	// grow the heap up to that stale goal. One collection now sets the
	// goal from what is really live (at 4.2 M records it lowered the
	// profiles stage's heap by about 400 MB), and returns the freed pages.
	debug.FreeOSMemory()
	if len(res.Added) != len(b.records) {
		return fmt.Errorf("identity resolved %d records, %d were staged", len(res.Added), len(b.records))
	}
	for i := range b.records {
		b.records[i].assign = res.Added[i]
	}
	c := res.Counts
	b.sum.Customers, b.sum.Merges = int64(c.Customers), int64(c.Merges)
	b.sum.Blocked, b.sum.TooCommon, b.sum.Refused = c.Blocked, c.TooCommon, c.Refused
	logUnlinked(b.opts.Logger, res.Values)
	for _, r := range res.Refusals {
		b.opts.Logger.Warn("merge refused by a limit", "limit", r.Limit, "max", r.Max, "key", r.Key, "customers", r.Customers[0]+","+r.Customers[1])
	}
	return nil
}

// logUnlinked logs the values that linked nothing: one line per key and
// reason, as a large build has thousands (each blocklisted role mailbox
// of each company), and each value at debug level.
func logUnlinked(log *slog.Logger, values []identity.ValueReport) {
	type group struct{ key, reason string }
	type count struct{ values, records int }
	counts := map[group]count{}
	for _, v := range values {
		log.Debug("value linked nothing", "key", v.Key, "reason", v.Reason, "records", v.Records)
		g := group{v.Key, v.Reason}
		c := counts[g]
		counts[g] = count{c.values + 1, c.records + v.Records}
	}
	groups := slices.SortedFunc(maps.Keys(counts), func(a, b group) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.reason, b.reason))
	})
	for _, g := range groups {
		c := counts[g]
		log.Info("values linked nothing", "key", g.key, "reason", g.reason, "values", c.values, "records", c.records)
	}
}

// byCustomer orders the records by customer id, then by their identity
// order. It returns the customer ids in order, and for each customer c
// its records b.records[order[start[c]:start[c+1]]]. The ids are sorted
// once and the records placed by a counting sort by rank: linear, where
// a comparison sort of a million records cost half a second.
func (b *builder) byCustomer() (ids []string, order []int32, start []int) {
	res := b.result
	all := res.Customers()
	byID := make([]int32, len(all))
	for c := range byID {
		byID[c] = int32(c)
	}
	slices.SortFunc(byID, func(x, y int32) int { return strings.Compare(all[x], all[y]) })
	rankOf := make([]int32, len(all))
	ids = make([]string, len(all))
	for r, c := range byID {
		rankOf[c] = int32(r)
		ids[r] = all[c]
	}
	byAssign := make([]int32, len(b.records))
	for i, r := range b.records {
		byAssign[r.assign] = int32(i)
	}
	start = make([]int, len(ids)+1)
	for a := range res.Len() {
		start[rankOf[res.Customer(a)]+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	next := slices.Clone(start[:len(ids)])
	order = make([]int32, len(b.records))
	// Taking the records in identity order keeps each customer's records
	// in that order.
	for a, i := range byAssign {
		r := rankOf[res.Customer(a)]
		order[next[r]] = i
		next[r]++
	}
	return ids, order, start
}

// startBackground opens the tables that need only identity's result
// (identity_link, merge, reject) and writes them
// on another goroutine, so that on two cores they cost no wall time next
// to the profiles. publish waits for them.
func (b *builder) startBackground(ctx context.Context) error {
	rows := func(rows [][]any) func(context.Context, *parquet.Writer) error {
		return func(ctx context.Context, w *parquet.Writer) error {
			for i, r := range rows {
				if i%checkEvery == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				if err := w.Write(r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	tables := []struct {
		name  string
		write func(context.Context, *parquet.Writer) error
	}{
		{"identity_link", b.writeLinks()},
		{"merge", rows(b.mergeRows())},
		{"reject", rows(b.rejects)},
	}
	jobs := make([]*tableJob, len(tables))
	for i, t := range tables {
		var err error
		if jobs[i], err = b.openTable(t.name); err != nil {
			return err
		}
	}
	ctx, b.bgStop = context.WithCancel(ctx)
	b.bgDone = make(chan error, 1)
	go func() {
		for i, t := range tables {
			if err := ctx.Err(); err != nil {
				b.bgDone <- err
				return
			}
			err := b.fill(jobs[i], func(w *parquet.Writer) error { return t.write(ctx, w) })
			if err != nil {
				b.bgDone <- err
				return
			}
		}
		b.bgDone <- nil
	}()
	return nil
}

// publish closes the tables the profiles stage wrote, waits for the
// background tables and switches `current` to the snapshot only when all
// are complete.
func (b *builder) publish(ctx context.Context) error {
	for _, t := range b.open {
		if err := b.fill(t, func(*parquet.Writer) error { return nil }); err != nil {
			return err
		}
	}
	b.open = nil
	err := <-b.bgDone
	b.bgStop()
	b.bgStop = nil
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := b.snap.Commit(parquet.Manifest{RunID: b.opts.RunID}); err != nil {
		return err
	}
	if err := b.snap.PruneErr; err != nil {
		b.opts.Logger.Warn("snapshot published, but old snapshots could not all be removed", "error", err)
	}
	b.sum.Snapshot = b.snap.Dir()
	b.snap = nil
	b.sum.Links = b.sum.Tables["identity_link"]
	b.sum.Events = b.sum.Tables["event"]
	b.sum.Rejects = int64(len(b.rejects))
	return nil
}

// rejectIdentity returns what makes two reject rows the same rejected
// record: everything but when and in which run it was rejected.
func rejectIdentity(t *model.Table) func(row []any) string {
	var cols []int
	for i, c := range t.Columns {
		if c.Name != "run_id" && c.Name != "rejected_at" {
			cols = append(cols, i)
		}
	}
	return func(row []any) string {
		var b strings.Builder
		for _, i := range cols {
			fmt.Fprintf(&b, "%v\x00", row[i])
		}
		return b.String()
	}
}

// builtStreams are the staged streams of the sources desilo.yaml names
// (of their listed streams, when a source lists them). A source or stream
// removed from the config is left out of the build, though its staging
// stays (until removed by hand, or the source's next full refresh): its
// records would otherwise stay in every snapshot.
func builtStreams(store *stage.Store, cfg *config.Config, log *slog.Logger) []stage.StreamRef {
	var out []stage.StreamRef
	left := map[string]bool{}
	for _, ref := range store.Streams() {
		src, ok := cfg.Source(ref.Source)
		switch {
		case !ok:
			if !left[ref.Source] {
				left[ref.Source] = true
				log.Warn("a staged source is no longer in the config: its records are left out of the build; remove its staging folder to free the space",
					"source", ref.Source, "folder", filepath.Join(cfg.StateDir, "staging", ref.Source))
			}
		case len(src.Streams) > 0 && !slices.Contains(src.Streams, ref.Stream):
			log.Warn("a staged stream is no longer in its source's streams: its records are left out of the build; a full refresh of the source removes them",
				"source", ref.Source, "stream", ref.Stream)
		default:
			out = append(out, ref)
		}
	}
	return out
}

// Rules turns the identity section of desilo.yaml into identity rules.
func Rules(cfg *config.Config) identity.Rules {
	r := identity.Rules{DefaultRegion: cfg.Identity.DefaultRegion}
	for _, k := range cfg.Identity.Keys {
		key := identity.Key{
			Name:                k.Name,
			Field:               k.Field,
			Composite:           k.Composite,
			Normalize:           string(k.Normalize),
			MaxRecordsPerValue:  k.MaxRecordsPerValue,
			Blocklist:           k.Blocklist,
			UseDefaultBlocklist: k.UseDefaultBlocklist,
			EmailStripDots:      k.Email.StripDots,
			EmailStripPlus:      k.Email.StripPlus,
		}
		if key.Normalize == string(config.NormalizeNone) && len(k.Composite) == 0 {
			key.Normalize = "none"
		}
		r.Keys = append(r.Keys, key)
	}
	for _, l := range cfg.Identity.Limits {
		r.Limits = append(r.Limits, identity.Limit{ID: limitKey(&r, l.ID), MaxPerCustomer: l.MaxPerCustomer})
	}
	return r
}

// limitKey names the identity key a limit of the external id ids.<id>
// counts: the key that reads that field alone, else a key named id (as
// configs before limits named external ids did), else a key added to
// count it that links nothing.
func limitKey(r *identity.Rules, id string) string {
	field := "ids." + id
	for _, k := range r.Keys {
		if len(k.Composite) == 0 && k.Field == field {
			return k.Name
		}
	}
	for _, k := range r.Keys {
		if k.Name == id {
			return k.Name
		}
	}
	r.Keys = append(r.Keys, identity.Key{Name: field, Field: field, Normalize: "none", LimitOnly: true})
	return field
}
