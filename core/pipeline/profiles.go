package pipeline

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/profile"
	"github.com/desilo/desilo/core/rowset"
	"github.com/desilo/desilo/core/sink/parquet"
)

// profileChunk is how many records one profile job takes at most, unless
// a single customer has more. A variable for tests.
var profileChunk = 1 << 13

// profiles groups the records by customer and builds each profile, in
// customer id order. Chunks of customers are built on all cores; their
// results are taken in order, so the output does not depend on the
// number of cores. Customers are built a group at a time, with only the
// group's rows in memory (see spill.go). A first, lighter pass computes
// every customer's RFM inputs from the orders and events alone, so that
// each customer row can be scored and written as soon as it is built: no
// customer row is kept. The journey (event rows) goes straight into the
// event table, and each group's order, ticket and message rows into
// theirs, in customer order.
func (b *builder) profiles(ctx context.Context) error {
	cfg := b.opts.Config
	opts := profile.Options{
		Survivorship:  cfg.Profile.Survivorship,
		AsOf:          b.opts.Now().UTC(),
		DefaultRegion: cfg.Identity.DefaultRegion,
	}
	if _, err := profile.New(opts); err != nil { // a config error, before any output exists
		return err
	}
	var err error
	if b.snap, err = parquet.Begin(ctx, cfg.Output.Parquet.Path, b.opts.RunID); err != nil {
		return err
	}
	b.snap.Options.RowGroupRows = cfg.Output.Parquet.RowGroupSize // 0: the writer's default
	if err := b.startBackground(ctx); err != nil {
		return err
	}
	tables := map[string]*parquet.Writer{}
	for _, name := range []string{"customer", "event", "order", "ticket", "message"} {
		t, err := b.openTable(name)
		if err != nil {
			return err
		}
		b.open = append(b.open, t)
		tables[name] = t.w
	}
	customers, events := tables["customer"], tables["event"]
	// The entity tables take their records' rows as staged.
	entities := map[string]*parquet.Writer{"order": tables["order"], "ticket": tables["ticket"], "message": tables["message"]}
	rfm, err := profile.NewRFM()
	if err != nil {
		return err
	}
	ids, order, start := b.byCustomer()
	groups, err := b.groups(ctx, chunks(ids, order, start), order)
	if err != nil {
		return err
	}
	// Identity's result is kept only by the identity_link writer, which
	// runs meanwhile: about 70 bytes a record, freed once it is done.
	b.result = nil

	// Pass 1: RFM inputs.
	n := 0
	err = b.eachGroup(ctx, groups, rfmEntities, func(g *group) error {
		return b.eachJob(ctx, g.jobs, opts, (*profiler).rfmInputs, func(j *profileJob) error {
			for _, in := range j.rfm {
				if err := rfm.AddInputs(n, in); err != nil {
					return err
				}
				n++
			}
			j.rfm = nil
			return nil
		})
	})
	if err != nil {
		return err
	}
	// Pass 2: profiles, journeys and the entity tables.
	n = 0
	err = b.eachGroup(ctx, groups, nil, func(g *group) error {
		gctx, cancel := context.WithCancel(ctx)
		defer cancel()
		written := make(chan error, 1)
		go func() { written <- b.writeEntities(gctx, g, entities) }()
		err := b.eachJob(gctx, g.jobs, opts, (*profiler).run, func(j *profileJob) error {
			for k := range j.customers.Len() {
				rfm.ScoreRow(n, j.customers, k)
				n++
				customers.SetRow(j.customers, k)
				if err := customers.EndRow(); err != nil {
					return err
				}
			}
			for k := range j.events.Len() {
				events.SetRow(j.events, k)
				if err := events.EndRow(); err != nil {
					return err
				}
			}
			j.customers, j.events = nil, nil
			return nil
		})
		if err != nil {
			cancel()
		}
		if werr := <-written; err == nil {
			err = werr
		}
		return err
	})
	if err != nil {
		return err
	}
	b.spill.remove()
	b.spill = nil
	return nil
}

// eachGroup calls build with each group in order, loaded with the rows
// of the entities in only (all when nil), and drops the rows after.
func (b *builder) eachGroup(ctx context.Context, gs []*group, only map[string]bool, build func(*group) error) error {
	ctx, cancel := context.WithCancel(ctx)
	loads := b.loadAhead(ctx, gs, only)
	defer func() {
		cancel()
		for range loads { // let the loader finish
		}
	}()
	built := 0
	for l := range loads {
		if l.err != nil {
			return l.err
		}
		err := build(l.g)
		l.g.release()
		if err != nil {
			return err
		}
		built++
	}
	if built < len(gs) {
		return ctx.Err()
	}
	return nil
}

// writeEntities writes the rows of the group's records whose entity has a
// table in tables, in customer order, with the customer id identity gave
// them.
func (b *builder) writeEntities(ctx context.Context, g *group, tables map[string]*parquet.Writer) error {
	n := 0
	for _, j := range g.jobs {
		k := 0
		for x := range j.order {
			for x >= j.ends[k] {
				k++
			}
			r := g.rows[j.first+x]
			if r.set < 0 {
				continue
			}
			s := &b.sets[r.set]
			w := tables[s.entity]
			if w == nil {
				continue
			}
			if n++; n%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			w.SetString(s.customerID, j.ids[k])
			w.SetRow(g.sets[r.set], int(r.row))
			if err := w.EndRow(); err != nil {
				return fmt.Errorf("table %s: %w", s.entity, err)
			}
		}
	}
	return nil
}

// eachJob runs work on every job on all cores and calls take with each
// job's result in job order. A job is handed out only with a token,
// returned when its result is taken: at most 2 results per worker wait in
// memory.
func (b *builder) eachJob(ctx context.Context, jobs []*profileJob, opts profile.Options,
	work func(*profiler, context.Context, *profileJob) error, take func(*profileJob) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	done := make([]chan error, len(jobs))
	for i := range done {
		done[i] = make(chan error, 1)
	}
	workers := runtime.GOMAXPROCS(0)
	tokens := make(chan struct{}, 2*workers)
	next := make(chan int)
	wg.Go(func() {
		defer close(next)
		for i := range jobs {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			p, err := b.newProfiler(opts)
			for i := range next {
				if err == nil {
					done[i] <- work(p, ctx, jobs[i])
				} else {
					done[i] <- err
				}
			}
		})
	}
	for i, j := range jobs {
		var err error
		select {
		case err = <-done[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-tokens
		if err != nil {
			return err
		}
		if err := take(j); err != nil {
			return err
		}
	}
	return nil
}

// profileJob is a run of whole customers' records, in customer order,
// and once done its results: RFM inputs (pass 1), customer and event rows
// (pass 2).
type profileJob struct {
	order     []int32  // indexes into builder.records
	ids       []string // the customers
	ends      []int    // customer k's records end at order[ends[k]]
	group     *group   // whose rows hold the job's records while loaded
	first     int      // where order starts in the group's order
	rfm       []profile.RFMInputs
	customers *rowset.Set
	events    *rowset.Set
}

// chunks cuts the customers into jobs of about profileChunk records.
func chunks(ids []string, order []int32, start []int) []*profileJob {
	var jobs []*profileJob
	for c := 0; c < len(ids); {
		j := &profileJob{}
		first := start[c]
		for c < len(ids) && (len(j.ids) == 0 || start[c+1]-first <= profileChunk) {
			j.ids = append(j.ids, ids[c])
			j.ends = append(j.ends, start[c+1]-first)
			c++
		}
		j.order = order[first:start[c]]
		jobs = append(jobs, j)
	}
	return jobs
}

// profiler builds the profiles of jobs on one goroutine.
type profiler struct {
	b  *builder
	pb *profile.Builder
}

func (b *builder) newProfiler(opts profile.Options) (*profiler, error) {
	pb, err := profile.New(opts)
	if err != nil {
		return nil, err
	}
	return &profiler{b: b, pb: pb}, nil
}

// eachCustomer calls fn with each customer's records of the entities in
// only (all when nil), in order; fn is called for every customer of the
// job, with or without such records. Profiles read the rows where the
// job's group holds them.
func (p *profiler) eachCustomer(ctx context.Context, j *profileJob, only map[string]bool, fn func(*profile.Records) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := p.b
	var rec profile.Records
	// Per staged set, the list of rec its records join (nil: skipped),
	// decided once per job rather than per record.
	into := make([]*[]profile.Row, len(b.sets))
	for s := range b.sets {
		if e := b.sets[s].entity; only == nil || only[e] {
			switch e {
			case "customer":
				into[s] = &rec.Customers
			case "order":
				into[s] = &rec.Orders
			case "ticket":
				into[s] = &rec.Tickets
			case "message":
				into[s] = &rec.Messages
			case "event":
				into[s] = &rec.Events
			}
		}
	}
	n := 0
	for k, id := range j.ids {
		rec = profile.Records{CustomerID: id, Customers: rec.Customers[:0], Orders: rec.Orders[:0],
			Tickets: rec.Tickets[:0], Messages: rec.Messages[:0], Events: rec.Events[:0]}
		for ; n < j.ends[k]; n++ {
			r := j.group.rows[j.first+n]
			if r.set < 0 {
				continue
			}
			if l := into[r.set]; l != nil {
				*l = append(*l, profile.Row{Set: j.group.sets[r.set], I: int(r.row)})
			}
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
	return nil
}

// rfmEntities are the tables RFM inputs come from.
var rfmEntities = map[string]bool{"order": true, "event": true}

// rfmInputs computes the RFM inputs of the job's customers (pass 1).
func (p *profiler) rfmInputs(ctx context.Context, j *profileJob) error {
	return p.eachCustomer(ctx, j, rfmEntities, func(rec *profile.Records) error {
		in, err := p.pb.RFMInputs(rec)
		if err != nil {
			return fmt.Errorf("customer %s: %w", rec.CustomerID, err)
		}
		j.rfm = append(j.rfm, in)
		return nil
	})
}

// run builds the profiles and journeys of the job's customers (pass 2)
// into typed rows, which the writers copy as they are.
func (p *profiler) run(ctx context.Context, j *profileJob) error {
	j.customers, j.events = rowset.New(customerTable), rowset.New(eventTable)
	j.customers.Reserve(len(j.ids))
	j.events.Reserve(len(j.order))
	return p.eachCustomer(ctx, j, nil, func(rec *profile.Records) error {
		if err := p.pb.Profile(rec, j.customers); err != nil {
			return fmt.Errorf("customer %s: %w", rec.CustomerID, err)
		}
		return p.pb.Journey(rec, j.events)
	})
}

// The tables profiles write.
var customerTable, eventTable = model.MustLoad("customer"), model.MustLoad("event")
