package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/parquet"
)

// Rules of an identity link: how a record joined its customer.
const (
	RuleAnchor      = "anchor"       // the record the customer id derives from
	RuleCustomerRef = "customer_ref" // the record names its customer record
	RuleMatchKey    = "match_key"    // the record shares a key's value
)

// writeLinks returns a writer of one identity_link row per record, in the
// result's order (source, stream, record_key). It reads b.records now:
// the writer runs while groups are loaded, which changes their rows. The
// writer keeps the result; the build drops it before profiles.
func (b *builder) writeLinks() func(context.Context, *parquet.Writer) error {
	res := b.result
	setOf := make([]int32, res.Len())
	for _, r := range b.records {
		setOf[r.assign] = r.set
	}
	return func(ctx context.Context, w *parquet.Writer) error {
		return b.links(ctx, w, res, setOf)
	}
}

// links writes the identity_link rows of res; setOf holds each record's
// staged set, in the result's order.
func (b *builder) links(ctx context.Context, w *parquet.Writer, res *identity.Result, setOf []int32) error {
	t := model.MustLoad("identity_link")
	idx := func(name string) int { return col(t, name) }
	cSource, cStream, cKey, cEntity, cCust := idx("source"), idx("stream"), idx("record_key"), idx("entity"), idx("customer_id")
	cLinkKey, cValue, cRule, cTo, cAt := idx("key"), idx("value"), idx("rule"), idx("linked_to"), idx("linked_at")
	since, err := previousLinkTimes(ctx, b.prevSnap, b.opts.Now().UTC())
	if err != nil {
		return err
	}
	defer since.close()
	var to []byte
	for i := range res.Len() {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		a := res.Record(i)
		at, err := since.of(identity.RecordRef{Source: a.Source, Stream: a.Stream, Key: a.Key}, a.CustomerID)
		if err != nil {
			return fmt.Errorf("previous identity links: %w", err)
		}
		w.SetTime(cAt, at)
		w.SetString(cSource, a.Source)
		w.SetString(cStream, a.Stream)
		w.SetString(cKey, a.Key)
		w.SetString(cEntity, b.sets[setOf[i]].entity)
		w.SetString(cCust, a.CustomerID)
		switch a.Link.Key {
		case identity.AnchorKey:
			w.SetString(cRule, RuleAnchor)
		case identity.RefKey:
			w.SetString(cRule, RuleCustomerRef)
			w.SetString(cLinkKey, "customer_ref")
			w.SetString(cValue, a.Link.Value)
		default:
			w.SetString(cRule, RuleMatchKey)
			w.SetString(cLinkKey, a.Link.Key)
			w.SetString(cValue, a.Link.Value)
		}
		if v := a.Link.Via; v >= 0 && v < res.Len() {
			via := res.Ref(v)
			to = append(append(append(append(append(to[:0], via.Source...), '/'), via.Stream...), '/'), via.Key...)
			w.SetBytes(cTo, to)
		}
		if err := w.EndRow(); err != nil {
			return err
		}
	}
	return nil
}

// linkTimes gives each identity link its linked_at: the previous
// snapshot's, when the record belonged to the same customer there, else
// the build's time. It walks the previous links beside the new ones, both
// in (source, stream, record_key) order. Links of another order (not
// desilo's) stop the walk: the records after that point take the build's
// time.
type linkTimes struct {
	c    *linkCursor // nil: no previous links to walk
	on   bool        // c is on a link
	last identity.RecordRef
	now  time.Time
	at   int // the linked_at column
}

func previousLinkTimes(ctx context.Context, ps previousSnapshot, now time.Time) (*linkTimes, error) {
	l := &linkTimes{now: now, at: col(linkTable, "linked_at")}
	files := ps.files(linkTable.Name)
	if len(files) == 0 {
		return l, nil
	}
	l.c = newCursor(ctx, files, linkTable, "source", "stream", "record_key", "customer_id", "linked_at")
	on, err := l.c.next()
	l.on = on
	return l, err
}

// of returns the linked_at of record r, which belongs to customer now.
// Calls come in (source, stream, record_key) order.
func (l *linkTimes) of(r identity.RecordRef, customer string) (time.Time, error) {
	for l.c != nil && l.on {
		ref := l.c.ref()
		c := identity.CompareRefs(r, ref)
		if c < 0 {
			break
		}
		if c == 0 {
			if l.c.customer() == customer {
				if t, ok := l.c.rows.Time(l.c.i, l.at); ok {
					return t, nil
				}
			}
			break
		}
		l.last = ref
		var err error
		if l.on, err = l.c.next(); err != nil {
			return time.Time{}, err
		}
		if l.on && identity.CompareRefs(l.c.ref(), l.last) < 0 {
			l.close() // not in order: give up the walk
		}
	}
	return l.now, nil
}

func (l *linkTimes) close() {
	if l.c != nil {
		l.c.close()
		l.c = nil
	}
}

// mergeReasons say in words why a customer id gave way, by cause.
var mergeReasons = map[identity.MergeCause]string{
	identity.MergeJoined:        "records of both customers now share a match key; the older customer id survives",
	identity.MergeEarlierRecord: "a record seen before the customer's first record joined it; the customer id now derives from that record",
	identity.MergeAnchorGone:    "the record the customer id derived from is gone; the customer's other records now carry the id of their earliest remaining record",
}

// mergeRows records each previous customer id absorbed into another: this
// build's merges, and the earlier builds' from the previous snapshot, so
// that the table maps every id that ever gave way (follow surviving_id
// while it is itself an absorbed_id). An earlier row is dropped when its
// absorbed id is a customer again (a split gave its anchor back) or
// gives way again in this build, whose row replaces it.
func (b *builder) mergeRows() [][]any {
	t := mergeTable
	absorbed := col(t, "absorbed_id")
	now := b.opts.Now().UTC()
	var rows [][]any
	replaced := map[string]bool{}
	for _, m := range b.result.Merges {
		row := make([]any, len(t.Columns))
		row[absorbed] = m.Absorbed
		row[col(t, "surviving_id")] = m.Survivor
		row[col(t, "run_id")] = b.opts.RunID
		row[col(t, "merged_at")] = now
		row[col(t, "reason")] = mergeReasons[m.Cause]
		rows = append(rows, row)
		replaced[m.Absorbed] = true
	}
	if len(b.prevMerges) == 0 {
		return rows
	}
	earlier := make(map[string]bool, len(b.prevMerges))
	for _, r := range b.prevMerges {
		earlier[r[absorbed].(string)] = true
	}
	for _, id := range b.result.Customers() {
		if earlier[id] {
			replaced[id] = true // alive again
		}
	}
	for _, r := range b.prevMerges {
		if !replaced[r[absorbed].(string)] {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(x, y []any) int { return strings.Compare(x[absorbed].(string), y[absorbed].(string)) })
	return rows
}

var mergeTable = model.MustLoad("merge")

// previousMerges reads the previous snapshot's merge rows; none when
// there is no snapshot or it has no merge table (one written before the
// table existed).
func previousMerges(ps previousSnapshot) ([][]any, error) {
	if _, ok := ps.m.Tables[mergeTable.Name]; !ok {
		return nil, nil
	}
	var rows [][]any
	err := parquet.ReadTable(ps.dir, ps.m, mergeTable, func(row []any) error {
		if id, _ := row[col(mergeTable, "absorbed_id")].(string); id == "" {
			return fmt.Errorf("a merge row without absorbed_id")
		}
		rows = append(rows, slices.Clone(row))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("previous merges in %s: %w", ps.dir, err)
	}
	return rows, nil
}
