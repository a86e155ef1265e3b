package pipeline

import (
	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
)

// Rules of an identity link: how a record joined its customer.
const (
	RuleAnchor      = "anchor"       // the record the customer id derives from
	RuleCustomerRef = "customer_ref" // the record names its customer record
	RuleMatchKey    = "match_key"    // the record shares a key's value
)

// linkRows emits one identity_link row per record, in the result's order
// (source, stream, record_key), reusing one row.
func (b *builder) linkRows(emit func([]any) error) error {
	t := model.MustLoad("identity_link")
	entity := make([]string, b.result.Len())
	for _, r := range b.records {
		entity[r.assign] = b.sets[r.set].entity
	}
	idx := func(name string) int { return col(t, name) }
	cSource, cStream, cKey, cEntity, cCust := idx("source"), idx("stream"), idx("record_key"), idx("entity"), idx("customer_id")
	cLinkKey, cValue, cRule, cTo := idx("key"), idx("value"), idx("rule"), idx("linked_to")
	row := make([]any, len(t.Columns))
	for i := range b.result.Len() {
		a := b.result.Record(i)
		clear(row)
		row[cSource], row[cStream], row[cKey] = a.Source, a.Stream, a.Key
		row[cEntity], row[cCust] = entity[i], a.CustomerID
		switch a.Link.Key {
		case identity.AnchorKey:
			row[cRule] = RuleAnchor
		case identity.RefKey:
			row[cRule], row[cLinkKey], row[cValue] = RuleCustomerRef, "customer_ref", a.Link.Value
		default:
			row[cRule], row[cLinkKey], row[cValue] = RuleMatchKey, a.Link.Key, a.Link.Value
		}
		if v := a.Link.Via; v >= 0 && v < b.result.Len() {
			via := b.result.Ref(v)
			row[cTo] = via.Source + "/" + via.Stream + "/" + via.Key
		}
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

// mergeRows records each previous customer id absorbed into another.
func (b *builder) mergeRows() [][]any {
	t := model.MustLoad("merge")
	now := b.opts.Now().UTC()
	var rows [][]any
	for _, m := range b.result.Merges {
		row := make([]any, len(t.Columns))
		row[col(t, "absorbed_id")] = m.Absorbed
		row[col(t, "surviving_id")] = m.Survivor
		row[col(t, "run_id")] = b.opts.RunID
		row[col(t, "merged_at")] = now
		row[col(t, "reason")] = "records of both customers now share a match key; the older customer id survives"
		rows = append(rows, row)
	}
	return rows
}
