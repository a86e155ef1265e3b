package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/profile"
	"github.com/desilo/desilo/core/sink/parquet"
	"github.com/desilo/desilo/core/stage"
)

// Build recomputes identity and profiles from everything staged and
// publishes a new Parquet snapshot. It never reads a source: changing the
// matching rules needs only a new build.
func Build(ctx context.Context, store *stage.Store, opts Options) (*BuildSummary, error) {
	opts.defaults()
	b := &builder{opts: &opts, store: store, sum: &BuildSummary{Tables: map[string]int64{}}}
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

// staged is one staged record: its table, its row, and where its
// assignment is in the identity result.
type staged struct {
	table  *model.Table
	row    []any
	assign int
}

type builder struct {
	opts  *Options
	store *stage.Store
	sum   *BuildSummary

	index   *identity.Index
	records []staged
	rejects [][]any
	result  *identity.Result

	customers [][]any
	events    [][]any
}

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
	fields := keyFields(rules)
	for _, ref := range b.store.Streams() {
		t, err := model.Load(ref.Table)
		if err != nil {
			return err
		}
		get := newFieldReader(t, fields)
		entity := entityOf(t.Name)
		rec := identity.Record{Entity: entity, Fields: map[string][]string{}}
		err = b.store.Scan(ctx, ref.Source, ref.Stream, func(row []any) error {
			row = slices.Clone(row)
			rec.Source, rec.Stream, rec.Key = ref.Source, ref.Stream, str(row, get.key)
			rec.Ref = str(row, get.ref)
			rec.Seen = seen(row, get.created, get.updated)
			get.fill(row, rec.Fields)
			if err := ix.Add(rec); err != nil {
				return err
			}
			b.records = append(b.records, staged{table: t, row: row})
			return nil
		})
		if err != nil {
			return fmt.Errorf("staged %s/%s: %w", ref.Source, ref.Stream, err)
		}
	}
	b.sum.Records = int64(len(b.records))
	for _, source := range b.store.Sources() {
		err := b.store.ScanRejects(ctx, source, func(row []any) error {
			b.rejects = append(b.rejects, slices.Clone(row))
			return nil
		})
		if err != nil {
			return fmt.Errorf("staged rejects of %s: %w", source, err)
		}
	}
	return nil
}

func (b *builder) resolve(ctx context.Context) error {
	previous, err := previousAssignments(b.opts.Config.Output.Parquet.Path)
	if err != nil {
		return err
	}
	res, err := b.index.Resolve(ctx, previous)
	if err != nil {
		return err
	}
	b.result = res
	b.index = nil // the index is the largest thing in memory; let it go
	for i := range b.records {
		r := &b.records[i]
		idx, ok := res.Find(identity.RecordRef{Source: str(r.row, col(r.table, "source")), Stream: str(r.row, col(r.table, "stream")), Key: str(r.row, col(r.table, "record_key"))})
		if !ok {
			return fmt.Errorf("record %s/%s/%s has no assignment", r.row[col(r.table, "source")], r.row[col(r.table, "stream")], r.row[col(r.table, "record_key")])
		}
		r.assign = idx
		r.row[col(r.table, "customer_id")] = res.Records[idx].CustomerID
	}
	c := res.Counts
	b.sum.Customers, b.sum.Merges = int64(c.Customers), int64(c.Merges)
	b.sum.Blocked, b.sum.TooCommon, b.sum.Refused = c.Blocked, c.TooCommon, c.Refused
	for _, v := range res.Values {
		b.opts.Logger.Info("value linked nothing", "key", v.Key, "reason", v.Reason, "records", v.Records)
	}
	for _, r := range res.Refusals {
		b.opts.Logger.Warn("merge refused by a limit", "limit", r.Limit, "max", r.Max, "key", r.Key, "customers", r.Customers[0]+","+r.Customers[1])
	}
	return nil
}

// profiles groups the records by customer and builds each profile and
// journey, in customer id order.
func (b *builder) profiles(ctx context.Context) error {
	cfg := b.opts.Config
	pb, err := profile.New(profile.Options{
		Survivorship:  cfg.Profile.Survivorship,
		AsOf:          b.opts.Now().UTC(),
		DefaultRegion: cfg.Identity.DefaultRegion,
	})
	if err != nil {
		return err
	}
	order := make([]int, len(b.records))
	for i := range order {
		order[i] = i
	}
	ids := func(i int) string { return b.result.Records[b.records[i].assign].CustomerID }
	slices.SortFunc(order, func(x, y int) int { return cmp.Compare(ids(x), ids(y)) })
	custTable := model.MustLoad("customer")
	var rec profile.Records
	flush := func() error {
		if rec.CustomerID == "" {
			return nil
		}
		row := make([]any, len(custTable.Columns))
		if err := pb.Profile(&rec, row); err != nil {
			return fmt.Errorf("customer %s: %w", rec.CustomerID, err)
		}
		b.customers = append(b.customers, row)
		return pb.Journey(&rec, func(ev []any) error {
			b.events = append(b.events, slices.Clone(ev))
			return nil
		})
	}
	for n, i := range order {
		if n%100000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		id := ids(i)
		if id != rec.CustomerID {
			if err := flush(); err != nil {
				return err
			}
			rec = profile.Records{CustomerID: id}
		}
		r := b.records[i]
		switch entityOf(r.table.Name) {
		case "customer":
			rec.Customers = append(rec.Customers, r.row)
		case "order":
			rec.Orders = append(rec.Orders, r.row)
		case "ticket":
			rec.Tickets = append(rec.Tickets, r.row)
		case "message":
			rec.Messages = append(rec.Messages, r.row)
		case "event":
			rec.Events = append(rec.Events, r.row)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return profile.AssignRFM(b.customers)
}

// publish writes every table into a new snapshot and switches `current`
// to it only when all are complete.
func (b *builder) publish(ctx context.Context) error {
	out := b.opts.Config.Output.Parquet
	snap, err := parquet.Begin(ctx, out.Path, b.opts.RunID)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = snap.Abort()
		}
	}()
	write := func(table string, rows func(emit func([]any) error) error) error {
		w, err := snap.Table(table)
		if err != nil {
			return err
		}
		if err := rows(w.Write); err != nil {
			_ = w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		b.sum.Tables[table] = w.Rows()
		return nil
	}
	all := func(rows [][]any) func(func([]any) error) error {
		return func(emit func([]any) error) error {
			for _, r := range rows {
				if err := emit(r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	byEntity := func(entity string) func(func([]any) error) error {
		return func(emit func([]any) error) error {
			// Records are in identity order (source, stream, key) already
			// sorted through the assignment index.
			idx := make([]int, 0)
			for i, r := range b.records {
				if entityOf(r.table.Name) == entity {
					idx = append(idx, i)
				}
			}
			slices.SortFunc(idx, func(x, y int) int { return cmp.Compare(b.records[x].assign, b.records[y].assign) })
			for _, i := range idx {
				if err := emit(b.records[i].row); err != nil {
					return err
				}
			}
			return nil
		}
	}
	links, err := b.linkRows()
	if err != nil {
		return err
	}
	merges := b.mergeRows()
	tables := []struct {
		name string
		rows func(func([]any) error) error
	}{
		{"customer", all(b.customers)},
		{"identity_link", all(links)},
		{"event", all(b.events)},
		{"order", byEntity("order")},
		{"ticket", byEntity("ticket")},
		{"message", byEntity("message")},
		{"merge", all(merges)},
		{"reject", all(b.rejects)},
	}
	for _, t := range tables {
		if err := write(t.name, t.rows); err != nil {
			return fmt.Errorf("table %s: %w", t.name, err)
		}
	}
	m, err := snap.Commit(parquet.Manifest{RunID: b.opts.RunID})
	if err != nil {
		return err
	}
	ok = true
	b.sum.Links = int64(len(links))
	b.sum.Events = int64(len(b.events))
	b.sum.Rejects = int64(len(b.rejects))
	b.sum.Snapshot = snap.Dir()
	_ = m
	return nil
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
		r.Limits = append(r.Limits, identity.Limit{ID: l.ID, MaxPerCustomer: l.MaxPerCustomer})
	}
	return r
}
