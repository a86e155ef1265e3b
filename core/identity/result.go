package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/desilo/desilo/core/arena"
)

// Result is the outcome of a resolution. Link values share the memory of
// the index's normalized values, which stay in memory while any of them
// does.
//
// Records are numbered in canonical order, (Source, Stream, Key): Record(i)
// is the i-th. A result keeps about 32 bytes a record (plus its key, in a
// pointer-free arena the garbage collector does not scan), not
// the strings of an Assignment: sources, streams, customer ids and link
// keys are numbers into small tables.
type Result struct {
	recs     []assignment
	recKeys  *arena.Arena // the records' keys
	sources  []string     // by assignment.source
	streams  []string     // by assignment.stream
	ids      []string     // customer ids, by assignment.cust
	keyNames []string     // link keys, by assignment.linkKey
	values   *values      // the normalized values links point into
	// Added maps the order records were added in (Add, AddBatch) to
	// their number: Record(Added[i]) is the i-th record added. It saves
	// callers that kept records in that order a search.
	Added []int32
	// Merges lists each previous customer id that was absorbed, sorted
	// by the absorbed id.
	Merges []Merge
	// Values lists values that linked nothing, in the order unions are
	// tried (key order, then value hash).
	Values []ValueReport
	// Refusals lists unions refused by a cardinality limit, in the order
	// they were tried.
	Refusals []Refusal
	Counts   Counts
}

// assignment is one record's customer and link, in numbers.
type assignment struct {
	key              uint64 // in recKeys
	valStart, valEnd uint32 // the link's value: values.slice(valStart, valEnd)
	via              int32  // the link's Via
	cust             int32  // index into ids
	source, stream   uint16
	linkKey          int16 // index into keyNames; linkAnchor: the anchor
}

const linkAnchor = -1

// Assignment is one record's customer and the link that joined it.
type Assignment struct {
	RecordRef
	CustomerID string
	Link       Link
}

// Len is the number of records.
func (r *Result) Len() int { return len(r.recs) }

// Ref identifies record i.
func (r *Result) Ref(i int) RecordRef {
	a := &r.recs[i]
	return RecordRef{Source: r.sources[a.source], Stream: r.streams[a.stream], Key: r.recKeys.Get(a.key)}
}

// CustomerOf is record i's customer id.
func (r *Result) CustomerOf(i int) string { return r.ids[r.recs[i].cust] }

// Customers lists the customer ids, each once, in no particular order;
// Customer(i) is record i's index in it. The list is the result's own.
func (r *Result) Customers() []string { return r.ids }

// Customer is record i's customer, as an index into Customers().
func (r *Result) Customer(i int) int { return int(r.recs[i].cust) }

// Record is record i's assignment.
func (r *Result) Record(i int) Assignment {
	return Assignment{RecordRef: r.Ref(i), CustomerID: r.CustomerOf(i), Link: r.link(i)}
}

func (r *Result) link(i int) Link {
	a := &r.recs[i]
	if a.linkKey == linkAnchor {
		return Link{Record: i, Key: AnchorKey, Via: -1}
	}
	return Link{Record: i, Key: r.keyNames[a.linkKey], Value: r.values.slice(a.valStart, a.valEnd), Via: int(a.via)}
}

// Link is an edge of the explanation forest: Record joined its customer
// through Via, which shares Value of Key with it. The anchor has Key
// AnchorKey and Via -1; a customer_ref link has Key RefKey and the
// referenced primary key as Value.
type Link struct {
	Record int
	Key    string
	Value  string
	Via    int
}

// Merge says that the previous customer id Absorbed is now part of
// Survivor, and why.
type Merge struct {
	Absorbed, Survivor string
	Cause              MergeCause
}

// MergeCause is why a previous customer id gave way to another.
type MergeCause uint8

const (
	// MergeJoined: the customer's records now share a key with another
	// customer's, whose older id survives.
	MergeJoined MergeCause = iota
	// MergeEarlierRecord: a record seen before the customer's anchor
	// joined it (a new one, or one whose earlier customer had no id of
	// its own left), and the id now derives from that record.
	MergeEarlierRecord
	// MergeAnchorGone: the record the id derived from is gone (deleted,
	// or split off by a rule); the rest carry their new anchor's id.
	MergeAnchorGone
)

// Reasons a value linked nothing.
const (
	ReasonBlocklisted = "blocklisted"
	ReasonTooCommon   = "too_common"
	// ReasonAmbiguous: a customer_ref (Key RefKey, Value "source/ref")
	// names customer records in more than one stream of its source.
	ReasonAmbiguous = "ambiguous"
)

// ValueReport is a value that linked nothing, and how many records hold
// it (for an ambiguous ref: how many records refer to it).
type ValueReport struct {
	Key, Value, Reason string
	Records            int
}

// Refusal is a union a cardinality limit refused: the records of the edge
// (Key, Value) stayed in different customers.
type Refusal struct {
	Limit      string // the limited key
	Max        int
	Key, Value string
	Records    [2]int
	Customers  [2]string
}

// Counts summarize a resolution.
type Counts struct {
	Records   int
	Customers int
	// Links counts records by the key that joined them: key names,
	// RefKey, and AnchorKey (one per customer).
	Links     map[string]int
	Merges    int
	Blocked   int // distinct values that linked nothing because blocklisted
	TooCommon int // distinct values shared by more records than allowed
	Refused   int // unions refused by a limit
	// DanglingRefs counts records whose customer_ref names no customer
	// record of their source, AmbiguousRefs those whose ref names several.
	DanglingRefs, AmbiguousRefs int
	// RetiredIDs counts previous customer ids none of whose records is
	// left; they get no merge row.
	RetiredIDs int
}

// Path walks from record i to its customer's anchor: the first link is
// i's own, the last the anchor's. It is nil when i is out of range.
func (r *Result) Path(i int) []Link {
	var p []Link
	for i >= 0 && i < len(r.recs) && len(p) <= len(r.recs) {
		l := r.link(i)
		p = append(p, l)
		i = l.Via
	}
	return p
}

// Find returns the number of the record ref.
func (r *Result) Find(ref RecordRef) (int, bool) {
	return sort.Find(len(r.recs), func(i int) int { return CompareRefs(ref, r.Ref(i)) })
}

// CompareRefs orders records as a Result numbers them: by source,
// stream, then key.
func CompareRefs(a, b RecordRef) int {
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	if c := strings.Compare(a.Stream, b.Stream); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}

// CustomerID is the id of a customer anchored at ref.
func CustomerID(ref RecordRef) string {
	var buf [128]byte
	sum := sha256.Sum256(append(append(append(append(append(buf[:0], ref.Source...), 0), ref.Stream...), 0), ref.Key...))
	var id [2 + 16]byte
	id[0], id[1] = 'c', '_'
	hex.Encode(id[2:], sum[:8])
	return string(id[:])
}

// Previous is what an earlier resolution assigned: the customer id of
// each record it saw. Resolve uses it to record merges.
type Previous interface {
	// Len is the number of records.
	Len() int
	// Lookup returns the customer id the record had, "" if it was not
	// seen. The string may share memory with more than it: a caller
	// that keeps it long should clone it.
	Lookup(RecordRef) string
	// Each calls fn with every customer id of the previous run, each at
	// least once (once per record, say, or once per customer). fn must
	// not keep the string without cloning it.
	Each(fn func(customerID string))
}

// PreviousMap is a Previous held in a map.
type PreviousMap map[RecordRef]string

func (m PreviousMap) Len() int                  { return len(m) }
func (m PreviousMap) Lookup(r RecordRef) string { return m[r] }
func (m PreviousMap) Each(fn func(string)) {
	for _, id := range m {
		fn(id)
	}
}
