package identity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Resolve links records by rules. previous maps each record of the
// previous run to its customer id (nil for a first run); it only decides
// the merge rows, never the ids.
func Resolve(ctx context.Context, records []Record, rules Rules, previous Previous) (*Result, error) {
	ix, err := NewIndex(rules)
	if err != nil {
		return nil, err
	}
	if err := ix.AddBatch(ctx, records); err != nil {
		return nil, err
	}
	return ix.Resolve(ctx, previous)
}

const checkEvery = 1 << 14

// Resolve links the added records; see the package documentation for the
// rules. It consumes the index: a second call fails.
func (ix *Index) Resolve(ctx context.Context, previous Previous) (*Result, error) {
	if ix.resolved {
		return nil, errors.New("identity: index already resolved")
	}
	ix.resolved = true
	s := &resolver{ix: ix, arena: &ix.arena, ctx: ctx}
	defer func() { ix.recs, ix.entries, ix.arena = nil, nil, values{} }()
	steps := []func() error{s.order, s.group, s.union, s.assign, s.explain}
	if previous != nil && previous.Len() > 0 {
		steps = append(steps, func() error { return s.merge(previous) })
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := step(); err != nil {
			return nil, err
		}
	}
	return s.res, nil
}

// resolver holds the state of one resolution. Records are numbered in
// canonical order, (Source, Stream, Key), from order on.
type resolver struct {
	ix    *Index
	ctx   context.Context
	arena *values
	res   *Result

	seen     []int64
	customer []uint64   // bit per record (canonical order): a customer record
	groups   [][]uint32 // per key: start of each usable group in ix.entries[k], then the end
	limits   []limitState
	uf       []int32 // union-find: parent, or -size at a root
	edges    []edge  // successful unions, a spanning forest of the clusters
	anchors  []int32 // per root: its anchor
	anchorOf []int32 // per customer: its anchor
}

type limitState struct {
	key, max int
	vals     map[int32][]uint32 // per root: sorted group numbers of the key's values
}

type edge struct {
	a, b int32
	key  int32
	off  uint32
}

func (s *resolver) tick(i int) error {
	if i%checkEvery == 0 {
		return s.ctx.Err()
	}
	return nil
}

// order numbers the records canonically and rejects duplicates.
func (s *resolver) order() error {
	ix := s.ix
	n := len(ix.recs)
	srcRank, stRank := ranks(ix.sources.names), ranks(ix.streams.names)
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	// By source and stream first, comparing integers; then each stream's
	// records by key, with that stream's keys fetched once: a key is a
	// lookup away, and a sort compares each about 2·log2(n) times.
	// Fetching one stream's keys at a time bounds the extra memory by the
	// largest stream.
	slices.SortFunc(order, func(a, b int32) int {
		ra, rb := &ix.recs[a], &ix.recs[b]
		return cmp.Or(cmp.Compare(srcRank[ra.source], srcRank[rb.source]), cmp.Compare(stRank[ra.stream], stRank[rb.stream]), cmp.Compare(a, b))
	})
	type keyed struct {
		key string
		rec int32
	}
	var run []keyed
	for lo := 0; lo < n; {
		r := &ix.recs[order[lo]]
		hi := lo + 1
		for hi < n && ix.recs[order[hi]].source == r.source && ix.recs[order[hi]].stream == r.stream {
			hi++
		}
		run = run[:0]
		for _, a := range order[lo:hi] {
			run = append(run, keyed{ix.recKeys.Get(ix.recs[a].key), a})
		}
		slices.SortFunc(run, func(x, y keyed) int { return strings.Compare(x.key, y.key) })
		for k, e := range run {
			order[lo+k] = e.rec
		}
		lo = hi
	}
	run = nil
	if len(ix.sources.names) > math.MaxUint16 || len(ix.streams.names) > math.MaxUint16 {
		return fmt.Errorf("identity: more than %d sources or streams", math.MaxUint16)
	}
	s.res = &Result{recs: make([]assignment, n), recKeys: ix.recKeys, sources: slices.Clone(ix.sources.names), streams: slices.Clone(ix.streams.names),
		Counts: Counts{Records: n, Links: map[string]int{}}}
	for _, k := range ix.keys {
		s.res.keyNames = append(s.res.keyNames, k.name)
	}
	s.seen = make([]int64, n)
	s.customer = make([]uint64, (n+63)/64)
	pos := make([]int32, n)
	for c, a := range order {
		r := &ix.recs[a]
		pos[a] = int32(c)
		if int(a)/64 < len(ix.customer) && ix.customer[a/64]&(1<<(a%64)) != 0 {
			s.customer[c/64] |= 1 << (c % 64)
		}
		s.seen[c] = r.seen
		s.res.recs[c] = assignment{key: r.key, source: uint16(r.source), stream: uint16(r.stream)}
		if c > 0 && s.res.Ref(c-1) == s.res.Ref(c) {
			ref := s.res.Ref(c)
			return fmt.Errorf("identity: record %s/%s/%q added twice", ref.Source, ref.Stream, ref.Key)
		}
	}
	for k := range ix.entries {
		for i := range ix.entries[k] {
			e := &ix.entries[k][i]
			e.rec = pos[e.rec]
		}
	}
	s.res.Added = pos
	ix.recs, ix.customer = nil, nil // all in s.res, s.seen and s.customer now: free them for the steps ahead
	return nil
}

func ranks(names []string) []int32 {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	r := make([]int32, len(names))
	for rank, i := range idx {
		r[i] = int32(rank)
	}
	return r
}

// group sorts each key's entries by (hash, value, record), drops the
// values that link nothing (reporting them) and notes where each usable
// value's group starts.
func (s *resolver) group() error {
	ix := s.ix
	s.groups = make([][]uint32, len(ix.keys))
	s.sortEntries()
	for k := range ix.keys {
		key := &ix.keys[k]
		es := ix.entries[k]
		out := es[:0]
		var starts []uint32
		for i := 0; i < len(es); {
			if err := s.tick(i); err != nil {
				return err
			}
			v, flag := s.arena.value(es[i].off)
			j := i + 1
			for j < len(es) && es[j].hash == es[i].hash {
				if w, _ := s.arena.value(es[j].off); w != v {
					break
				}
				j++
			}
			start := len(out)
			if k == 0 {
				out = s.refGroup(out, es[i:j])
			} else {
				// Drop a record's repeats of one value.
				for _, e := range es[i:j] {
					if len(out) == start || out[len(out)-1].rec != e.rec {
						out = append(out, e)
					}
				}
				m := len(out) - start
				switch {
				case flag&flagBlocked != 0:
					s.report(key.name, v, ReasonBlocklisted, m)
					out = out[:start]
				case key.maxPer > 0 && m > key.maxPer && s.holders(out[start:]) > key.maxPer:
					s.report(key.name, v, ReasonTooCommon, s.holders(out[start:]))
					out = out[:start]
				case m < 2 && key.limit == 0:
					out = out[:start] // links nothing and counts toward no limit
				}
			}
			if len(out) > start {
				starts = append(starts, uint32(start))
			}
			i = j
		}
		ix.entries[k] = out
		s.groups[k] = append(starts, uint32(len(out)))
	}
	return nil
}

// sortEntries sorts each key's entries by (hash, value, record), a ref
// target before a referrer. The sorts are most of identity's time, and
// one key holds most entries, so each key is first partitioned in place
// by its hashes' top bits, which keeps the order between buckets, and the
// buckets of every key are then sorted on all cores.
func (s *resolver) sortEntries() {
	type bucket struct{ key, lo, hi int }
	var buckets []bucket
	for k, es := range s.ix.entries {
		var bounds [hashBuckets + 1]int
		partitionByHash(es, &bounds)
		for b := range hashBuckets {
			if bounds[b+1]-bounds[b] > 1 {
				buckets = append(buckets, bucket{k, bounds[b], bounds[b+1]})
			}
		}
	}
	next := make(chan bucket, len(buckets))
	for _, b := range buckets {
		next <- b
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(buckets)) {
		wg.Go(func() {
			for b := range next {
				slices.SortFunc(s.ix.entries[b.key][b.lo:b.hi], func(a, b entry) int {
					if c := cmp.Compare(a.hash, b.hash); c != 0 {
						return c
					}
					va, fa := s.arena.value(a.off)
					vb, fb := s.arena.value(b.off)
					if c := strings.Compare(va, vb); c != 0 {
						return c
					}
					if c := cmp.Compare(a.rec, b.rec); c != 0 {
						return c
					}
					return cmp.Compare(fb, fa) // a ref target before a referrer
				})
			}
		})
	}
	wg.Wait()
}

// hashBuckets is how many parts sortEntries cuts a key's entries into:
// enough for an even share per core, few enough to count on the stack.
const (
	hashBits    = 8
	hashBuckets = 1 << hashBits
)

// partitionByHash reorders es in place so that bucket b, entries whose
// hash has top bits b, is es[bounds[b]:bounds[b+1]] (an American flag
// sort's one pass: no second array, which at this stage would be the
// largest allocation of the build).
func partitionByHash(es []entry, bounds *[hashBuckets + 1]int) {
	top := func(e entry) int { return int(e.hash >> (64 - hashBits)) }
	var count [hashBuckets]int
	for _, e := range es {
		count[top(e)]++
	}
	var next [hashBuckets]int
	for b := range hashBuckets {
		bounds[b+1] = bounds[b] + count[b]
		next[b] = bounds[b]
	}
	for b := range hashBuckets {
		for next[b] < bounds[b+1] {
			e := es[next[b]]
			t := top(e)
			if t == b {
				next[b]++
				continue
			}
			// Swap e into its bucket's next free place, and place what
			// was there next round.
			es[next[b]], es[next[t]] = es[next[t]], e
			next[t]++
		}
	}
}

// refGroup keeps a ref value's entries when exactly one customer record
// holds it as its own key. A value only referrers hold is a dangling ref;
// one that several customer records hold (same key in different streams)
// is ambiguous, links nothing and is reported.
func (s *resolver) refGroup(out, g []entry) []entry {
	targets := 0
	for _, e := range g {
		if _, flag := s.arena.value(e.off); flag&flagTarget != 0 {
			targets++
		}
	}
	switch {
	case targets == 0:
		s.res.Counts.DanglingRefs += len(g)
	case targets > 1:
		if len(g) > targets {
			v, _ := s.arena.value(g[0].off)
			s.report(RefKey, strings.Replace(v, "\x00", "/", 1), ReasonAmbiguous, len(g)-targets)
		}
	case len(g) > 1:
		out = append(out, g...)
	}
	return out
}

// holders is how many records the too-common limit counts for a value:
// its customer records, or all its records when none is a customer. The
// orders, tickets and messages of one active customer share its email,
// and must not make it too common.
func (s *resolver) holders(es []entry) int {
	n := 0
	for _, e := range es {
		if s.customer[e.rec/64]&(1<<(e.rec%64)) != 0 {
			n++
		}
	}
	if n == 0 {
		return len(es)
	}
	return n
}

func (s *resolver) report(key, value, reason string, records int) {
	// A copy: a substring would keep the whole arena alive with the result.
	s.res.Values = append(s.res.Values, ValueReport{Key: key, Value: strings.Clone(value), Reason: reason, Records: records})
	switch reason {
	case ReasonBlocklisted:
		s.res.Counts.Blocked++
	case ReasonTooCommon:
		s.res.Counts.TooCommon++
	case ReasonAmbiguous:
		s.res.Counts.AmbiguousRefs += records
	}
}

// union applies the edges in canonical order.
func (s *resolver) union() error {
	ix := s.ix
	n := len(s.res.recs)
	s.uf = make([]int32, n)
	for i := range s.uf {
		s.uf[i] = -1
	}
	for k := range ix.keys {
		if ix.keys[k].limit == 0 {
			continue
		}
		l := limitState{key: k, max: ix.keys[k].limit, vals: map[int32][]uint32{}}
		starts := s.groups[k]
		for g := 0; g+1 < len(starts); g++ {
			for _, e := range ix.entries[k][starts[g]:starts[g+1]] {
				l.vals[e.rec] = append(l.vals[e.rec], uint32(g))
			}
		}
		s.limits = append(s.limits, l)
	}
	var reps []int32
	for k := range ix.keys {
		if ix.keys[k].limitOnly {
			continue // its values count for its limit, and link nothing
		}
		starts := s.groups[k]
		for g := 0; g+1 < len(starts); g++ {
			if err := s.tick(g); err != nil {
				return err
			}
			grp := ix.entries[k][starts[g]:starts[g+1]]
			// The first record (for refs: the customer record) is the
			// hub every other record of the value joins.
			hub := grp[0]
			if k == 0 {
				for _, e := range grp {
					if _, flag := s.arena.value(e.off); flag&flagTarget != 0 {
						hub = e
						break
					}
				}
			}
			// A record a limit keeps from the hub's cluster may still join
			// another holder of the value: it tries the clusters formed so
			// far, in canonical order, and is reported only if it joins
			// none.
			reps = append(reps[:0], hub.rec)
			for _, e := range grp {
				if e.rec == hub.rec {
					continue
				}
				var refused *Refusal
				joined := false
				for _, r := range reps {
					ok, ref := s.tryUnion(r, e.rec, int32(k), e.off)
					if ok {
						joined = true
						break
					}
					if refused == nil {
						refused = ref
					}
				}
				if !joined {
					s.res.Refusals = append(s.res.Refusals, *refused)
					s.res.Counts.Refused++
					reps = append(reps, e.rec)
				}
			}
		}
	}
	// The steps ahead read the edges, not the values' entries: free them
	// (16 bytes a value) before the result grows.
	ix.entries, s.groups, s.limits = nil, nil, nil
	return nil
}

func (s *resolver) find(x int32) int32 {
	for {
		p := s.uf[x]
		if p < 0 {
			return x
		}
		gp := s.uf[p]
		if gp < 0 {
			return p
		}
		s.uf[x] = gp // path halving
		x = gp
	}
}

// tryUnion joins the clusters of a and b through key's value at off,
// unless that breaks a limit: a union holding more values of a limited
// key than allowed, and more than either side held already (a single
// record holding more values than allowed is kept as it is, and may
// still join records that add none). It reports whether a and b are one
// cluster now, and else the refusal.
func (s *resolver) tryUnion(a, b, key int32, off uint32) (bool, *Refusal) {
	ra, rb := s.find(a), s.find(b)
	if ra == rb {
		return true, nil
	}
	for _, l := range s.limits {
		va, vb := l.vals[ra], l.vals[rb]
		if len(va)+len(vb) <= l.max {
			continue
		}
		if u := countUnion(va, vb); u > l.max && u > max(len(va), len(vb)) {
			return false, &Refusal{
				Limit: s.ix.keys[l.key].name, Max: l.max,
				Key: s.ix.keys[key].name, Value: strings.Clone(s.display(key, off)),
				Records: [2]int{int(a), int(b)},
			}
		}
	}
	if s.uf[ra] > s.uf[rb] { // rb is the larger cluster
		ra, rb = rb, ra
	}
	s.uf[ra] += s.uf[rb]
	s.uf[rb] = ra
	for _, l := range s.limits {
		if vb, ok := l.vals[rb]; ok {
			l.vals[ra] = mergeSorted(l.vals[ra], vb)
			delete(l.vals, rb)
		}
	}
	s.edges = append(s.edges, edge{a: a, b: b, key: key, off: off})
	return true, nil
}

func countUnion(a, b []uint32) int {
	n, i, j := 0, 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			i++
		case i == len(a) || b[j] < a[i]:
			j++
		default:
			i++
			j++
		}
		n++
	}
	return n
}

func mergeSorted(a, b []uint32) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// display is the value of an edge as links and reports show it.
func (s *resolver) display(key int32, off uint32) string {
	start, end := s.displaySpan(key, off)
	return s.arena.slice(start, end)
}

// displaySpan is where display's value is in the arena.
func (s *resolver) displaySpan(key int32, off uint32) (start, end uint32) {
	b, e, _ := s.arena.span(off)
	if key == 0 {
		b += uint32(strings.IndexByte(s.arena.slice(b, e), 0)) + 1 // drop the source
	}
	return b, e
}

// assign picks each cluster's anchor and gives every record its
// customer's id.
func (s *resolver) assign() error {
	recs := s.res.recs
	s.anchors = make([]int32, len(recs))
	for i := range s.anchors {
		s.anchors[i] = -1
	}
	for i := range recs {
		r := s.find(int32(i))
		if a := s.anchors[r]; a < 0 || s.seen[i] < s.seen[a] {
			s.anchors[r] = int32(i)
		}
	}
	for i := range recs {
		recs[i].cust = -1
	}
	var anchorOf []int32 // per customer
	for i := range recs {
		r := s.find(int32(i))
		if recs[r].cust < 0 {
			recs[r].cust = int32(len(anchorOf))
			anchorOf = append(anchorOf, s.anchors[r])
		}
		recs[i].cust = recs[r].cust
	}
	s.anchorOf = anchorOf
	// An id is a hash: computed on all cores.
	s.res.ids = make([]string, len(anchorOf))
	s.res.Counts.Customers = len(anchorOf)
	parts := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			for c := p * len(anchorOf) / parts; c < (p+1)*len(anchorOf)/parts; c++ {
				s.res.ids[c] = CustomerID(s.res.Ref(int(anchorOf[c])))
			}
		})
	}
	wg.Wait()
	for i := range s.res.Refusals {
		f := &s.res.Refusals[i]
		f.Customers = [2]string{s.res.CustomerOf(f.Records[0]), s.res.CustomerOf(f.Records[1])}
	}
	return nil
}

// explain roots each cluster's spanning tree at its anchor: a record's
// link is the edge to its parent.
func (s *resolver) explain() error {
	recs := s.res.recs
	n := len(recs)
	first := make([]int32, n+1) // adjacency lists in CSR form
	for _, e := range s.edges {
		first[e.a+1]++
		first[e.b+1]++
	}
	for i := 1; i <= n; i++ {
		first[i] += first[i-1]
	}
	adj := make([]int32, 2*len(s.edges))
	fill := slices.Clone(first[:n])
	for i, e := range s.edges {
		adj[fill[e.a]] = int32(i)
		fill[e.a]++
		adj[fill[e.b]] = int32(i)
		fill[e.b]++
	}
	const unlinked = -2
	for i := range recs {
		recs[i].via = unlinked
	}
	// Each cluster's tree is walked from its anchor, clusters on all
	// cores: a walk reads and writes only its own cluster's records, and
	// its order, so every record's link, does not depend on the others.
	parts := runtime.GOMAXPROCS(0)
	links := make([][]int, parts) // per part, per key: counted here, not in the map, a lookup per record
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			links[p] = make([]int, len(s.ix.keys))
			queue := make([]int32, 0, 64)
			for c := p * len(s.anchorOf) / parts; c < (p+1)*len(s.anchorOf)/parts; c++ {
				if err := s.tick(c); err != nil {
					errs[p] = err
					return
				}
				a := s.anchorOf[c]
				recs[a].via, recs[a].linkKey = -1, linkAnchor
				queue = append(queue[:0], a)
				for len(queue) > 0 {
					u := queue[0]
					queue = queue[1:]
					for _, ei := range adj[first[u]:first[u+1]] {
						e := s.edges[ei]
						v := e.a
						if v == u {
							v = e.b
						}
						if recs[v].via != unlinked {
							continue
						}
						start, end := s.displaySpan(e.key, e.off)
						recs[v].via, recs[v].linkKey, recs[v].valStart, recs[v].valEnd = u, int16(e.key), start, end
						links[p][e.key]++
						queue = append(queue, v)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if len(s.anchorOf) > 0 {
		s.res.Counts.Links[AnchorKey] += len(s.anchorOf)
	}
	for k := range s.ix.keys {
		n := 0
		for p := range parts {
			n += links[p][k]
		}
		if n > 0 {
			s.res.Counts.Links[s.ix.keys[k].name] += n
		}
	}
	// The links point into the index's values, which the result keeps:
	// a copy of just the link values would cost more at this, identity's
	// peak, than the values not linked save while the result lives (the
	// build drops it early).
	vals := s.ix.arena
	s.res.values = &vals
	return nil
}

// merge writes one merge row for each previous id that no cluster keeps:
// it points to the cluster holding the id's earliest record. Only an id
// no cluster keeps can be merged or retired, and the previous ids alone
// tell which those are. Most runs have none, and then no record's
// previous id needs a look: at 1 M records those looks took most of a
// second sync's identity stage.
func (s *resolver) merge(previous Previous) error {
	res := s.res
	current := make(map[string]bool, len(res.ids))
	for _, id := range res.ids {
		current[id] = true
	}
	gone := map[string]bool{}
	previous.Each(func(p string) {
		if p != "" && !current[p] && !gone[p] {
			gone[strings.Clone(p)] = true
		}
	})
	if len(gone) == 0 {
		return nil
	}
	// Per gone id: its earliest record, and whether its anchor record is
	// still here.
	type absorbed struct {
		rec      int
		anchored bool
	}
	earliest := map[string]*absorbed{} // updated in place: storing again would keep Lookup's string as the key
	// Per customer: some record of it had its id before. A survivor that
	// had took the absorbed customer in; one that had not derives from a
	// record new to the customer.
	wasID := make([]bool, len(res.ids))
	for i := range res.recs {
		if err := s.tick(i); err != nil {
			return err
		}
		p := previous.Lookup(res.Ref(i))
		if p == "" {
			continue
		}
		// Most records keep their customer: then the id is current
		// without a look into the map.
		if p == res.CustomerOf(i) {
			wasID[res.Customer(i)] = true
			continue
		}
		if !gone[p] {
			continue
		}
		a := earliest[p]
		if a == nil {
			a = &absorbed{rec: i}
			earliest[strings.Clone(p)] = a // Lookup's string may share a larger buffer
		} else if s.seen[i] < s.seen[a.rec] {
			a.rec = i
		}
		a.anchored = a.anchored || CustomerID(res.Ref(i)) == p
	}
	for p, a := range earliest {
		m := Merge{Absorbed: p, Survivor: res.CustomerOf(a.rec)}
		switch {
		case !a.anchored:
			m.Cause = MergeAnchorGone
		case !wasID[res.Customer(a.rec)]:
			m.Cause = MergeEarlierRecord
		}
		s.res.Merges = append(s.res.Merges, m)
	}
	slices.SortFunc(s.res.Merges, func(a, b Merge) int { return strings.Compare(a.Absorbed, b.Absorbed) })
	s.res.Counts.Merges = len(s.res.Merges)
	s.res.Counts.RetiredIDs = len(gone) - len(earliest)
	return nil
}
