// Package explain answers "who is this customer, and why are these
// records one person?" from a published snapshot: the profile, its source
// records, and the chain of keys that joined each record to the anchor.
package explain

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/normalize"
	"github.com/desilo/desilo/core/sink/parquet"
)

// ErrNoCustomer says nothing in the snapshot matches the query.
var ErrNoCustomer = errors.New("no customer matches")

// Customer is one explained customer.
type Customer struct {
	Profile map[string]any // the customer row by column
	Links   []Link         // the customer's records, in snapshot order
	Merged  []string       // previous customer ids absorbed into this one
	// Via is the chain of merges from the id asked for to this customer
	// (the asked id first), when the id asked for was absorbed.
	Via []string
}

// Link is one source record of the customer and how it joined.
type Link struct {
	Record   string // source/stream/record_key
	Entity   string
	Rule     string // anchor, customer_ref or match_key
	Key      string
	Value    string
	LinkedTo string // the record it joined through; empty for the anchor
}

// Find looks a customer up in the current snapshot under outDir by
// customer id, email address or phone number, normalized as rules' keys
// normalize them.
func Find(outDir, query string, rules identity.Rules) ([]Customer, error) {
	dir, m, err := parquet.Current(outDir)
	if err != nil {
		return nil, fmt.Errorf("no snapshot yet (run desilo sync first): %w", err)
	}
	q := strings.TrimSpace(query)
	keys := emailKeys(q, rules.Keys)
	linked, err := linkedBy(dir, m, keys)
	if err != nil {
		return nil, err
	}
	merges, err := readMerges(dir, m)
	if err != nil {
		return nil, err
	}
	// An absorbed id asks for the customer its merges lead to.
	via := chain(merges, q)
	id := via[len(via)-1]
	if len(via) == 1 {
		via = nil
	}
	ct := model.MustLoad("customer")
	match := matcher(ct, q, rules.DefaultRegion, keys, linked)
	idCol, _ := ct.Index("customer_id")
	var found []Customer
	idFound := false
	err = parquet.ReadTable(dir, m, ct, func(row []any) error {
		// An id is exact and unique: when a row has it, the query's
		// reading as a phone number (which many ids have) finds no more.
		isID := row[idCol] == id
		if !isID && (idFound || !match(row)) {
			return nil
		}
		if isID {
			found, idFound = found[:0], true
		}
		c := Customer{Profile: map[string]any{}}
		if isID {
			c.Via = via
		}
		for i, col := range ct.Columns {
			c.Profile[col.Name] = row[i]
		}
		found = append(found, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w %q in %s", ErrNoCustomer, query, dir)
	}
	byID := map[string]*Customer{}
	for i := range found {
		byID[found[i].Profile["customer_id"].(string)] = &found[i]
	}
	lt := model.MustLoad("identity_link")
	get := func(row []any, name string) string {
		i, _ := lt.Index(name)
		s, _ := row[i].(string)
		return s
	}
	err = parquet.ReadTable(dir, m, lt, func(row []any) error {
		c := byID[get(row, "customer_id")]
		if c == nil {
			return nil
		}
		c.Links = append(c.Links, Link{
			Record: get(row, "source") + "/" + get(row, "stream") + "/" + get(row, "record_key"),
			Entity: get(row, "entity"), Rule: get(row, "rule"), Key: get(row, "key"),
			Value: get(row, "value"), LinkedTo: get(row, "linked_to"),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for absorbed := range merges {
		if c := byID[follow(merges, absorbed)]; c != nil {
			c.Merged = append(c.Merged, absorbed) // also through a chain of merges
		}
	}
	for _, c := range found {
		slices.Sort(c.Merged)
	}
	return found, nil
}

// chain follows id through merges: id, the id it gave way to, and so on
// to a customer's.
func chain(merges map[string]string, id string) []string {
	ids := []string{id}
	for next, ok := merges[id]; ok && !slices.Contains(ids, next); next, ok = merges[next] {
		ids = append(ids, next)
	}
	return ids
}

func follow(merges map[string]string, id string) string {
	c := chain(merges, id)
	return c[len(c)-1]
}

// readMerges returns the snapshot's merges as absorbed → surviving id.
func readMerges(dir string, m parquet.Manifest) (map[string]string, error) {
	out := map[string]string{}
	if _, ok := m.Tables["merge"]; !ok {
		return out, nil
	}
	mt := model.MustLoad("merge")
	ai, _ := mt.Index("absorbed_id")
	si, _ := mt.Index("surviving_id")
	err := parquet.ReadTable(dir, m, mt, func(row []any) error {
		out[row[ai].(string)] = row[si].(string)
		return nil
	})
	return out, err
}

// emailKey is an email match key and the query normalized with its
// provider rules (strip_plus, strip_dots): the value the key gave the
// customer's records, which the customer's emails list need not hold.
type emailKey struct {
	name, field string
	opt         normalize.EmailOptions
	value       string
}

func emailKeys(q string, keys []identity.Key) []emailKey {
	if !strings.Contains(q, "@") {
		return nil
	}
	var out []emailKey
	for _, k := range keys {
		if len(k.Composite) > 0 || k.LimitOnly {
			continue
		}
		name, field := k.Normalize, k.Field
		if field == "" {
			field = k.Name
		}
		if name == "" {
			name = identity.DefaultNormalizer(field)
		}
		if name != "email" {
			continue
		}
		opt := normalize.EmailOptions{StripDots: k.EmailStripDots, StripPlus: k.EmailStripPlus}
		if v, ok := normalize.Email(q, opt); ok {
			out = append(out, emailKey{k.Name, field, opt, v})
		}
	}
	return out
}

// linkedBy returns the ids of the customers with a record that joined
// through one of keys' values.
func linkedBy(dir string, m parquet.Manifest, keys []emailKey) (map[string]bool, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	lt := model.MustLoad("identity_link")
	idx := func(name string) int { i, _ := lt.Index(name); return i }
	cust, rule, key, value := idx("customer_id"), idx("rule"), idx("key"), idx("value")
	ids := map[string]bool{}
	err := parquet.ReadTable(dir, m, lt, func(row []any) error {
		if row[rule] != "match_key" {
			return nil
		}
		for _, k := range keys {
			if row[key] == k.name && row[value] == k.value {
				c, _ := row[cust].(string)
				ids[c] = true
			}
		}
		return nil
	})
	return ids, err
}

// matcher returns the test a customer row must pass for the query q: its
// id or an id in linked, or one of its emails or phone numbers, normalized
// as the match keys normalize them.
func matcher(ct *model.Table, q, region string, keys []emailKey, linked map[string]bool) func([]any) bool {
	idx := func(name string) int { i, _ := ct.Index(name); return i }
	id, emails, phones := idx("customer_id"), idx("emails"), idx("phones")
	email, isEmail := "", false
	if strings.Contains(q, "@") {
		email, isEmail = normalize.Email(q, normalize.EmailOptions{})
	}
	// The emails list holds the email field's addresses; keys on that field
	// with provider rules also match them by their key value, since a
	// customer of one record has no link that holds it.
	keys = slices.DeleteFunc(slices.Clone(keys), func(k emailKey) bool {
		return k.field != "email" || k.opt == normalize.EmailOptions{}
	})
	// Anything else may be a phone number in a spelling only the phone
	// normalizer knows (tel: URIs, extensions, full-width digits, NBSP).
	phone, isPhone := "", false
	if !strings.Contains(q, "@") {
		phone, isPhone = normalize.Phone(q, region)
	}
	return func(row []any) bool {
		if cid, _ := row[id].(string); cid == q || linked[cid] {
			return true
		}
		if isEmail {
			l, _ := row[emails].([]string)
			if slices.Contains(l, email) {
				return true
			}
			for _, k := range keys {
				for _, e := range l {
					if v, _ := normalize.Email(e, k.opt); v == k.value {
						return true
					}
				}
			}
		}
		if isPhone {
			if l, _ := row[phones].([]string); slices.Contains(l, phone) {
				return true
			}
		}
		return false
	}
}

// Print writes a customer for a person: the profile, then the records as
// a tree rooted at the anchor, each under the record it joined through.
func Print(w io.Writer, c Customer) {
	fmt.Fprintf(w, "customer %v\n", c.Profile["customer_id"])
	ct := model.MustLoad("customer")
	for _, col := range ct.Columns {
		v := c.Profile[col.Name]
		if col.Name == "customer_id" || isEmpty(v) {
			continue
		}
		fmt.Fprintf(w, "  %-26s %s\n", col.Name, format(v, col.Type))
	}
	if len(c.Merged) > 0 {
		fmt.Fprintf(w, "  %-26s %s\n", "absorbed ids", strings.Join(c.Merged, ", "))
	}
	if len(c.Via) > 0 {
		fmt.Fprintf(w, "  %-26s %s\n", "asked for", strings.Join(c.Via, " → merged into "))
	}
	fmt.Fprintf(w, "\n%d records, and why they are one customer:\n", len(c.Links))
	children := map[string][]Link{}
	var roots []Link
	for _, l := range c.Links {
		if l.LinkedTo == "" {
			roots = append(roots, l)
		} else {
			children[l.LinkedTo] = append(children[l.LinkedTo], l)
		}
	}
	var walk func(l Link, prefix string, last bool, depth int)
	walk = func(l Link, prefix string, last bool, depth int) {
		branch, next := "", ""
		if depth > 0 {
			branch, next = "├─ ", "│  "
			if last {
				branch, next = "└─ ", "   "
			}
		}
		fmt.Fprintf(w, "  %s%s%s (%s)  %s\n", prefix, branch, l.Record, l.Entity, why(l))
		kids := children[l.Record]
		for i, k := range kids {
			walk(k, prefix+next, i == len(kids)-1, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, "", true, 0)
	}
}

func why(l Link) string {
	switch l.Rule {
	case "anchor":
		return "anchor: the earliest record; the customer id derives from it"
	case "customer_ref":
		return "names its customer record: customer_ref = " + l.Value
	}
	return fmt.Sprintf("shares %s = %s", l.Key, l.Value)
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []string:
		return len(x) == 0
	case string:
		return x == ""
	}
	return false
}

func format(v any, t model.Type) string {
	switch x := v.(type) {
	case time.Time:
		if t == model.Date {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339)
	case []string:
		return strings.Join(x, ", ")
	case float64:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprint(v)
}
