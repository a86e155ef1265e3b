package profile

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/normalize"
)

// rule is a compiled survivorship rule.
type rule struct {
	kind     config.Rule
	priority []string
}

func compile(r config.FieldRule) rule {
	switch r.Rule {
	case config.SourcePriority, config.MostFrequent:
		return rule{kind: r.Rule, priority: r.SourcePriority}
	}
	return rule{kind: config.MostRecent}
}

// kind says what a scalar field holds and how most_frequent compares it.
type kind uint8

const (
	kindName  kind = iota // a name: compared as normalize.Name
	kindLower             // a code such as a language: compared lowercased
	kindDate              // a date
	kindFlag              // a boolean
)

// scalar is a customer field copied from one surviving record.
type scalar struct {
	name    string
	kind    kind
	in, out int // column in customer_record, in customer
	rule    rule
}

// rec is a record taking part in survivorship.
type rec struct {
	t                   *base
	row                 Row
	source, stream, key string
	at                  time.Time // updated_at, else created_at; zero when neither
	email, phone        string    // normalized; "" when absent or invalid
}

// byRecency orders records most recent first, ties by (source, stream, key).
func byRecency(a, b rec) int {
	if c := b.at.Compare(a.at); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(a.source, b.source), strings.Compare(a.stream, b.stream), strings.Compare(a.key, b.key))
}

// freqCand is one record's value for most_frequent.
type freqCand struct {
	key  string
	rank int // position in the recency order
}

// pick returns the index of the surviving record in recs (sorted by
// byRecency) among those for which has is true, or -1 when none is.
// key gives the comparable value for most_frequent.
func (b *Builder) pick(recs []rec, r rule, has func(*rec) bool, key func(*rec) string) int {
	switch r.kind {
	case config.SourcePriority:
		for _, src := range r.priority {
			for i := range recs {
				if recs[i].source == src && has(&recs[i]) {
					return i
				}
			}
		}
	case config.MostFrequent:
		return b.mostFrequent(recs, has, key)
	}
	for i := range recs {
		if has(&recs[i]) {
			return i
		}
	}
	return -1
}

// mostFrequent sorts instead of counting in a map: no allocation per
// customer, and N log N for the rare customer with thousands of records.
func (b *Builder) mostFrequent(recs []rec, has func(*rec) bool, key func(*rec) string) int {
	b.freq = b.freq[:0]
	for i := range recs {
		if has(&recs[i]) {
			b.freq = append(b.freq, freqCand{key(&recs[i]), i})
		}
	}
	slices.SortFunc(b.freq, func(x, y freqCand) int {
		return cmp.Or(strings.Compare(x.key, y.key), cmp.Compare(x.rank, y.rank))
	})
	best, bestN := -1, 0
	for i := 0; i < len(b.freq); {
		j := i + 1
		for j < len(b.freq) && b.freq[j].key == b.freq[i].key {
			j++
		}
		// b.freq[i] is the group's most recent record.
		if n := j - i; n > bestN || n == bestN && b.freq[i].rank < best {
			best, bestN = b.freq[i].rank, n
		}
		i = j
	}
	return best
}

// survive fills the scalar fields, the address block, email and phone.
func (b *Builder) survive() {
	for i := range b.scalars {
		f := &b.scalars[i]
		has := func(r *rec) bool { return b.present(r, f.in, f.kind) }
		key := func(r *rec) string { return b.compareKey(r, f.in, f.kind) }
		if w := b.pick(b.crecs, f.rule, has, key); w >= 0 {
			r := &b.crecs[w]
			if f.kind == kindName || f.kind == kindLower {
				b.putStr(f.out, r.row.str(f.in))
			} else {
				b.copyCol(f.out, r.row, f.in)
			}
		}
	}
	b.surviveAddress()

	hasEmail := func(r *rec) bool { return r.email != "" }
	emailKey := func(r *rec) string { return r.email }
	w, recs := b.pick(b.crecs, b.email, hasEmail, emailKey), b.crecs
	if w < 0 {
		w, recs = b.pick(b.orecs, b.email, hasEmail, emailKey), b.orecs
	}
	primaryEmail := ""
	if w >= 0 {
		primaryEmail = recs[w].email
		b.putStr(b.out.email, primaryEmail)
	}
	b.putSet(b.out.emails, b.emails, primaryEmail)

	hasPhone := func(r *rec) bool { return r.phone != "" }
	phoneKey := func(r *rec) string { return r.phone }
	w, recs = b.pick(b.crecs, b.phone, hasPhone, phoneKey), b.crecs
	if w < 0 {
		w, recs = b.pick(b.orecs, b.phone, hasPhone, phoneKey), b.orecs
	}
	primaryPhone := ""
	if w >= 0 {
		primaryPhone = recs[w].phone
		b.putStr(b.out.phone, primaryPhone)
	}
	b.putSet(b.out.phones, b.phones, primaryPhone)
}

func (b *Builder) present(r *rec, col int, k kind) bool {
	switch k {
	case kindDate:
		return r.row.when(col).ok
	case kindFlag:
		return !r.row.Set.Null(r.row.I, col)
	}
	return r.row.str(col) != ""
}

func (b *Builder) compareKey(r *rec, col int, k kind) string {
	switch k {
	case kindDate:
		return r.row.when(col).t.Format(time.DateOnly)
	case kindFlag:
		if r.row.Set.Word(r.row.I, col) != 0 {
			return "t"
		}
		return "f"
	case kindLower:
		s, _ := normalize.Lower(r.row.str(col))
		return s
	}
	s, _ := normalize.Name(r.row.str(col))
	return s
}

// surviveAddress takes street, city, postal_code, region and country from
// one record: one with a street, city or postal code when there is one,
// else one with a region or country.
func (b *Builder) surviveAddress() {
	c := &b.cust
	local := func(r *rec) bool {
		return r.row.str(c.street) != "" || r.row.str(c.city) != "" || r.row.str(c.postal) != ""
	}
	coarse := func(r *rec) bool {
		return r.row.str(c.region) != "" || r.row.str(c.country) != ""
	}
	key := func(r *rec) string {
		street, _ := normalize.Name(r.row.str(c.street))
		city, _ := normalize.Name(r.row.str(c.city))
		postal, _ := normalize.PostalCode(r.row.str(c.postal))
		region, _ := normalize.Lower(r.row.str(c.region))
		return strings.Join([]string{street, city, postal, region, b.country(r)}, "\x00")
	}
	w := b.pick(b.crecs, b.address, local, key)
	if w < 0 {
		w = b.pick(b.crecs, b.address, coarse, key)
	}
	if w < 0 {
		return
	}
	r := &b.crecs[w]
	b.putStr(b.out.street, r.row.str(c.street))
	b.putStr(b.out.city, r.row.str(c.city))
	b.putStr(b.out.postal, r.row.str(c.postal))
	b.putStr(b.out.region, r.row.str(c.region))
	b.putStr(b.out.country, b.country(r))
}

// country is the record's country as an ISO 3166-1 alpha-2 code when
// known, else as written.
func (b *Builder) country(r *rec) string {
	s := r.row.str(b.cust.country)
	if code, ok := normalize.Country(s); ok {
		return code
	}
	return s
}
