package identity

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

var propRules = Rules{
	Keys: []Key{
		{Name: "hubspot_contact_id", Field: "ids.hubspot_contact_id", Normalize: "none"},
		{Name: "email", UseDefaultBlocklist: true, MaxRecordsPerValue: 8},
		{Name: "phone", UseDefaultBlocklist: true, MaxRecordsPerValue: 4},
		{Name: "name_dob_zip", Composite: []string{"last_name", "birth_date", "postal_code"}},
	},
	Limits:        []Limit{{ID: "hubspot_contact_id", MaxPerCustomer: 1}},
	DefaultRegion: "DE",
}

// randomRecords makes a messy data set: people with several records in
// several sources, spelling variants, shared family phones, role and
// placeholder mailboxes, CRM duplicates that a limit must keep apart,
// orders that reference their customer, and many ties on Seen.
func randomRecords(rng *rand.Rand, people int) []Record {
	sources := []string{"crm", "shop", "desk", "legacy"}
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	var recs []Record
	for p := 0; p < people; p++ {
		email := fmt.Sprintf("person%d@example%d.de", p, p%7)
		phone := fmt.Sprintf("0171 %07d", 2000000+p/3) // families of three share a phone
		for r := 0; r < 1+rng.IntN(3); r++ {
			src := sources[rng.IntN(len(sources))]
			f := map[string][]string{}
			switch rng.IntN(4) {
			case 0:
				f["email"] = []string{pick(email, " "+email+" ", fmt.Sprintf("PERSON%d@Example%d.de", p, p%7))}
			case 1:
				f["email"] = []string{pick("info@acme.de", "test@test.com", "n/a", email)}
			}
			if rng.IntN(2) == 0 {
				f["phone"] = []string{pick(phone, "+49 171 "+phone[5:], "0000000", "030 901820")}
			}
			if rng.IntN(3) == 0 {
				f["last_name"] = []string{pick("Müller", "MÜLLER", "Meier")}
				f["birth_date"] = []string{pick("1980-02-29", "29.02.1980")}
				f["postal_code"] = []string{pick("10115", "80331")}
			}
			if src == "crm" {
				f["ids.hubspot_contact_id"] = []string{fmt.Sprint(1000 + rng.IntN(people))}
			}
			key := fmt.Sprintf("p%d-r%d", p, r)
			recs = append(recs, Record{
				Source: src, Stream: "contacts", Key: key, Entity: "customer",
				Seen: day(rng.IntN(5)), Fields: f,
			})
			if rng.IntN(2) == 0 {
				recs = append(recs, Record{
					Source: src, Stream: "orders", Key: key + "-o", Entity: "order",
					Seen: day(rng.IntN(5)), Ref: pick(key, "missing"),
					Fields: map[string][]string{"email": f["email"]},
				})
			}
		}
	}
	return recs
}

// serialize prints what a result says, for comparison: every assignment,
// merges, reports and counts. Not Added: that maps the input order, which
// differs on purpose; nor the internal numbering of names and values.
func serialize(res *Result) string {
	return fmt.Sprintf("%+v\n%+v\n%+v\n%+v\n%+v", records(res), res.Merges, res.Values, res.Refusals, res.Counts)
}

func TestShuffledInputGivesSameResult(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		recs := randomRecords(rng, 150)
		// A previous run over part of the data gives merges to compare.
		prevRes, err := Resolve(context.Background(), recs[:len(recs)/2], propRules, nil)
		if err != nil {
			t.Fatal(err)
		}
		prev := previousOf(prevRes)
		base, err := Resolve(context.Background(), recs, propRules, prev)
		if err != nil {
			t.Fatal(err)
		}
		if base.Counts.Refused == 0 || base.Counts.Blocked == 0 || base.Counts.TooCommon == 0 || base.Counts.Links[RefKey] == 0 || base.Counts.Merges == 0 {
			t.Fatalf("seed %d: the data set does not exercise every rule: %+v", seed, base.Counts)
		}
		want := serialize(base)
		for round := 0; round < 3; round++ {
			shuffled := append([]Record(nil), recs...)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got, err := Resolve(context.Background(), shuffled, propRules, prev)
			if err != nil {
				t.Fatal(err)
			}
			if s := serialize(got); s != want {
				t.Fatalf("seed %d round %d: shuffled input gave a different result\n got %.400s\nwant %.400s", seed, round, s, want)
			}
		}
	}
}

func TestResolveIsIdempotent(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		recs := randomRecords(rand.New(rand.NewPCG(seed, 11)), 150)
		first, err := Resolve(context.Background(), recs, propRules, nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Resolve(context.Background(), recs, propRules, previousOf(first))
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Merges) != 0 || again.Counts.RetiredIDs != 0 {
			t.Errorf("seed %d: resolving again gave merges %+v, %d retired", seed, again.Merges, again.Counts.RetiredIDs)
		}
		if serialize(again) != serialize(first) {
			t.Errorf("seed %d: resolving again changed the result", seed)
		}
	}
}

// TestPathsReachAnchors checks the explanation forest on random data:
// every path ends at its customer's anchor, stays in the customer, and
// each step names a key both records hold.
func TestPathsReachAnchors(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(3, 3)), 200)
	res, err := Resolve(context.Background(), recs, propRules, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range records(res) {
		p := res.Path(i)
		last := p[len(p)-1]
		if last.Key != AnchorKey || res.Record(last.Record).CustomerID != a.CustomerID {
			t.Fatalf("record %d: path %+v does not end at its anchor", i, p)
		}
		if CustomerID(res.Record(last.Record).RecordRef) != a.CustomerID {
			t.Fatalf("record %d: customer id %s is not its anchor's", i, a.CustomerID)
		}
		for _, l := range p[:len(p)-1] {
			if l.Value == "" || res.Record(l.Via).CustomerID != a.CustomerID {
				t.Fatalf("record %d: bad step %+v", i, l)
			}
		}
	}
}

// TestAddMatchesAddBatch: adding one by one and in parallel batches gives
// the same result.
func TestAddMatchesAddBatch(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(5, 5)), 400)
	ix, err := NewIndex(propRules)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := ix.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	one, err := ix.Resolve(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := Resolve(context.Background(), recs, propRules, nil)
	if err != nil {
		t.Fatal(err)
	}
	if serialize(one) != serialize(batch) {
		t.Error("Add and AddBatch gave different results")
	}
}

// Added points from each record, in the order it was added, to its
// assignment, whatever that order.
func TestAddedMapsAddOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	recs := randomRecords(rng, 300)
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	ix, err := NewIndex(propRules)
	if err != nil {
		t.Fatal(err)
	}
	half := len(recs) / 2
	for _, r := range recs[:half] {
		if err := ix.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.AddBatch(context.Background(), recs[half:]); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Resolve(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != len(recs) {
		t.Fatalf("Added has %d entries for %d records", len(res.Added), len(recs))
	}
	for i, r := range recs {
		want := RecordRef{r.Source, r.Stream, r.Key}
		if got := res.Record(int(res.Added[i])).RecordRef; got != want {
			t.Fatalf("record %d added: Added points to %v, want %v", i, got, want)
		}
	}
}

// Records that give their raw values by position (Values, as the build
// does) resolve exactly like the same records giving them by name
// (Fields), composite keys with several values a part included.
func TestValuesByPositionResolveLikeFields(t *testing.T) {
	ix, err := NewIndex(propRules)
	if err != nil {
		t.Fatal(err)
	}
	fields := ix.Fields()
	if want := []string{"ids.hubspot_contact_id", "email", "phone", "last_name", "birth_date", "postal_code"}; fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Fatalf("Fields() = %v, want %v", fields, want)
	}
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 9))
		byName := randomRecords(rng, 150)
		byPos := make([]Record, len(byName))
		for i, r := range byName {
			if ln := r.Fields["last_name"]; len(ln) > 0 && i%5 == 0 {
				r.Fields["last_name"] = append(ln, "Schulz") // two values: every combination
			}
			if bd := r.Fields["birth_date"]; len(bd) > 0 && i%7 == 0 {
				r.Fields["birth_date"] = append(bd, bd[0]) // the same value twice
			}
			p := r
			p.Fields = nil
			p.Values = make([][]string, len(fields))
			for k, f := range fields {
				p.Values[k] = r.Fields[f]
			}
			byPos[i] = p
		}
		want, err := Resolve(context.Background(), byName, propRules, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Resolve(context.Background(), byPos, propRules, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s, w := serialize(got), serialize(want); s != w {
			t.Fatalf("seed %d: by position\n %.600s\nby name\n %.600s", seed, s, w)
		}
	}
}
