// Package eval measures how well identity resolution found the people
// behind the records: it compares the customers of a snapshot's
// identity_link table with a ground truth that names each record's
// person (desilo gen writes one).
//
// The figures are pairwise: a pair of records is found when both records
// joined one customer, and true when both belong to one person.
// Precision is true found pairs over found pairs, recall true found
// pairs over true pairs. Pairs are counted from the contingency table of
// (customer, person) cells, Σ C(n,2), never enumerated, so a snapshot of
// millions of records takes one pass. A ratio whose denominator is zero
// (no pair found, or no pair to find) is 1: nothing was claimed wrongly,
// or nothing was there to miss.
//
// Only records present in both the truth and the snapshot are compared;
// records in only one of them are counted per source/stream and
// reported, never silently dropped.
package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Key names a source record: source/stream/record_key.
type Key struct{ Source, Stream, RecordKey string }

func (k Key) group() string { return k.Source + "/" + k.Stream }

// ReadTruth reads a ground-truth CSV with the header
// source,stream,record_key,person_id (in any column order; other columns
// are ignored). name is used in errors. A record listed twice with two
// persons is an error; listed twice with the same person, once.
func ReadTruth(r io.Reader, name string) (map[Key]string, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("truth %s: empty file, want a header source,stream,record_key,person_id", name)
		}
		return nil, fmt.Errorf("truth %s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	var idx [4]int
	for i, want := range []string{"source", "stream", "record_key", "person_id"} {
		c, ok := col[want]
		if !ok {
			return nil, fmt.Errorf("truth %s: header has no column %q (want source,stream,record_key,person_id)", name, want)
		}
		idx[i] = c
	}
	out := map[Key]string{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("truth %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		k := Key{rec[idx[0]], rec[idx[1]], rec[idx[2]]}
		person := rec[idx[3]]
		if k.Source == "" || k.Stream == "" || k.RecordKey == "" || person == "" {
			return nil, fmt.Errorf("truth %s:%d: source, stream, record_key and person_id must not be empty", name, line)
		}
		if prev, ok := out[k]; ok && prev != person {
			return nil, fmt.Errorf("truth %s:%d: record %s/%s/%s is given to person %s and, earlier, to person %s",
				name, line, k.Source, k.Stream, k.RecordKey, person, prev)
		}
		out[k] = person
	}
}

// Report is the outcome of a comparison.
type Report struct {
	// Records in both the truth and the snapshot: the ones compared.
	Records int `json:"records"`
	// TruthOnly and SnapshotOnly count the records in only one of the two,
	// per source/stream; their totals are MissingFromSnapshot and NotInTruth.
	MissingFromSnapshot int            `json:"missing_from_snapshot"`
	NotInTruth          int            `json:"not_in_truth"`
	TruthOnly           map[string]int `json:"truth_only,omitempty"`
	SnapshotOnly        map[string]int `json:"snapshot_only,omitempty"`

	People      int `json:"people"`       // true people among the compared records
	Customers   int `json:"customers"`    // customers among the compared records
	OverMerged  int `json:"over_merged"`  // customers holding records of more than one person
	UnderMerged int `json:"under_merged"` // people whose records are split over more than one customer
	Exact       int `json:"exact"`        // customers holding exactly one person's records, all of them

	TruePairs  int64 `json:"true_pairs"`  // pairs of records of one person
	FoundPairs int64 `json:"found_pairs"` // pairs of records of one customer
	Correct    int64 `json:"correct_pairs"`

	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Compare compares the customers links assigns (record → customer id)
// with the truth (record → person id).
func Compare(truth, links map[Key]string) *Report {
	rep := &Report{TruthOnly: map[string]int{}, SnapshotOnly: map[string]int{}}
	type cell struct{ customer, person string }
	cells := map[cell]int64{}
	perCustomer := map[string]int64{}
	perPerson := map[string]int64{}
	for k, person := range truth {
		customer, ok := links[k]
		if !ok {
			rep.MissingFromSnapshot++
			rep.TruthOnly[k.group()]++
			continue
		}
		rep.Records++
		cells[cell{customer, person}]++
		perCustomer[customer]++
		perPerson[person]++
	}
	for k := range links {
		if _, ok := truth[k]; !ok {
			rep.NotInTruth++
			rep.SnapshotOnly[k.group()]++
		}
	}
	rep.People, rep.Customers = len(perPerson), len(perCustomer)

	peopleOf := map[string]int{}    // customer → how many people
	customersOf := map[string]int{} // person → how many customers
	for c, n := range cells {
		rep.Correct += pairs(n)
		peopleOf[c.customer]++
		customersOf[c.person]++
	}
	for c, n := range perCustomer {
		rep.FoundPairs += pairs(n)
		if peopleOf[c] > 1 {
			rep.OverMerged++
		}
	}
	for p, n := range perPerson {
		rep.TruePairs += pairs(n)
		if customersOf[p] > 1 {
			rep.UnderMerged++
		}
	}
	for c, n := range cells {
		if peopleOf[c.customer] == 1 && customersOf[c.person] == 1 && n == perCustomer[c.customer] {
			rep.Exact++
		}
	}
	rep.Precision = ratio(rep.Correct, rep.FoundPairs)
	rep.Recall = ratio(rep.Correct, rep.TruePairs)
	if rep.Precision+rep.Recall > 0 {
		rep.F1 = 2 * rep.Precision * rep.Recall / (rep.Precision + rep.Recall)
	}
	return rep
}

func pairs(n int64) int64 { return n * (n - 1) / 2 }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// WriteText writes the report as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "records compared     %d\n", r.Records)
	fmt.Fprintf(&b, "true people          %d\n", r.People)
	fmt.Fprintf(&b, "customers found      %d (%d exactly one person, all of their records)\n", r.Customers, r.Exact)
	fmt.Fprintf(&b, "over-merged          %d customers hold records of more than one person\n", r.OverMerged)
	fmt.Fprintf(&b, "under-merged         %d people are split over more than one customer\n", r.UnderMerged)
	fmt.Fprintf(&b, "pairs                %d true, %d found, %d correct\n", r.TruePairs, r.FoundPairs, r.Correct)
	fmt.Fprintf(&b, "precision            %.4f\n", r.Precision)
	fmt.Fprintf(&b, "recall               %.4f\n", r.Recall)
	fmt.Fprintf(&b, "F1                   %.4f\n", r.F1)
	writeGroups(&b, "only in the truth", "records of the truth missing from the snapshot", r.MissingFromSnapshot, r.TruthOnly)
	writeGroups(&b, "only in the snapshot", "records of the snapshot the truth does not name", r.NotInTruth, r.SnapshotOnly)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeGroups(b *strings.Builder, label, what string, total int, groups map[string]int) {
	fmt.Fprintf(b, "%-20s %d %s\n", label, total, what)
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		fmt.Fprintf(b, "  %-30s %d\n", g, groups[g])
	}
}
