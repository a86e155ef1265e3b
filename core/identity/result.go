package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// Result is the outcome of a resolution. Link and report values are
// substrings of one buffer holding every normalized value, which stays in
// memory while any of them does.
type Result struct {
	// Records holds one assignment per record, sorted by (Source,
	// Stream, Key); Link.Record and Link.Via index this slice.
	Records []Assignment
	// Added maps the order records were added in (Add, AddBatch) to
	// their position in Records: Records[Added[i]] is the i-th record
	// added. It saves callers that kept records in that order a search.
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

// Assignment is one record's customer and the link that joined it.
type Assignment struct {
	RecordRef
	CustomerID string
	Link       Link
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
// Survivor.
type Merge struct{ Absorbed, Survivor string }

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
	for i >= 0 && i < len(r.Records) && len(p) <= len(r.Records) {
		p = append(p, r.Records[i].Link)
		i = r.Records[i].Link.Via
	}
	return p
}

// Find returns the index of the record ref in Records.
func (r *Result) Find(ref RecordRef) (int, bool) {
	return slices.BinarySearchFunc(r.Records, ref, func(a Assignment, ref RecordRef) int {
		return CompareRefs(a.RecordRef, ref)
	})
}

// CompareRefs orders records as Result.Records are: by source, stream,
// then key.
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
	h := sha256.New()
	h.Write([]byte(ref.Source))
	h.Write([]byte{0})
	h.Write([]byte(ref.Stream))
	h.Write([]byte{0})
	h.Write([]byte(ref.Key))
	var sum [sha256.Size]byte
	return "c_" + hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// Previous is what an earlier resolution assigned: the customer id of
// each record it saw. Resolve uses it to record merges.
type Previous interface {
	// Len is the number of records.
	Len() int
	// Lookup returns the customer id the record had, "" if it was not
	// seen.
	Lookup(RecordRef) string
	// Each calls fn with each record's customer id.
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
