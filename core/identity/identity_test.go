package identity

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// day returns a first-seen time d days after t0.
func day(d int) time.Time { return t0.AddDate(0, 0, d) }

func cust(source, key string, seen int, fields ...string) Record {
	r := Record{Source: source, Stream: "contacts", Key: key, Entity: "customer", Seen: day(seen), Fields: map[string][]string{}}
	for i := 0; i+1 < len(fields); i += 2 {
		r.Fields[fields[i]] = append(r.Fields[fields[i]], fields[i+1])
	}
	return r
}

var emailPhone = Rules{
	Keys: []Key{
		{Name: "email", UseDefaultBlocklist: true},
		{Name: "phone", MaxRecordsPerValue: 10, UseDefaultBlocklist: true},
	},
	DefaultRegion: "DE",
}

func mustResolve(t *testing.T, recs []Record, rules Rules, prev Previous) *Result {
	t.Helper()
	res, err := Resolve(context.Background(), recs, rules, prev)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return res
}

// idOf returns the customer id of source/contacts/key.
func idOf(t *testing.T, res *Result, source, key string) string {
	t.Helper()
	i, ok := res.Find(RecordRef{source, "contacts", key})
	if !ok {
		t.Fatalf("record %s/%s not in result", source, key)
	}
	return res.Record(i).CustomerID
}

// records lists every assignment of res, in order.
func records(res *Result) []Assignment {
	out := make([]Assignment, res.Len())
	for i := range out {
		out[i] = res.Record(i)
	}
	return out
}

// clusters renders the partition as sorted groups of record keys, e.g.
// "a b | c".
func clusters(res *Result) string {
	by := map[string][]string{}
	for _, a := range records(res) {
		by[a.CustomerID] = append(by[a.CustomerID], a.Key)
	}
	var gs []string
	for _, g := range by {
		sort.Strings(g)
		gs = append(gs, strings.Join(g, " "))
	}
	sort.Strings(gs)
	return strings.Join(gs, " | ")
}

func TestKeys(t *testing.T) {
	composite := Rules{Keys: []Key{{Name: "name_dob_zip", Composite: []string{"last_name", "birth_date", "postal_code"}, UseDefaultBlocklist: true}}}
	tests := []struct {
		name  string
		rules Rules
		recs  []Record
		want  string
	}{
		{"email case and space", emailPhone, []Record{
			cust("crm", "a", 1, "email", "Jane@Acme.org"),
			cust("shop", "b", 2, "email", " jane@acme.ORG "),
			cust("shop", "c", 3, "email", "john@acme.org"),
		}, "a b | c"},
		{"phone formats", emailPhone, []Record{
			cust("crm", "a", 1, "phone", "0171 1234568"),
			cust("shop", "b", 2, "phone", "+49 (171) 123-45-68"),
			cust("shop", "c", 3, "phone", "0171 1234569"),
		}, "a b | c"},
		{"phone extensions: one switchboard, two people", emailPhone, []Record{
			cust("crm", "a", 1, "phone", "+49 30 901820 ext. 12"),
			cust("shop", "b", 2, "phone", "030 901820 ext. 13"),
			cust("desk", "c", 3, "phone", "+4930901820;ext=12"),
			cust("desk", "d", 4, "phone", "030 901820"),
		}, "a c | b | d"},
		{"transitive through two keys", emailPhone, []Record{
			cust("crm", "a", 1, "email", "jane@acme.org"),
			cust("shop", "b", 2, "email", "jane@acme.org", "phone", "0171 1234568"),
			cust("desk", "c", 3, "phone", "+491711234568"),
		}, "a b c"},
		{"list values", emailPhone, []Record{
			cust("crm", "a", 1, "email", "work@acme.org", "email", "home@acme.org"),
			cust("shop", "b", 2, "email", "home@acme.org"),
		}, "a b"},
		{"invalid values link nothing", emailPhone, []Record{
			cust("crm", "a", 1, "email", "not an email", "phone", "12"),
			cust("shop", "b", 2, "email", "not an email", "phone", "12"),
		}, "a | b"},
		{"placeholder number with an extension", emailPhone, []Record{
			cust("crm", "a", 1, "phone", "+49 2345678 ext. 1"),
			cust("shop", "b", 2, "phone", "+49 2345678 ext. 1"),
		}, "a | b"},
		{"composite needs every part", composite, []Record{
			cust("crm", "a", 1, "last_name", "MÜLLER", "birth_date", "1980-02-29", "postal_code", "10115"),
			cust("shop", "b", 2, "last_name", "müller", "birth_date", "29.02.1980", "postal_code", " 10115"),
			cust("shop", "c", 3, "last_name", "Müller", "birth_date", "1980-02-29"),
			cust("shop", "d", 4, "last_name", "Müller", "birth_date", "1980-03-01", "postal_code", "10115"),
		}, "a b | c | d"},
		{"composite with several values per part", composite, []Record{
			cust("crm", "a", 1, "last_name", "Doe", "birth_date", "1980-01-02", "postal_code", "10115", "postal_code", "80331"),
			cust("shop", "b", 2, "last_name", "Doe", "birth_date", "1980-01-02", "postal_code", "80331"),
		}, "a b"},
		{"composite placeholder part", composite, []Record{
			cust("crm", "a", 1, "last_name", "unknown", "birth_date", "1980-01-02", "postal_code", "10115"),
			cust("shop", "b", 2, "last_name", "Unknown", "birth_date", "1980-01-02", "postal_code", "10115"),
		}, "a | b"},
		{"explicit field and normalizer", Rules{Keys: []Key{{Name: "hubspot", Field: "ids.hubspot_contact_id", Normalize: "none"}}}, []Record{
			cust("crm", "a", 1, "ids.hubspot_contact_id", "X1"),
			cust("shop", "b", 2, "ids.hubspot_contact_id", "X1"),
			cust("shop", "c", 3, "ids.hubspot_contact_id", "x1"),
		}, "a b | c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clusters(mustResolve(t, tt.recs, tt.rules, nil)); got != tt.want {
				t.Errorf("clusters = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAnchorAndLinks(t *testing.T) {
	recs := []Record{
		cust("shop", "b", 5, "email", "jane@acme.org"),
		cust("crm", "a", 3, "email", "Jane@acme.org"),
		cust("desk", "c", 3, "email", "jane@acme.org"),
		{Source: "desk", Stream: "contacts", Key: "d", Entity: "customer", Fields: map[string][]string{"email": {"jane@acme.org"}}},
	}
	res := mustResolve(t, recs, emailPhone, nil)
	// a and c tie on Seen; crm < desk breaks the tie. d's unknown Seen
	// sorts last.
	want := CustomerID(RecordRef{"crm", "contacts", "a"})
	for _, a := range records(res) {
		if a.CustomerID != want {
			t.Errorf("%s: customer %s, want %s", a.Key, a.CustomerID, want)
		}
	}
	i, _ := res.Find(RecordRef{"crm", "contacts", "a"})
	if l := res.Record(i).Link; l.Key != AnchorKey || l.Via != -1 {
		t.Errorf("anchor link = %+v", l)
	}
	j, _ := res.Find(RecordRef{"shop", "contacts", "b"})
	if l := res.Record(j).Link; l.Key != "email" || l.Value != "jane@acme.org" || l.Via != i {
		t.Errorf("b's link = %+v, want email jane@acme.org via %d", l, i)
	}
	if got := (Counts{Records: 4, Customers: 1, Links: map[string]int{"anchor": 1, "email": 3}}); !reflect.DeepEqual(res.Counts, got) {
		t.Errorf("counts = %+v, want %+v", res.Counts, got)
	}
	if !strings.HasPrefix(want, "c_") || len(want) != 18 {
		t.Errorf("id %q is not c_ + 16 hex digits", want)
	}
}

func TestRef(t *testing.T) {
	order := func(source, key, ref string) Record {
		return Record{Source: source, Stream: "orders", Key: key, Entity: "order", Seen: day(9), Ref: ref}
	}
	recs := []Record{
		cust("shop", "42", 2),
		cust("crm", "42", 1),
		order("shop", "o1", "42"),
		order("shop", "o2", "42"),
		order("shop", "o3", "99"), // no customer 99 in shop
		cust("shop", "7", 3),
		{Source: "shop", Stream: "companies", Key: "7", Entity: "customer", Seen: day(4)},
		order("shop", "o4", "7"), // two shop customers have key 7
	}
	res := mustResolve(t, recs, emailPhone, nil)
	shopCust := CustomerID(RecordRef{"shop", "contacts", "42"})
	for _, k := range []string{"o1", "o2"} {
		i, _ := res.Find(RecordRef{"shop", "orders", k})
		if a := res.Record(i); a.CustomerID != shopCust || a.Link.Key != RefKey || a.Link.Value != "42" {
			t.Errorf("%s: %+v, want ref 42 to %s", k, a, shopCust)
		}
	}
	if idOf(t, res, "crm", "42") == shopCust {
		t.Error("a ref joined a customer of another source")
	}
	i, _ := res.Find(RecordRef{"shop", "orders", "o3"})
	if res.Record(i).Link.Key != AnchorKey {
		t.Errorf("dangling ref o3 linked: %+v", res.Record(i).Link)
	}
	if res.Counts.DanglingRefs != 1 {
		t.Errorf("DanglingRefs = %d, want 1", res.Counts.DanglingRefs)
	}
	i, _ = res.Find(RecordRef{"shop", "orders", "o4"})
	j, _ := res.Find(RecordRef{"shop", "companies", "7"})
	if res.Record(i).Link.Key != AnchorKey || res.Record(j).CustomerID == idOf(t, res, "shop", "7") {
		t.Errorf("ambiguous ref linked: o4 %+v", res.Record(i))
	}
	want := []ValueReport{{Key: RefKey, Value: "shop/7", Reason: ReasonAmbiguous, Records: 1}}
	if !reflect.DeepEqual(res.Values, want) || res.Counts.AmbiguousRefs != 1 {
		t.Errorf("values = %+v, AmbiguousRefs %d; want %+v", res.Values, res.Counts.AmbiguousRefs, want)
	}
}

// TestRefBeforeKeys: the ref rule is applied first, so under a limit it
// wins over a key.
func TestRefBeforeKeys(t *testing.T) {
	rules := Rules{
		Keys:   []Key{{Name: "email"}, {Name: "crm_id", Normalize: "none"}},
		Limits: []Limit{{ID: "crm_id", MaxPerCustomer: 1}},
	}
	recs := []Record{
		cust("crm", "1", 1, "crm_id", "1"),
		cust("crm", "2", 2, "crm_id", "2", "email", "jane@acme.org"),
		{Source: "crm", Stream: "deals", Key: "d", Entity: "order", Seen: day(3), Ref: "1", Fields: map[string][]string{"email": {"jane@acme.org"}}},
	}
	res := mustResolve(t, recs, rules, nil)
	i, _ := res.Find(RecordRef{"crm", "deals", "d"})
	if a := res.Record(i); a.Link.Key != RefKey || a.CustomerID != idOf(t, res, "crm", "1") {
		t.Errorf("deal = %+v, want joined by ref to crm/1", a)
	}
	if len(res.Refusals) != 1 || res.Refusals[0].Key != "email" || res.Refusals[0].Limit != "crm_id" {
		t.Errorf("refusals = %+v, want the email union refused by crm_id", res.Refusals)
	}
}

func TestBlocklist(t *testing.T) {
	rules := Rules{Keys: []Key{
		{Name: "email", UseDefaultBlocklist: true},
		{Name: "customer_no", Normalize: "lower", Blocklist: []string{"K-0"}, UseDefaultBlocklist: true},
	}}
	recs := []Record{
		cust("crm", "a", 1, "email", "info@acme.de", "customer_no", "k-0"),
		cust("shop", "b", 2, "email", "INFO@acme.de", "customer_no", "K-0"),
		cust("desk", "c", 3, "email", "n/a", "customer_no", "n/a"),
		cust("desk", "d", 4, "email", "test@test.com", "customer_no", "N/A"),
		cust("desk", "e", 5, "email", "test@test.com"),
	}
	res := mustResolve(t, recs, rules, nil)
	if got := clusters(res); got != "a | b | c | d | e" {
		t.Errorf("clusters = %q, want every record alone", got)
	}
	want := []ValueReport{
		// email values in hash order, then customer_no values.
		{Key: "email", Value: "info@acme.de", Reason: ReasonBlocklisted, Records: 2},
		{Key: "email", Value: "test@test.com", Reason: ReasonBlocklisted, Records: 2},
		{Key: "customer_no", Value: "k-0", Reason: ReasonBlocklisted, Records: 2},
		{Key: "customer_no", Value: "n/a", Reason: ReasonBlocklisted, Records: 2},
	}
	if got := sortedValues(res.Values); !reflect.DeepEqual(got, sortedValues(want)) {
		t.Errorf("values = %+v, want %+v", got, want)
	}
	// Without the default blocklist only the explicit entry holds.
	rules.Keys[0].UseDefaultBlocklist = false
	rules.Keys[1].UseDefaultBlocklist = false
	if got := clusters(mustResolve(t, recs, rules, nil)); got != "a b | c d e" {
		t.Errorf("without defaults: clusters = %q", got)
	}
}

func sortedValues(vs []ValueReport) []ValueReport {
	out := append([]ValueReport(nil), vs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key+out[i].Value < out[j].Key+out[j].Value })
	return out
}

func TestTooCommon(t *testing.T) {
	family := func(n int) []Record {
		var recs []Record
		for i := 0; i < n; i++ {
			recs = append(recs, cust("shop", fmt.Sprintf("r%02d", i), i, "phone", "030 901820"))
		}
		return recs
	}
	res := mustResolve(t, family(11), emailPhone, nil)
	if res.Counts.Customers != 11 {
		t.Errorf("11 records sharing a phone with limit 10: %d customers, want 11", res.Counts.Customers)
	}
	want := []ValueReport{{Key: "phone", Value: "+4930901820", Reason: ReasonTooCommon, Records: 11}}
	if !reflect.DeepEqual(res.Values, want) || res.Counts.TooCommon != 1 {
		t.Errorf("values = %+v (count %d), want %+v", res.Values, res.Counts.TooCommon, want)
	}
	res = mustResolve(t, family(10), emailPhone, nil)
	if res.Counts.Customers != 1 || len(res.Values) != 0 {
		t.Errorf("10 records sharing a phone: %d customers, reports %+v; want 1 customer, none", res.Counts.Customers, res.Values)
	}
	// Records repeating one value count once.
	recs := family(10)
	recs[0].Fields["phone"] = append(recs[0].Fields["phone"], "+49 30 901820")
	if res := mustResolve(t, recs, emailPhone, nil); res.Counts.Customers != 1 {
		t.Errorf("a repeated value counted twice: %d customers", res.Counts.Customers)
	}
}

func TestLimit(t *testing.T) {
	rules := Rules{
		Keys: []Key{
			{Name: "email"},
			{Name: "hubspot_contact_id", Field: "ids.hubspot_contact_id", Normalize: "none"},
		},
		Limits: []Limit{{ID: "hubspot_contact_id", MaxPerCustomer: 1}},
	}
	recs := []Record{
		cust("crm", "1", 1, "ids.hubspot_contact_id", "101", "email", "jane@acme.org"),
		cust("crm", "2", 2, "ids.hubspot_contact_id", "102", "email", "jane@acme.org"),
		cust("shop", "s", 3, "email", "jane@acme.org", "ids.hubspot_contact_id", "101"),
	}
	res := mustResolve(t, recs, rules, nil)
	if got := clusters(res); got != "1 s | 2" {
		t.Errorf("clusters = %q, want 1 s | 2", got)
	}
	want := []Refusal{{
		Limit: "hubspot_contact_id", Max: 1, Key: "email", Value: "jane@acme.org",
		Records:   [2]int{0, 1},
		Customers: [2]string{idOf(t, res, "crm", "1"), idOf(t, res, "crm", "2")},
	}}
	if !reflect.DeepEqual(res.Refusals, want) || res.Counts.Refused != 1 {
		t.Errorf("refusals = %+v, want %+v", res.Refusals, want)
	}
	// With room for two ids the union goes through.
	rules.Limits[0].MaxPerCustomer = 2
	if res := mustResolve(t, recs, rules, nil); res.Counts.Customers != 1 || len(res.Refusals) != 0 {
		t.Errorf("limit 2: %d customers, refusals %+v", res.Counts.Customers, res.Refusals)
	}
}

func TestBridgeMerge(t *testing.T) {
	a := cust("crm", "a", 1, "email", "jane@acme.org")
	b := cust("shop", "b", 2, "phone", "0171 1234568")
	first := mustResolve(t, []Record{a, b}, emailPhone, nil)
	p1, p2 := idOf(t, first, "crm", "a"), idOf(t, first, "shop", "b")
	if p1 == p2 {
		t.Fatal("a and b joined without a bridge")
	}
	bridge := cust("desk", "c", 3, "email", "JANE@acme.org", "phone", "+491711234568")
	res := mustResolve(t, []Record{a, b, bridge}, emailPhone, previousOf(first))
	for _, k := range []RecordRef{{"crm", "contacts", "a"}, {"shop", "contacts", "b"}, {"desk", "contacts", "c"}} {
		i, _ := res.Find(k)
		if res.Record(i).CustomerID != p1 {
			t.Errorf("%v: customer %s, want the older id %s", k, res.Record(i).CustomerID, p1)
		}
	}
	if want := []Merge{{Absorbed: p2, Survivor: p1, Cause: MergeJoined}}; !reflect.DeepEqual(res.Merges, want) {
		t.Errorf("merges = %+v, want %+v", res.Merges, want)
	}
}

// A new record seen before a customer's anchor joins the customer: the id
// now derives from it, and the merge row says so.
func TestEarlierRecordMerge(t *testing.T) {
	a := cust("crm", "a", 5, "email", "jane@acme.org")
	b := cust("shop", "b", 6, "email", "jane@acme.org")
	first := mustResolve(t, []Record{a, b}, emailPhone, nil)
	old := idOf(t, first, "crm", "a")
	earlier := cust("desk", "c", 1, "email", "JANE@acme.org")
	res := mustResolve(t, []Record{a, b, earlier}, emailPhone, previousOf(first))
	now := CustomerID(RecordRef{"desk", "contacts", "c"})
	if got := idOf(t, res, "crm", "a"); got != now {
		t.Fatalf("customer %s, want the earlier record's id %s", got, now)
	}
	if want := []Merge{{Absorbed: old, Survivor: now, Cause: MergeEarlierRecord}}; !reflect.DeepEqual(res.Merges, want) {
		t.Errorf("merges = %+v, want %+v", res.Merges, want)
	}
}

// countingPrevious counts the lookups made in it.
type countingPrevious struct {
	PreviousMap
	lookups int
}

func (c *countingPrevious) Lookup(r RecordRef) string {
	c.lookups++
	return c.PreviousMap.Lookup(r)
}

// A run in which every previous id lives on looks up no record's previous
// id: there is nothing to merge or retire. One in which an id is gone
// looks them up, and merges.
func TestMergeLooksUpOnlyWhenAnIDIsGone(t *testing.T) {
	a := cust("crm", "a", 1, "email", "jane@acme.org")
	b := cust("shop", "b", 2, "phone", "0171 1234568")
	first := mustResolve(t, []Record{a, b}, emailPhone, nil)
	same := &countingPrevious{PreviousMap: previousOf(first)}
	c := cust("desk", "c", 3, "email", "jane@acme.org") // joins a: no id changes
	res := mustResolve(t, []Record{a, b, c}, emailPhone, same)
	if same.lookups != 0 || len(res.Merges) != 0 || res.Counts.RetiredIDs != 0 {
		t.Errorf("no id gone: %d lookups, merges %+v, %d retired", same.lookups, res.Merges, res.Counts.RetiredIDs)
	}
	bridged := &countingPrevious{PreviousMap: previousOf(first)}
	bridge := cust("desk", "c", 3, "email", "jane@acme.org", "phone", "+491711234568")
	res = mustResolve(t, []Record{a, b, bridge}, emailPhone, bridged)
	if bridged.lookups != 3 || len(res.Merges) != 1 {
		t.Errorf("an id gone: %d lookups (want 3), merges %+v", bridged.lookups, res.Merges)
	}
}

func previousOf(res *Result) PreviousMap {
	m := PreviousMap{}
	for _, a := range records(res) {
		m[a.RecordRef] = a.CustomerID
	}
	return m
}

func TestSplit(t *testing.T) {
	a := cust("crm", "a", 1, "email", "jane@acme.org")
	b := cust("shop", "b", 2, "email", "jane@acme.org", "phone", "0171 1234568")
	c := cust("desk", "c", 3, "phone", "0171 1234568")
	first := mustResolve(t, []Record{a, b, c}, emailPhone, nil)
	p := idOf(t, first, "crm", "a")
	if first.Counts.Customers != 1 {
		t.Fatalf("setup: %d customers", first.Counts.Customers)
	}

	t.Run("record changed", func(t *testing.T) {
		b2 := cust("shop", "b", 2, "email", "other@acme.org", "phone", "0171 1234568")
		res := mustResolve(t, []Record{a, b2, c}, emailPhone, previousOf(first))
		if got := idOf(t, res, "crm", "a"); got != p {
			t.Errorf("the part with the old anchor: %s, want %s", got, p)
		}
		want := CustomerID(RecordRef{"shop", "contacts", "b"})
		if got, got2 := idOf(t, res, "shop", "b"), idOf(t, res, "desk", "c"); got != want || got2 != want {
			t.Errorf("the split-off part: %s, %s; want %s", got, got2, want)
		}
		if len(res.Merges) != 0 {
			t.Errorf("merges = %+v, want none", res.Merges)
		}
	})
	t.Run("anchor removed", func(t *testing.T) {
		res := mustResolve(t, []Record{b, c}, emailPhone, previousOf(first))
		want := CustomerID(RecordRef{"shop", "contacts", "b"})
		if got := idOf(t, res, "desk", "c"); got != want {
			t.Errorf("customer %s, want %s", got, want)
		}
		if m := []Merge{{Absorbed: p, Survivor: want, Cause: MergeAnchorGone}}; !reflect.DeepEqual(res.Merges, m) {
			t.Errorf("merges = %+v, want %+v", res.Merges, m)
		}
	})
	t.Run("rule tightened", func(t *testing.T) {
		rules := Rules{Keys: emailPhone.Keys[:1], DefaultRegion: "DE"}
		res := mustResolve(t, []Record{a, b, c}, rules, previousOf(first))
		if got := clusters(res); got != "a b | c" {
			t.Errorf("clusters = %q", got)
		}
		if idOf(t, res, "crm", "a") != p || len(res.Merges) != 0 {
			t.Errorf("a: %s (want %s), merges %+v", idOf(t, res, "crm", "a"), p, res.Merges)
		}
	})
	t.Run("all records gone", func(t *testing.T) {
		res := mustResolve(t, []Record{cust("x", "z", 1)}, emailPhone, previousOf(first))
		if res.Counts.RetiredIDs != 1 || len(res.Merges) != 0 {
			t.Errorf("RetiredIDs = %d, merges %+v; want 1, none", res.Counts.RetiredIDs, res.Merges)
		}
	})
}

func TestPath(t *testing.T) {
	recs := []Record{
		cust("crm", "a", 1, "email", "jane@acme.org"),
		cust("shop", "b", 2, "email", "jane@acme.org", "phone", "0171 1234568"),
		cust("desk", "c", 3, "phone", "0171 1234568"),
	}
	res := mustResolve(t, recs, emailPhone, nil)
	ia, _ := res.Find(RecordRef{"crm", "contacts", "a"})
	ib, _ := res.Find(RecordRef{"shop", "contacts", "b"})
	ic, _ := res.Find(RecordRef{"desk", "contacts", "c"})
	want := []Link{
		{Record: ic, Key: "phone", Value: "+491711234568", Via: ib},
		{Record: ib, Key: "email", Value: "jane@acme.org", Via: ia},
		{Record: ia, Key: AnchorKey, Via: -1},
	}
	if got := res.Path(ic); !reflect.DeepEqual(got, want) {
		t.Errorf("Path(c) = %+v, want %+v", got, want)
	}
	if got := res.Path(ia); len(got) != 1 || got[0].Key != AnchorKey {
		t.Errorf("Path(anchor) = %+v", got)
	}
	if got := res.Path(len(recs)); got != nil {
		t.Errorf("Path(out of range) = %+v, want nil", got)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules Rules
		want  string
	}{
		{"duplicate key", Rules{Keys: []Key{{Name: "email"}, {Name: "email"}}}, "used twice"},
		{"reserved name", Rules{Keys: []Key{{Name: "ref"}}}, "reserved"},
		{"unnamed", Rules{Keys: []Key{{Field: "email"}}}, "needs a name"},
		{"unknown normalizer", Rules{Keys: []Key{{Name: "email", Normalize: "soundex"}}}, "soundex"},
		{"bad region", Rules{Keys: []Key{{Name: "phone"}}, DefaultRegion: "Germany"}, "Germany"},
		{"one-part composite", Rules{Keys: []Key{{Name: "x", Composite: []string{"a"}}}}, "at least two"},
		{"field and composite", Rules{Keys: []Key{{Name: "x", Field: "a", Composite: []string{"a", "b"}}}}, "not both"},
		{"negative max", Rules{Keys: []Key{{Name: "email", MaxRecordsPerValue: -1}}}, "negative"},
		{"limit of no key", Rules{Keys: []Key{{Name: "email"}}, Limits: []Limit{{ID: "crm_id", MaxPerCustomer: 1}}}, "names no key"},
		{"limit zero", Rules{Keys: []Key{{Name: "email"}}, Limits: []Limit{{ID: "email"}}}, "at least 1"},
	}
	for _, tt := range tests {
		if _, err := NewIndex(tt.rules); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	recs := []Record{cust("crm", "a", 1), cust("crm", "a", 2)}
	if _, err := Resolve(context.Background(), recs, emailPhone, nil); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate record: error %v", err)
	}
	if _, err := Resolve(context.Background(), []Record{{Source: "crm"}}, emailPhone, nil); err == nil {
		t.Error("record without key: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Resolve(ctx, []Record{cust("crm", "a", 1)}, emailPhone, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: error %v", err)
	}
	ix, _ := NewIndex(emailPhone)
	if _, err := ix.Resolve(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Resolve(context.Background(), nil); err == nil {
		t.Error("second Resolve: no error")
	}
}

func TestPlaceholder(t *testing.T) {
	tests := []struct {
		norm, value string
		want        bool
	}{
		{"email", "info@acme.de", true},
		{"email", "noreply@shop.example.com", true},
		{"email", "no-reply@acme.de", true},
		{"email", "kontakt+web@acme.de", true},
		{"email", "test@test.com", true},
		{"email", "a@a.com", true},
		{"email", "none@none.com", true},
		{"email", "jane@example.com", true},
		{"email", "jane@acme.test", true},
		{"email", "jane@acme.de", false},
		{"email", "information.desk.jane@acme.de", false},
		{"phone", "+4911111111", true},
		{"phone", "+491234567", true},
		{"phone", "+490123456789", true},
		{"phone", "+49987654321", true},
		{"phone", "+49987654321;ext=12", true},
		{"phone", "+491711234568;ext=12", false},
		{"phone", "+491711234568", false},
		{"phone", "+14155552671", false},
		{"name", "n/a", true},
		{"name", "unknown", true},
		{"name", "müller", false},
		{"lower", "0000", true},
		{"lower", "-", true},
		{"lower", "k-100", false},
		{"postal_code", "00000", true},
		{"postal_code", "10115", false},
		{"date", "1900-01-01", true},
		{"date", "1980-02-29", false},
	}
	for _, tt := range tests {
		if got := Placeholder(tt.norm, tt.value); got != tt.want {
			t.Errorf("Placeholder(%q, %q) = %v, want %v", tt.norm, tt.value, got, tt.want)
		}
	}
}

func TestDefaultNormalizer(t *testing.T) {
	tests := map[string]string{
		"email": "email", "emails": "email", "contact.email_address": "email",
		"phone": "phone", "mobile_phone": "phone", "birth_date": "date", "postal_code": "postal_code",
		"addresses[].zip": "postal_code", "country": "country", "last_name": "name", "name": "name",
		"ids.hubspot_contact_id": "lower", "dob": "date", "date_of_birth": "date", "zipcode": "postal_code",
		// Words, not substrings.
		"ids.adobe_id": "lower", "ids.candidate_id": "lower", "nickname": "name", "ids.update_token": "lower",
	}
	for f, want := range tests {
		if got := DefaultNormalizer(f); got != want {
			t.Errorf("DefaultNormalizer(%q) = %q, want %q", f, got, want)
		}
	}
}

// Keys lent by the caller give the same result as keys the index copies,
// records added in batches and out of canonical order; a lent key that is
// not the record's, or lending after Add, is refused.
// Customers lists each customer id once, and Customer numbers each
// record's customer in it.
func TestCustomers(t *testing.T) {
	var recs []Record
	for i := range 300 {
		recs = append(recs, cust([]string{"shop", "crm"}[i%2], fmt.Sprintf("k-%03d", i), i%17,
			"email", fmt.Sprintf("p%d@kundenpost.de", i%70)))
	}
	res := mustResolve(t, recs, emailPhone, nil)
	ids := res.Customers()
	if len(ids) != res.Counts.Customers || len(ids) != 70 {
		t.Fatalf("%d customer ids, counts say %d, want 70", len(ids), res.Counts.Customers)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("customer id %s listed twice", id)
		}
		seen[id] = true
	}
	for i := range res.Len() {
		if got, want := ids[res.Customer(i)], res.CustomerOf(i); got != want {
			t.Fatalf("record %d: Customers()[Customer(i)] = %s, CustomerOf = %s", i, got, want)
		}
	}
}

// TestCustomerIDPinned pins ids to values computed outside Go (Python's
// hashlib: "c_" and the first 8 bytes of SHA-256 of source NUL stream NUL
// key, in hex): ids must survive any rewrite of CustomerID, or every
// customer would change id on the next run.
func TestCustomerIDPinned(t *testing.T) {
	for _, c := range []struct {
		ref  RecordRef
		want string
	}{
		{RecordRef{"crm", "contacts", "1"}, "c_fd0b5159e2c743b8"},
		{RecordRef{"shop", "customers", strings.Repeat("k", 200)}, "c_f0fad5d8cec4561c"}, // longer than the stack buffer
	} {
		if got := CustomerID(c.ref); got != c.want {
			t.Errorf("CustomerID(%v) = %s, want %s", c.ref, got, c.want)
		}
	}
}

// A record holding more values of a limited key than allowed is kept as
// it is, and still joins records that add no value.
func TestLimitOverfullRecordStillJoins(t *testing.T) {
	rules := Rules{Keys: []Key{{Name: "email"}, {Name: "hubspot", Field: "ids.hubspot", Normalize: "none"}},
		Limits: []Limit{{ID: "hubspot", MaxPerCustomer: 1}}}
	c := cust("crm", "1", 1, "ids.hubspot", "101", "ids.hubspot", "102", "email", "jane@acme.org")
	deal := Record{Source: "crm", Stream: "deals", Key: "d1", Entity: "order", Seen: day(2), Ref: "1"}
	shop := cust("shop", "s", 3, "email", "jane@acme.org")
	desk := cust("zdesk", "z", 4, "email", "jane@acme.org", "ids.hubspot", "101")
	other := cust("zdesk", "y", 5, "email", "jane@acme.org", "ids.hubspot", "103")
	res := mustResolve(t, []Record{c, deal, shop, desk, other}, rules, nil)
	if got := clusters(res); got != "1 d1 s z | y" {
		t.Errorf("clusters = %q, want %q (y would add a third hubspot id)", got, "1 d1 s z | y")
	}
	if res.Counts.Refused != 1 {
		t.Errorf("%d refusals, want 1 (y)", res.Counts.Refused)
	}
}

// A record a limit keeps from the first holder of a value joins another
// holder it can, whatever the sources' names.
func TestLimitTriesEveryClusterOfAValue(t *testing.T) {
	rules := Rules{Keys: []Key{{Name: "email"}, {Name: "crm", Field: "ids.crm", Normalize: "none"}, {Name: "erp", Field: "ids.erp", Normalize: "none"}},
		Limits: []Limit{{ID: "crm", MaxPerCustomer: 1}, {ID: "erp", MaxPerCustomer: 1}}}
	for _, second := range []string{"b", "0b"} {
		r1 := cust("a", "r1", 1, "email", "jane@acme.org", "ids.crm", "Y", "ids.erp", "P")
		r2 := cust(second, "r2", 2, "email", "jane@acme.org", "ids.crm", "X")
		r3 := cust("c", "r3", 3, "email", "jane@acme.org", "ids.erp", "Q")
		res := mustResolve(t, []Record{r1, r2, r3}, rules, nil)
		if got := clusters(res); got != "r1 | r2 r3" {
			t.Errorf("r2 from source %q: clusters = %q, want %q", second, got, "r1 | r2 r3")
		}
		if res.Counts.Refused != 1 {
			t.Errorf("r2 from source %q: %d refusals, want 1 (r2 or r3 with r1)", second, res.Counts.Refused)
		}
	}
}

// The too-common limit counts the customer records holding a value: a
// customer's many orders, which carry its email, do not make it too
// common. A value held by no customer record counts all its records.
func TestTooCommonCountsCustomerRecords(t *testing.T) {
	rules := Rules{Keys: []Key{{Name: "email", MaxRecordsPerValue: 5}}}
	recs := []Record{cust("crm", "c1", 1, "email", "jane@acme.org"), cust("shop", "s1", 2, "email", "jane@acme.org")}
	for i := range 10 {
		recs = append(recs,
			Record{Source: "shop", Stream: "orders", Key: fmt.Sprintf("o%02d", i), Entity: "order", Seen: day(3 + i), Ref: "s1",
				Fields: map[string][]string{"email": {"jane@acme.org"}}},
			Record{Source: "mail", Stream: "messages", Key: fmt.Sprintf("m%02d", i), Entity: "message", Seen: day(3 + i),
				Fields: map[string][]string{"email": {"noreply@shop.example"}}})
	}
	res := mustResolve(t, recs, rules, nil)
	if res.Counts.Customers != 11 {
		t.Errorf("%d customers, want 11: jane's records as one, and the ten messages of a sender no customer has apart", res.Counts.Customers)
	}
	if res.Counts.TooCommon != 1 || len(res.Values) != 1 || res.Values[0].Value != "noreply@shop.example" || res.Values[0].Records != 10 {
		t.Errorf("reports %+v, want noreply@shop.example too common with 10 records", res.Values)
	}
}

// A blocklist entry blocks a value of a key kept as written (normalizer
// none) in any case.
func TestBlocklistCaseWithNone(t *testing.T) {
	rules := Rules{Keys: []Key{{Name: "crm", Field: "ids.crm", Normalize: "none", Blocklist: []string{"unknown-id"}}}}
	recs := []Record{cust("a", "1", 1, "ids.crm", "UNKNOWN-ID"), cust("b", "2", 2, "ids.crm", "UNKNOWN-ID"),
		cust("c", "3", 3, "ids.crm", "K-7"), cust("d", "4", 4, "ids.crm", "K-7")}
	if got := clusters(mustResolve(t, recs, rules, nil)); got != "1 | 2 | 3 4" {
		t.Errorf("clusters = %q, want %q", got, "1 | 2 | 3 4")
	}
}

// A "|" inside a composite's part does not make two different pairs of
// parts one value.
func TestCompositePartsWithSeparator(t *testing.T) {
	rules := Rules{Keys: []Key{{Name: "k", Composite: []string{"first_name", "last_name"}}}}
	a := cust("a", "a", 1, "first_name", "Anna|Maria", "last_name", "Schmidt")
	b := cust("b", "b", 2, "first_name", "Anna", "last_name", "Maria|Schmidt")
	c := cust("c", "c", 3, "first_name", "Anna|Maria", "last_name", "Schmidt")
	if got := clusters(mustResolve(t, []Record{a, b, c}, rules, nil)); got != "a c | b" {
		t.Errorf("clusters = %q, want %q", got, "a c | b")
	}
}

// Na is a surname, not a placeholder, for a name part of a composite key.
func TestSurnameNaIsNoPlaceholder(t *testing.T) {
	rules := Rules{Keys: []Key{{Name: "k", Composite: []string{"last_name", "birth_date", "postal_code"}, UseDefaultBlocklist: true}}}
	recs := []Record{cust("a", "1", 1, "last_name", "Na", "birth_date", "1985-03-04", "postal_code", "10115"),
		cust("b", "2", 2, "last_name", "NA", "birth_date", "04.03.1985", "postal_code", "10115"),
		cust("c", "3", 3, "last_name", "n/a", "birth_date", "1985-03-04", "postal_code", "10115"),
		cust("d", "4", 4, "last_name", "n/a", "birth_date", "1985-03-04", "postal_code", "10115")}
	if got := clusters(mustResolve(t, recs, rules, nil)); got != "1 2 | 3 | 4" {
		t.Errorf("clusters = %q, want %q (n/a stays a placeholder)", got, "1 2 | 3 | 4")
	}
}
