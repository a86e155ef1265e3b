package identity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/desilo/desilo/core/arena"
)

// Record is what identity needs of one staged record.
type Record struct {
	// Source, Stream and Key (the primary key within its stream)
	// identify the record.
	Source, Stream, Key string
	// Entity is the unified-model entity: customer, order, ticket,
	// message or event. Only customer records are targets of refs.
	Entity string
	// Seen is when the record was first seen (its created_at); the zero
	// time means unknown and sorts last. It must not move when the record
	// changes (updated_at would), or the anchor of an unchanged cluster,
	// and so its id, could.
	Seen time.Time
	// Ref is the primary key of a customer record of the same Source
	// (the unified model's customer_ref).
	Ref string
	// Fields holds the raw values of the fields the keys read, by field
	// name ("email", "ids.hubspot_contact_id", "last_name").
	Fields map[string][]string
	// Values, when not nil, holds them instead, by position in the
	// index's Fields: no map to fill and look up per record.
	Values [][]string
}

// values returns the record's raw values of the index's field at
// position at, named name.
func (r *Record) values(at int, name string) []string {
	if r.Values != nil {
		if at < len(r.Values) {
			return r.Values[at]
		}
		return nil
	}
	return r.Fields[name]
}

// RecordRef identifies a record across runs.
type RecordRef struct{ Source, Stream, Key string }

// Index collects records for one resolution. It keeps no reference to a
// Record's Fields after Add returns. It is not safe for concurrent use.
type Index struct {
	keys     []compiledKey
	fields   []string // what the keys read, see Fields
	sources  interner
	streams  interner
	recs     []rec
	customer []uint64     // bit per record: a customer record
	recKeys  *arena.Arena // the records' keys, which the result keeps
	entries  [][]entry    // per key
	arena    values
	scratch  []byte
	buf      []value
	resolved bool
}

// rec is one added record. It holds no pointer, so a million of them cost
// the garbage collector nothing to scan.
type rec struct {
	key    uint64 // in recKeys
	seen   int64  // Unix microseconds; unknownSeen when unknown
	source int32
	stream int32
}

const unknownSeen = math.MaxInt64

// entry says that record rec has the value at arena offset off, whose
// FNV-1a hash is hash.
type entry struct {
	hash uint64
	rec  int32
	off  uint32
}

// Arena value flags.
const (
	flagBlocked byte = 1 << iota
	flagTarget       // ref rule: the value is this customer record's own key
)

// NewIndex checks the rules and returns an empty index.
func NewIndex(rules Rules) (*Index, error) {
	keys, err := compile(rules)
	if err != nil {
		return nil, err
	}
	ix := &Index{keys: keys, fields: fieldsOf(keys), entries: make([][]entry, len(keys)), recKeys: &arena.Arena{}}
	ix.sources.ids = map[string]int32{}
	ix.streams.ids = map[string]int32{}
	return ix, nil
}

// Fields lists the fields the keys read, each once: the positions of a
// Record's Values.
func (ix *Index) Fields() []string { return ix.fields }

// Expect makes room for n more records: a caller that knows how many it
// will add saves the copies of growing the index a record at a time.
func (ix *Index) Expect(n int) {
	ix.recs = slices.Grow(ix.recs, n)
}

// Add extracts and normalizes the record's key values.
func (ix *Index) Add(r Record) error {
	if err := ix.check(&r); err != nil {
		return err
	}
	ix.buf = extract(ix.keys, &r, ix.buf[:0])
	return ix.store(&r, ix.buf)
}

// AddBatch adds records like Add, normalizing them on up to GOMAXPROCS
// goroutines (phone parsing dominates the cost). The result is the same
// as adding them one by one in order.
func (ix *Index) AddBatch(ctx context.Context, records []Record) error {
	workers := min(runtime.GOMAXPROCS(0), len(records)/256+1)
	for len(records) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := records[:min(len(records), batchSize)]
		records = records[len(chunk):]
		for i := range chunk {
			if err := ix.check(&chunk[i]); err != nil {
				return err
			}
		}
		// Worker w extracts every workers-th record into its own flat
		// slice; ends marks where each record's values end.
		vals := make([][]value, workers)
		ends := make([][]int, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(chunk); i += workers {
					vals[w] = extract(ix.keys, &chunk[i], vals[w])
					ends[w] = append(ends[w], len(vals[w]))
				}
			})
		}
		wg.Wait()
		for i := range chunk {
			w, j := i%workers, i/workers
			from := 0
			if j > 0 {
				from = ends[w][j-1]
			}
			if err := ix.store(&chunk[i], vals[w][from:ends[w][j]]); err != nil {
				return err
			}
		}
	}
	return nil
}

const batchSize = 1 << 14

func (ix *Index) check(r *Record) error {
	if ix.resolved {
		return errors.New("identity: Add after Resolve")
	}
	if r.Source == "" || r.Key == "" {
		return fmt.Errorf("identity: record %s/%s/%q: source and key must not be empty", r.Source, r.Stream, r.Key)
	}
	return nil
}

// value is one normalized value of key (an index into Index.keys).
type value struct {
	key  int32
	flag byte
	v    string
}

// store records r with its extracted values.
func (ix *Index) store(r *Record, vals []value) error {
	if len(ix.recs) >= math.MaxInt32 {
		return errors.New("identity: more than 2^31-1 records")
	}
	id := int32(len(ix.recs))
	seen := int64(unknownSeen)
	if !r.Seen.IsZero() {
		seen = r.Seen.UnixMicro()
	}
	key := ix.recKeys.Add(r.Key)
	ix.recs = append(ix.recs, rec{key: key, seen: seen, source: ix.sources.id(r.Source), stream: ix.streams.id(r.Stream)})

	// The ref rule's values are "source NUL key", so refs never cross
	// sources.
	if r.Entity == "customer" {
		for int(id)/64 >= len(ix.customer) {
			ix.customer = append(ix.customer, 0)
		}
		ix.customer[id/64] |= 1 << (id % 64)
		if err := ix.add(0, id, flagTarget, r.Source, r.Key); err != nil {
			return err
		}
	}
	if r.Ref != "" {
		if err := ix.add(0, id, 0, r.Source, r.Ref); err != nil {
			return err
		}
	}
	for _, v := range vals {
		if err := ix.add(int(v.key), id, v.flag, v.v); err != nil {
			return err
		}
	}
	return nil
}

// extract appends the record's normalized key values to out. It only
// reads keys, so goroutines may run it at once.
func extract(keys []compiledKey, r *Record, out []value) []value {
	for k := 1; k < len(keys); k++ {
		key := &keys[k]
		if len(key.fields) == 1 {
			for _, raw := range r.values(key.at[0], key.fields[0]) {
				if v, ok := key.norms[0](raw); ok {
					out = append(out, value{key: int32(k), flag: key.flag(v, []string{v}), v: v})
				}
			}
			continue
		}
		out = extractComposite(int32(k), key, r, out)
	}
	return out
}

// maxParts is how many parts a composite key has at most for the common
// case, one value a part, to need no allocation but the value's.
const maxParts = 4

// extractComposite yields a value only when every part has one; parts
// with several values give every combination, up to maxCombinations.
func extractComposite(k int32, key *compiledKey, r *Record, out []value) []value {
	// Most records have one value a part: no slices of candidates.
	if len(key.fields) <= maxParts {
		var one [maxParts]string
		single := true
		for i, f := range key.fields {
			raws := r.values(key.at[i], f)
			n := 0
			for _, raw := range raws {
				if v, ok := key.norms[i](raw); ok {
					if n == 0 {
						one[i] = v
					} else if v != one[i] {
						single = false
						break
					}
					n++
				}
			}
			if n == 0 {
				return out
			}
			if !single {
				break
			}
		}
		if single {
			parts := one[:len(key.fields)]
			whole := joinParts(parts)
			return append(out, value{key: k, flag: key.flag(whole, parts), v: whole})
		}
	}
	parts := make([][]string, len(key.fields))
	for i, f := range key.fields {
		for _, raw := range r.values(key.at[i], f) {
			if v, ok := key.norms[i](raw); ok && !contains(parts[i], v) {
				parts[i] = append(parts[i], v)
			}
		}
		if len(parts[i]) == 0 {
			return out
		}
	}
	combo := make([]string, len(parts))
	n := 0
	var walk func(i int)
	walk = func(i int) {
		if i == len(combo) {
			whole := joinParts(combo)
			out = append(out, value{key: k, flag: key.flag(whole, combo), v: whole})
			n++
			return
		}
		for _, v := range parts[i] {
			if n == maxCombinations {
				return
			}
			combo[i] = v
			walk(i + 1)
		}
	}
	walk(0)
	return out
}

// joinParts joins a composite value's parts with "|", a "|" or "\\" inside
// a part escaped with "\\", so that ("a|b", "c") and ("a", "b|c") differ.
func joinParts(parts []string) string {
	if !slices.ContainsFunc(parts, func(p string) bool { return strings.ContainsAny(p, `|\`) }) {
		return strings.Join(parts, "|")
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('|')
		}
		for j := 0; j < len(p); j++ {
			if p[j] == '|' || p[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p[j])
		}
	}
	return b.String()
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// add appends the value (the concatenation of parts, NUL-separated) to the
// arena and an entry for it to key k.
func (ix *Index) add(k int, id int32, flag byte, parts ...string) error {
	b := ix.scratch[:0]
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	ix.scratch = b
	off, err := ix.arena.add(flag, b)
	if err != nil {
		return err
	}
	ix.entries[k] = append(ix.entries[k], entry{hash: fnv1a(b), rec: id, off: off})
	return nil
}

func fnv1a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// interner numbers distinct strings.
type interner struct {
	ids   map[string]int32
	names []string
}

func (in *interner) id(s string) int32 {
	if i, ok := in.ids[s]; ok {
		return i
	}
	i := int32(len(in.names))
	in.ids[s] = i
	in.names = append(in.names, s)
	return i
}
